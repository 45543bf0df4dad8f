# Backfill and verify run as Cloud Run jobs, and a failed execution is the
# signal: Cloud Run counts finished executions by result in
# run.googleapis.com/job/completed_execution_count (no log-based metric
# needed). `gcs2s3 verify` exits 1 when it finds differences and 2 when it
# cannot finish, so a failed verify execution means S3 does not (provably)
# match GCS.

locals {
  failed_executions = "metric.type=\"run.googleapis.com/job/completed_execution_count\" AND resource.type=\"cloud_run_job\" AND metric.labels.result=\"failed\""
}

resource "google_monitoring_alert_policy" "backfill_failed" {
  count                 = var.backfill_job_name == null ? 0 : 1
  project               = var.project
  display_name          = "${var.name}: backfill job failed"
  combiner              = "OR"
  notification_channels = var.notification_channels
  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      An execution of the backfill job `${var.backfill_job_name}` failed: some objects under the source prefix may not be in S3 yet.

      - A task failed after its retries. Its log says why: usually the AWS role (`AssumeRoleWithWebIdentity`, `AccessDenied`), or the task timeout on a large prefix (give the jobs more tasks).
      - Fix the cause and execute the job again: it copies only what S3 still lacks or holds stale. Then execute the verify job.

      Logs: `resource.type="cloud_run_job" AND resource.labels.job_name="${var.backfill_job_name}" AND severity>=WARNING`
    EOT
  }

  conditions {
    display_name = "Failed executions of ${var.backfill_job_name}"
    condition_threshold {
      filter          = "${local.failed_executions} AND resource.labels.job_name=\"${var.backfill_job_name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
      # A failure is an event: once no new one arrives, the incident closes.
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }
}

resource "google_monitoring_alert_policy" "verify_failed" {
  count                 = var.verify_job_name == null ? 0 : 1
  project               = var.project
  display_name          = "${var.name}: verify found differences between GCS and S3"
  combiner              = "OR"
  notification_channels = var.notification_channels
  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      An execution of the verify job `${var.verify_job_name}` failed: it found objects that differ between GCS and S3 under the source prefix (exit status 1), or it could not finish (exit status 2: credentials, permissions, a listing error).

      - Each difference is a WARNING log line whose `jsonPayload.difference` says which: `missingInS3`, `staleInS3` (S3 holds an older generation), `mismatched` (size or CRC32C differ) or `extraInS3` (in S3 only: deleted in GCS while deletes are not replicated, or written by something else).
      - Missing and stale objects: execute the backfill job, then verify again. A mismatch the backfill does not fix, or extra objects, need a look at who else writes to the bucket.
      - The job's last lines give the counts (`gcs2s3 verify: ... in sync; ... missing in S3, ...`) and, when it could not finish, why (`stopped early: ...`).

      Logs: `resource.type="cloud_run_job" AND resource.labels.job_name="${var.verify_job_name}" AND (jsonPayload.difference:* OR textPayload:"gcs2s3 verify")`
    EOT
  }

  conditions {
    display_name = "Failed executions of ${var.verify_job_name}"
    condition_threshold {
      filter          = "${local.failed_executions} AND resource.labels.job_name=\"${var.verify_job_name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }
}
