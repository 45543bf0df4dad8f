# What S3 Replication Time Control shows AWS users (replication latency, bytes
# and operations replicated, operations failed, and what is pending), built
# from the worker's own structured logs and Pub/Sub's metrics: nothing extra
# runs. Every worker log line for an object carries `outcome` (copied, skipped,
# updated, deleted, failed, ignored, malformed), `via` (pull, push, cloudevent,
# backfill, copy) and `event` (finalize, metadataUpdate, delete); copies add
# `bytes`, copies made on a notification add `lagSeconds` (object created in
# GCS -> complete in S3), failures add `retryable`.

locals {
  metric_prefix = replace(var.name, "-", "_")

  job_names = [for j in [var.backfill_job_name, var.verify_job_name] : j if j != null]

  # Cloud Run parses each JSON stdout line into jsonPayload (severity included).
  service_logs = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.service_name}\""
  job_logs     = "resource.type=\"cloud_run_job\" AND resource.labels.job_name=(${join(" OR ", [for j in local.job_names : "\"${j}\""])})"
  worker_logs  = length(local.job_names) == 0 ? "(${local.service_logs})" : "((${local.service_logs}) OR (${local.job_logs}))"

  outcomes = "jsonPayload.outcome=(\"copied\" OR \"skipped\" OR \"updated\" OR \"deleted\" OR \"failed\" OR \"ignored\" OR \"malformed\")"

  # Metric types as Cloud Monitoring names them.
  objects_metric            = "logging.googleapis.com/user/${google_logging_metric.objects.name}"
  lag_metric                = "logging.googleapis.com/user/${google_logging_metric.lag.name}"
  permanent_failures_metric = "logging.googleapis.com/user/${google_logging_metric.permanent_failures.name}"
  subscription_filter       = "resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${var.subscription_name}\""
}

# ---- Log-based metrics ----

resource "google_logging_metric" "objects" {
  project     = var.project
  name        = "${local.metric_prefix}_objects"
  description = "gcs2s3: objects handled, by outcome (copied, skipped, updated, deleted, failed, ignored, malformed), via and event."
  filter      = "${local.worker_logs} AND ${local.outcomes}"
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "gcs2s3 objects"
    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "copied, skipped, updated, deleted, failed, ignored or malformed"
    }
    labels {
      key         = "via"
      value_type  = "STRING"
      description = "pull, push, cloudevent, backfill or copy"
    }
    labels {
      key         = "event"
      value_type  = "STRING"
      description = "finalize, metadataUpdate or delete"
    }
  }
  label_extractors = {
    outcome = "EXTRACT(jsonPayload.outcome)"
    via     = "EXTRACT(jsonPayload.via)"
    event   = "EXTRACT(jsonPayload.event)"
  }
}

resource "google_logging_metric" "bytes" {
  project     = var.project
  name        = "${local.metric_prefix}_bytes"
  description = "gcs2s3: bytes of each object copied to S3 (the distribution's sum is the bytes replicated)."
  filter      = "${local.worker_logs} AND jsonPayload.outcome=\"copied\" AND jsonPayload.bytes>=0"
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "By"
    display_name = "gcs2s3 bytes copied"
    labels {
      key         = "via"
      value_type  = "STRING"
      description = "pull, push, cloudevent, backfill or copy"
    }
  }
  value_extractor = "EXTRACT(jsonPayload.bytes)"
  label_extractors = {
    via = "EXTRACT(jsonPayload.via)"
  }
  bucket_options {
    # 1 KiB x 2^n: up to 4 TiB in 32 buckets.
    exponential_buckets {
      num_finite_buckets = 32
      growth_factor      = 2
      scale              = 1024
    }
  }
}

# Only new generations copied on notification (pull, push, CloudEvent): a backfill copies old
# objects on purpose, and a metadata update or a delete measured from the
# object's creation would read as days of lag.
resource "google_logging_metric" "lag" {
  project     = var.project
  name        = "${local.metric_prefix}_lag"
  description = "gcs2s3: replication lag of each new object generation, from its creation in GCS to its completion in S3."
  filter      = "${local.worker_logs} AND jsonPayload.outcome=\"copied\" AND jsonPayload.event=\"finalize\" AND jsonPayload.via=(\"pull\" OR \"push\" OR \"cloudevent\") AND jsonPayload.lagSeconds>=0"
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "s"
    display_name = "gcs2s3 replication lag"
    labels {
      key         = "via"
      value_type  = "STRING"
      description = "pull, push or cloudevent"
    }
  }
  value_extractor = "EXTRACT(jsonPayload.lagSeconds)"
  label_extractors = {
    via = "EXTRACT(jsonPayload.via)"
  }
  bucket_options {
    # 0.1 s x 2^n: up to about 77 days in 26 buckets.
    exponential_buckets {
      num_finite_buckets = 26
      growth_factor      = 2
      scale              = 0.1
    }
  }
}

# Objects that will not reach S3 without someone acting: permanent failures
# (acked, never retried) and notifications that could not be read.
resource "google_logging_metric" "permanent_failures" {
  project     = var.project
  name        = "${local.metric_prefix}_permanent_failures"
  description = "gcs2s3: objects that failed for good (outcome failed, retryable false) and malformed notifications."
  filter      = "${local.worker_logs} AND ((jsonPayload.outcome=\"failed\" AND jsonPayload.retryable=false) OR jsonPayload.outcome=\"malformed\")"
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "gcs2s3 permanent failures"
    labels {
      key         = "outcome"
      value_type  = "STRING"
      description = "failed or malformed"
    }
    labels {
      key         = "via"
      value_type  = "STRING"
      description = "pull, push, cloudevent, backfill or copy"
    }
  }
  label_extractors = {
    outcome = "EXTRACT(jsonPayload.outcome)"
    via     = "EXTRACT(jsonPayload.via)"
  }
}

# Cloud Monitoring answers 404 for a log-based metric created moments ago.
resource "time_sleep" "metrics_propagate" {
  create_duration = var.metric_propagation_wait
  depends_on = [
    google_logging_metric.objects,
    google_logging_metric.bytes,
    google_logging_metric.lag,
    google_logging_metric.permanent_failures,
  ]
}

# ---- Alerts ----

resource "google_monitoring_alert_policy" "failures" {
  project               = var.project
  display_name          = "${var.name}: objects not replicated"
  combiner              = "OR"
  notification_channels = var.notification_channels
  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      gcs2s3 could not replicate some objects to S3.

      - **Permanent failures** were logged at ERROR with the object (`jsonPayload.object`) and the reason; they are not retried. Fix the cause, then run the backfill job (or `gcs2s3 copy gs://BUCKET/OBJECT`).
      - **Dead-lettered notifications** failed on every delivery attempt; they wait in the dead-letter subscription. Running the backfill job copies what they named.
      - **Many transient failures** (WARNING, `retryable=true`) usually mean AWS credentials or permissions: look for `AssumeRoleWithWebIdentity` or `AccessDenied` in the logs.

      Logs: `${local.worker_logs} AND severity>=WARNING`
    EOT
  }

  conditions {
    display_name = "Permanent failures (service)"
    condition_threshold {
      filter          = "metric.type=\"${local.permanent_failures_metric}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  dynamic "conditions" {
    for_each = length(local.job_names) == 0 ? [] : ["cloud_run_job"]
    content {
      display_name = "Permanent failures (jobs)"
      condition_threshold {
        filter          = "metric.type=\"${local.permanent_failures_metric}\" AND resource.type=\"${conditions.value}\""
        comparison      = "COMPARISON_GT"
        threshold_value = 0
        duration        = "0s"
        aggregations {
          alignment_period     = "300s"
          per_series_aligner   = "ALIGN_SUM"
          cross_series_reducer = "REDUCE_SUM"
        }
      }
    }
  }

  conditions {
    display_name = "Notifications dead-lettered"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\" AND ${local.subscription_filter}"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  conditions {
    display_name = "Transient failures (retried) above ${var.transient_failure_alert_count} in 5 min"
    condition_threshold {
      filter          = "metric.type=\"${local.objects_metric}\" AND resource.type=\"cloud_run_revision\" AND metric.labels.outcome=\"failed\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.transient_failure_alert_count
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  depends_on = [time_sleep.metrics_propagate]
}

resource "google_monitoring_alert_policy" "lag" {
  project               = var.project
  display_name          = "${var.name}: replication lag above ${var.lag_alert_seconds} s"
  combiner              = "OR"
  notification_channels = var.notification_channels
  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      Objects are reaching S3 later than ${var.lag_alert_seconds} s after they are written to GCS, or notifications are waiting that long.

      - A growing backlog with few copies: the worker is down or too small (instances, `MAX_CONCURRENT_OBJECTS`), or every copy is failing and being retried (see the failures alert).
      - Copies completing but slowly: large objects over a slow path; compare `jsonPayload.throughputMiBps` in the logs.
    EOT
  }

  conditions {
    display_name = "99th percentile of replication lag"
    condition_threshold {
      filter          = "metric.type=\"${local.lag_metric}\" AND resource.type=\"cloud_run_revision\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.lag_alert_seconds
      duration        = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_PERCENTILE_99"
        cross_series_reducer = "REDUCE_MAX"
      }
    }
  }

  # Lag measured on completed copies says nothing while nothing completes: the
  # oldest waiting notification does.
  conditions {
    display_name = "Oldest unacknowledged notification"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${local.subscription_filter}"
      comparison      = "COMPARISON_GT"
      threshold_value = var.lag_alert_seconds
      duration        = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_MAX"
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  depends_on = [time_sleep.metrics_propagate]
}
