# One page for the operator: throughput, outcomes, lag, backlog, failures,
# and the backfill and verify jobs' executions.
# PromQL over the log-based metrics (distributions expose _sum and _bucket)
# and Pub/Sub's and Cloud Run's own metrics.

locals {
  promql_prefix = "logging_googleapis_com:user_${local.metric_prefix}"
  on_service    = "monitored_resource=\"cloud_run_revision\",service_name=\"${var.service_name}\""
  on_sub        = "monitored_resource=\"pubsub_subscription\",subscription_id=\"${var.subscription_name}\""

  dashboard_charts = [
    {
      title   = "Bytes replicated per second"
      queries = ["sum(rate(${local.promql_prefix}_bytes_sum{${local.on_service}}[5m]))"]
      plot    = "LINE"
    },
    {
      title   = "Objects per second, by outcome"
      queries = ["sum by (outcome) (rate(${local.promql_prefix}_objects{${local.on_service}}[5m]))"]
      plot    = "STACKED_AREA"
    },
    {
      title = "Replication lag, p50 and p99 (s)"
      queries = [
        "histogram_quantile(0.5, sum by (le) (rate(${local.promql_prefix}_lag_bucket{${local.on_service}}[5m])))",
        "histogram_quantile(0.99, sum by (le) (rate(${local.promql_prefix}_lag_bucket{${local.on_service}}[5m])))",
      ]
      plot = "LINE"
    },
    {
      title   = "Notifications waiting (pending replication)"
      queries = ["sum(pubsub_googleapis_com:subscription_num_undelivered_messages{${local.on_sub}})"]
      plot    = "LINE"
    },
    {
      title   = "Oldest waiting notification (s)"
      queries = ["max(pubsub_googleapis_com:subscription_oldest_unacked_message_age{${local.on_sub}})"]
      plot    = "LINE"
    },
    {
      title = "Failed: permanent failures and dead letters per 5 min"
      queries = [
        "sum by (outcome) (increase(${local.promql_prefix}_permanent_failures[5m]))",
        "sum(increase(pubsub_googleapis_com:subscription_dead_letter_message_count{${local.on_sub}}[5m]))",
      ]
      plot = "STACKED_BAR"
    },
  ]

  # Cloud Run's own count of finished job executions (a failed verify: differences).
  job_charts = length(local.job_names) == 0 ? [] : [
    {
      title   = "Backfill and verify executions per hour, by job and result"
      queries = ["sum by (job_name, result) (increase(run_googleapis_com:job_completed_execution_count{monitored_resource=\"cloud_run_job\",job_name=~\"${join("|", local.job_names)}\"}[1h]))"]
      plot    = "STACKED_BAR"
    },
  ]
}

resource "google_monitoring_dashboard" "replication" {
  project = var.project
  dashboard_json = jsonencode({
    displayName = "${var.name}: GCS to S3 replication"
    mosaicLayout = {
      columns = 12
      tiles = [
        for i, chart in concat(local.dashboard_charts, local.job_charts) : {
          xPos   = (i % 2) * 6
          yPos   = floor(i / 2) * 4
          width  = 6
          height = 4
          widget = {
            title = chart.title
            xyChart = {
              dataSets = [
                for q in chart.queries : {
                  plotType        = chart.plot
                  timeSeriesQuery = { prometheusQuery = q }
                }
              ]
            }
          }
        }
      ]
    }
  })
  depends_on = [time_sleep.metrics_propagate]
}
