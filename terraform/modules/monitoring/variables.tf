variable "project" {
  description = "Project of the worker's logs (the gcp-replicator module's project)."
  type        = string
}

variable "name" {
  description = "Prefix of the metric names and alert titles (the gcp-replicator module's name)."
  type        = string
  default     = "gcs2s3"
}

variable "service_name" {
  description = "Cloud Run service running the worker (gcp-replicator's service_name)."
  type        = string
}

variable "backfill_job_name" {
  description = "The backfill Cloud Run job (gcp-replicator's backfill_job_name): its copies count in the metrics, and a failed execution alerts. Null: no backfill job."
  type        = string
  default     = null
}

variable "verify_job_name" {
  description = "The verify Cloud Run job (gcp-replicator's verify_job_name): a failed execution (differences found, or verify could not finish) alerts. Null: no verify job."
  type        = string
  default     = null
}

variable "subscription_name" {
  description = "The worker's subscription (gcp-replicator's subscription_name): its backlog and dead letters."
  type        = string
}

variable "notification_channels" {
  description = "Notification channel ids (projects/P/notificationChannels/N) the alerts go to. Empty: alerts open incidents in the console only."
  type        = list(string)
  default     = []
}

variable "lag_alert_seconds" {
  description = "Alert when the 99th percentile of replication lag (object written in GCS -> in S3), or the age of the oldest waiting notification, stays above this. S3 Replication Time Control's target is 900 s."
  type        = number
  default     = 900
}

variable "transient_failure_alert_count" {
  description = "Alert when more copies than this fail transiently (and are retried) within 5 minutes."
  type        = number
  default     = 20
}

variable "metric_propagation_wait" {
  description = "Wait between creating the log-based metrics and the alert policies that read them: Cloud Monitoring refuses a metric it has not propagated yet."
  type        = string
  default     = "90s"
}
