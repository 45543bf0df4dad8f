output "dashboard_url" {
  description = "Cloud Monitoring dashboard of the replication."
  value       = "https://console.cloud.google.com/monitoring/dashboards/custom/${element(split("/", google_monitoring_dashboard.replication.id), 3)}?project=${var.project}"
}

output "metric_types" {
  description = "The log-based metrics, as Cloud Monitoring names them."
  value = {
    objects            = local.objects_metric
    bytes              = "logging.googleapis.com/user/${google_logging_metric.bytes.name}"
    lag                = local.lag_metric
    permanent_failures = local.permanent_failures_metric
  }
}

output "alert_policy_ids" {
  description = "Alert policies: failures, lag, and failed backfill and verify executions (null without that job)."
  value = {
    failures        = google_monitoring_alert_policy.failures.id
    lag             = google_monitoring_alert_policy.lag.id
    backfill_failed = one(google_monitoring_alert_policy.backfill_failed[*].id)
    verify_failed   = one(google_monitoring_alert_policy.verify_failed[*].id)
  }
}
