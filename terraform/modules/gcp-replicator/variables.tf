# ---- Required ----

variable "project" {
  description = "Google Cloud project that runs the worker and holds the topics and subscriptions."
  type        = string
}

variable "region" {
  description = "Cloud Run region of the worker service and the backfill job."
  type        = string
}

variable "source_bucket" {
  description = "GCS bucket to replicate (name only, no gs://)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", var.source_bucket))
    error_message = "source_bucket must be a GCS bucket name, without gs://."
  }
}

variable "image" {
  description = "Container image built from this repository's Dockerfile, e.g. REGION-docker.pkg.dev/PROJECT/REPO/gcs2s3:TAG."
  type        = string
}

variable "aws_role_arn" {
  description = "The worker's AWS_ROLE_ARN (the aws-destination module's role_arn)."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.aws_role_arn))
    error_message = "aws_role_arn must be an IAM role ARN."
  }
}

variable "aws_region" {
  description = "The worker's AWS_REGION: region of the destination bucket (and of the STS endpoint it calls)."
  type        = string
}

variable "s3_bucket" {
  description = "The worker's S3_BUCKET."
  type        = string
}

# ---- Optional ----

variable "name" {
  description = "Base name of every resource (service, job, topics, subscriptions, service accounts)."
  type        = string
  default     = "gcs2s3"
  validation {
    # Service account ids are 6-30 characters; "<name>-worker" must fit.
    condition     = can(regex("^[a-z][a-z0-9-]{0,21}[a-z0-9]$", var.name))
    error_message = "name must be 2-23 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "mode" {
  description = "\"pull\": a Cloud Run service runs `gcs2s3 pull` on a pull subscription (min_instances always on). \"push\": Pub/Sub pushes each notification to `gcs2s3 serve` with an OIDC token; the service can scale to zero."
  type        = string
  default     = "pull"
  validation {
    condition     = contains(["pull", "push"], var.mode)
    error_message = "mode must be \"pull\" or \"push\"."
  }
}

variable "source_prefix" {
  description = "Replicate only object names starting with this (the notification's object_name_prefix and the backfill job's prefix). Empty: the whole bucket."
  type        = string
  default     = ""
}

variable "source_bucket_project" {
  description = "Project that owns source_bucket, when it is not `project`: its Cloud Storage service agent publishes the notifications."
  type        = string
  default     = null
}

variable "s3_key_prefix" {
  description = "The worker's S3_KEY_PREFIX (must equal the aws-destination module's key_prefix)."
  type        = string
  default     = ""
}

variable "id_token_audience" {
  description = "The worker's ID_TOKEN_AUDIENCE, pinned as accounts.google.com:oaud in the AWS trust policy. Default \"<name>-aws-sts\"."
  type        = string
  default     = null
}

variable "replicate_deletes" {
  description = "The worker's REPLICATE_DELETES; also subscribes the notification to OBJECT_DELETE and OBJECT_ARCHIVE."
  type        = bool
  default     = false
}

variable "replicate_metadata_updates" {
  description = "Subscribe the notification to OBJECT_METADATA_UPDATE, so metadata changes in GCS are copied to S3 (CopyObject, same key)."
  type        = bool
  default     = true
}

variable "max_concurrent_objects" {
  description = "The worker's MAX_CONCURRENT_OBJECTS; in push mode also the service's requests per instance."
  type        = number
  default     = 8
}

variable "env" {
  description = "More worker environment variables (LOG_LEVEL, PART_SIZE_MIB, INCLUDE_PREFIXES, ...). The ones this module sets itself, and AWS keys, are refused."
  type        = map(string)
  default     = {}
  validation {
    condition = alltrue([for k in keys(var.env) : !contains([
      "AWS_ROLE_ARN", "AWS_REGION", "S3_BUCKET", "S3_KEY_PREFIX", "ID_TOKEN_AUDIENCE", "SOURCE_BUCKETS",
      "REPLICATE_DELETES", "MAX_CONCURRENT_OBJECTS", "GOOGLE_CLOUD_PROJECT", "PUBSUB_SUBSCRIPTION",
      "PUSH_AUDIENCE", "PUSH_SERVICE_ACCOUNT", "PUSH_AUTH", "PORT",
      "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    ], k)])
    error_message = "env must not set the variables this module manages (AWS_ROLE_ARN, S3_BUCKET, PUBSUB_SUBSCRIPTION, PUSH_*, ...) nor AWS keys: the worker is keyless."
  }
}

variable "cpu" {
  description = "CPU limit of the service and job containers."
  type        = string
  default     = "1"
}

variable "memory" {
  description = "Memory limit. The worker's peak is about 96 MiB + MAX_CONCURRENT_OBJECTS x PART_QUEUE_SIZE x PART_SIZE_MIB (8 x 4 x 16 MiB = 608 MiB by default)."
  type        = string
  default     = "1Gi"
}

variable "min_instances" {
  description = "Service instances kept running. At least 1 in pull mode (a pull worker with no instance pulls nothing); 0 allowed in push mode."
  type        = number
  default     = 1
}

variable "max_instances" {
  description = "Service instances at most."
  type        = number
  default     = 4
}

variable "ack_deadline_seconds" {
  description = "Subscription ack deadline (10-600). Pull: the client extends leases during long copies. Push: a request (and so a copy) lasts at most this long; the service's request timeout follows it."
  type        = number
  default     = 600
  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be 10-600."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of one notification before it goes to the dead-letter topic (5-100)."
  type        = number
  default     = 10
  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be 5-100 (Pub/Sub's bounds)."
  }
}

variable "retry_minimum_backoff" {
  description = "Pub/Sub's first redelivery delay after a nack or a 503."
  type        = string
  default     = "10s"
}

variable "retry_maximum_backoff" {
  description = "Pub/Sub's longest redelivery delay."
  type        = string
  default     = "600s"
}

variable "message_retention_duration" {
  description = "How long unacknowledged notifications (and dead letters) are kept."
  type        = string
  default     = "604800s"
}

variable "push_audience" {
  description = "Push mode: audience of the push OIDC token (PUSH_AUDIENCE, and a custom audience of the service). Default \"<name>-push\"."
  type        = string
  default     = null
}

variable "backfill_tasks" {
  description = "Tasks of the backfill and verify jobs: each takes the object names whose hash falls to it."
  type        = number
  default     = 1
}

variable "backfill_task_timeout" {
  description = "Longest run of one backfill or verify task."
  type        = string
  default     = "86400s"
}

variable "deletion_protection" {
  description = "Refuse to destroy the Cloud Run service and jobs."
  type        = bool
  default     = false
}

variable "labels" {
  description = "Labels of the Cloud Run service, jobs, topics and subscriptions."
  type        = map(string)
  default     = {}
}
