output "service_account_email" {
  description = "Email of the worker's service account."
  value       = google_service_account.worker.email
}

output "service_account_unique_id" {
  description = "Numeric unique id of the worker's service account: the aws-destination module's google_service_account_unique_id."
  value       = google_service_account.worker.unique_id
}

output "id_token_audience" {
  description = "The worker's ID_TOKEN_AUDIENCE: the aws-destination module's id_token_audience."
  value       = local.id_token_audience
}

output "service_name" {
  description = "Cloud Run service running the worker."
  value       = google_cloud_run_v2_service.worker.name
}

output "service_uri" {
  description = "URL of the worker service (push mode: Pub/Sub posts to <uri>/pubsub/push)."
  value       = google_cloud_run_v2_service.worker.uri
}

output "backfill_job_name" {
  description = "Cloud Run job that backfills the source prefix."
  value       = google_cloud_run_v2_job.backfill.name
}

output "verify_job_name" {
  description = "Cloud Run job that compares GCS and S3 under the source prefix."
  value       = google_cloud_run_v2_job.verify.name
}

output "plan_bucket" {
  description = "GCS bucket holding the backfill and verify jobs' shared range plans (their PLAN_BUCKET)."
  value       = google_storage_bucket.plans.name
}

output "region" {
  description = "Region of the service and jobs."
  value       = var.region
}

output "topic_id" {
  description = "Topic the bucket's notifications go to."
  value       = google_pubsub_topic.notifications.id
}

output "subscription_id" {
  description = "Subscription the worker consumes (pull) or that pushes to it (push)."
  value       = local.subscription_id
}

output "subscription_name" {
  description = "Short name of that subscription (for Pub/Sub metrics)."
  value       = local.subscription_name
}

output "dead_letter_subscription_id" {
  description = "Subscription holding notifications that failed max_delivery_attempts times."
  value       = google_pubsub_subscription.dead_letter.id
}
