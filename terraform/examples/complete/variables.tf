# ---- Required: the six values the README asks for ----

variable "gcp_project" {
  description = "Google Cloud project that runs the worker (and, by default, owns the source bucket)."
  type        = string
}

variable "gcp_region" {
  description = "Cloud Run region for the worker service and jobs, e.g. us-central1 (near the source bucket)."
  type        = string
}

variable "source_bucket" {
  description = "GCS bucket to replicate: its name alone, no URL scheme."
  type        = string
}

variable "image" {
  description = "The gcs2s3 image you built from this repository, e.g. us-central1-docker.pkg.dev/PROJECT/gcs2s3/gcs2s3:0.1.0."
  type        = string
}

variable "aws_region" {
  description = "AWS region of the destination bucket (and of the AWS provider)."
  type        = string
}

variable "s3_bucket" {
  description = "Destination S3 bucket. It must exist unless create_s3_bucket = true."
  type        = string
}

# ---- Optional ----

variable "name" {
  description = "Base name of every resource, on both clouds."
  type        = string
  default     = "gcs2s3"
}

variable "mode" {
  description = "\"pull\" (always-on worker on a pull subscription) or \"push\" (Pub/Sub pushes to the service, which scales to zero)."
  type        = string
  default     = "pull"
}

variable "source_prefix" {
  description = "Replicate only object names starting with this. Empty: the whole bucket."
  type        = string
  default     = ""
}

variable "s3_key_prefix" {
  description = "Prepended to each object name to form its S3 key; the role may write only under it."
  type        = string
  default     = ""
}

variable "create_s3_bucket" {
  description = "Create the destination bucket instead of using an existing one."
  type        = bool
  default     = false
}

variable "manage_s3_lifecycle_rule" {
  description = "Give the destination bucket a lifecycle configuration with one rule aborting incomplete multipart uploads. It REPLACES the bucket's lifecycle configuration: set false if the bucket already has lifecycle rules (and add such a rule there)."
  type        = bool
  default     = true
}

variable "replicate_deletes" {
  description = "Delete the S3 copy when the GCS object is deleted."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "KMS key of the destination bucket's SSE-KMS default encryption, if it has one."
  type        = string
  default     = null
}

variable "s3_storage_class" {
  description = "Storage class of every object written (STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, DEEP_ARCHIVE, ...). Default null: STANDARD."
  type        = string
  default     = null
}

variable "max_bytes_per_second" {
  description = "Per-process bandwidth limit of the service's instances and each backfill task (\"10M\" = 10 MiB/s). Default null: no limit."
  type        = string
  default     = null
}

variable "backfill_tasks" {
  description = "Parallel tasks of the backfill and verify jobs."
  type        = number
  default     = 1
}

variable "notification_channels" {
  description = "Cloud Monitoring notification channel ids for the alerts (projects/P/notificationChannels/N)."
  type        = list(string)
  default     = []
}

variable "lag_alert_seconds" {
  description = "Alert when replication lag (p99) or the oldest waiting notification exceeds this."
  type        = number
  default     = 900
}

variable "worker_env" {
  description = "More worker settings as environment variables (LOG_LEVEL, PART_SIZE_MIB, EXCLUDE_PREFIXES, ...)."
  type        = map(string)
  default     = {}
}
