variable "project" {
  description = "Project of the worker's logs (the gcp-replicator module's project)."
  type        = string
  validation {
    condition     = can(regex("^([a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project))
    error_message = "project must be a Google Cloud project id (6-30 lowercase letters, digits and hyphens), not its name or number."
  }
}

variable "name" {
  description = "Prefix of the metric names and alert titles (the gcp-replicator module's name)."
  type        = string
  default     = "gcs2s3"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,21}[a-z0-9]$", var.name))
    error_message = "name must be the gcp-replicator module's name: 2-23 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "service_name" {
  description = "Cloud Run service running the worker (gcp-replicator's service_name)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.service_name))
    error_message = "service_name must be a Cloud Run service name: up to 63 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "backfill_job_name" {
  description = "The backfill Cloud Run job (gcp-replicator's backfill_job_name): its copies count in the metrics, and a failed execution alerts. Null: no backfill job."
  type        = string
  default     = null
  validation {
    condition     = var.backfill_job_name == null || can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.backfill_job_name))
    error_message = "backfill_job_name must be a Cloud Run job name (up to 63 lowercase letters, digits and hyphens), or null."
  }
}

variable "verify_job_name" {
  description = "The verify Cloud Run job (gcp-replicator's verify_job_name): a failed execution (differences found, or verify could not finish) alerts. Null: no verify job."
  type        = string
  default     = null
  validation {
    condition     = var.verify_job_name == null || can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.verify_job_name))
    error_message = "verify_job_name must be a Cloud Run job name (up to 63 lowercase letters, digits and hyphens), or null."
  }
}

variable "subscription_name" {
  description = "The worker's subscription (gcp-replicator's subscription_name): its backlog and dead letters."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z][\\w.~+%-]{2,254}$", var.subscription_name))
    error_message = "subscription_name must be a Pub/Sub subscription id (its short name, not projects/P/subscriptions/S)."
  }
}

variable "notification_channels" {
  description = "Notification channel ids (projects/P/notificationChannels/N) the alerts go to. Empty: alerts open incidents in the console only."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[0-9]+$", c))])
    error_message = "notification_channels must be channel ids like projects/P/notificationChannels/N."
  }
}

variable "lag_alert_seconds" {
  description = "Alert when the 99th percentile of replication lag (object written in GCS -> in S3), or the age of the oldest waiting notification, stays above this. S3 Replication Time Control's target is 900 s."
  type        = number
  default     = 900
  validation {
    condition     = var.lag_alert_seconds > 0
    error_message = "lag_alert_seconds must be positive."
  }
}

variable "transient_failure_alert_count" {
  description = "Alert when more copies than this fail transiently (and are retried) within 5 minutes."
  type        = number
  default     = 20
  validation {
    condition     = floor(var.transient_failure_alert_count) == var.transient_failure_alert_count && var.transient_failure_alert_count >= 0
    error_message = "transient_failure_alert_count must be a whole number, 0 or more."
  }
}

variable "metric_propagation_wait" {
  description = "Wait between creating the log-based metrics and the alert policies that read them: Cloud Monitoring refuses a metric it has not propagated yet."
  type        = string
  default     = "90s"
  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?(h|m|s))+$", var.metric_propagation_wait))
    error_message = "metric_propagation_wait must be a duration such as \"90s\" or \"2m\"."
  }
}
