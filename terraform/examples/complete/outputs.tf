output "aws_role_arn" {
  description = "The role the worker assumes with its Google ID token."
  value       = module.aws.role_arn
}

output "worker_service_account" {
  description = "The worker's Google service account."
  value       = module.gcp.service_account_email
}

output "service_name" {
  description = "Cloud Run service running the worker."
  value       = module.gcp.service_name
}

output "subscription" {
  description = "The bucket notifications' subscription."
  value       = module.gcp.subscription_id
}

output "dead_letter_subscription" {
  description = "Where notifications that kept failing wait."
  value       = module.gcp.dead_letter_subscription_id
}

output "backfill_command" {
  description = "Copies everything already in the bucket (safe to rerun)."
  value       = "gcloud run jobs execute ${module.gcp.backfill_job_name} --project ${var.gcp_project} --region ${module.gcp.region} --wait"
}

output "verify_command" {
  description = "Compares GCS and S3 and logs every difference."
  value       = "gcloud run jobs execute ${module.gcp.verify_job_name} --project ${var.gcp_project} --region ${module.gcp.region} --wait"
}

output "plan_bucket" {
  description = "Where the backfill and verify jobs' tasks share each execution's range plan (kept 7 days)."
  value       = "gs://${module.gcp.plan_bucket}"
}

output "logs_command" {
  description = "The worker's last 50 object outcomes."
  value       = "gcloud logging read 'resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${module.gcp.service_name}\" AND jsonPayload.outcome:*' --project ${var.gcp_project} --limit 50 --format 'table(timestamp, jsonPayload.outcome, jsonPayload.object, jsonPayload.bytes, jsonPayload.lagSeconds, jsonPayload.reason)'"
}

output "dashboard_url" {
  description = "Throughput, outcomes, lag, backlog and failures."
  value       = module.monitoring.dashboard_url
}
