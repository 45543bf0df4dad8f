# gcs2s3 from zero: APIs, the worker on Google Cloud, a keyless AWS role it
# assumes, and the metrics and alerts that watch it.

locals {
  apis = [
    "cloudresourcemanager.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "apis" {
  for_each           = toset(local.apis)
  project            = var.gcp_project
  service            = each.value
  disable_on_destroy = false
}

module "gcp" {
  source = "../../modules/gcp-replicator"

  project       = var.gcp_project
  region        = var.gcp_region
  name          = var.name
  mode          = var.mode
  source_bucket = var.source_bucket
  source_prefix = var.source_prefix
  image         = var.image

  # The role's ARN comes from the AWS side; the role's trust comes from this
  # module's service account: no cycle, the service account exists first.
  aws_role_arn      = module.aws.role_arn
  aws_region        = var.aws_region
  s3_bucket         = module.aws.bucket_name
  s3_key_prefix     = module.aws.key_prefix
  replicate_deletes = var.replicate_deletes
  backfill_tasks    = var.backfill_tasks
  env               = var.worker_env

  # Where copies land and how fast (README: "Storage class, encryption and
  # bandwidth"). SSE-KMS with kms_key_arn below is the bucket's default
  # encryption, so the worker need not name the key itself.
  s3_storage_class     = var.s3_storage_class
  max_bytes_per_second = var.max_bytes_per_second

  depends_on = [google_project_service.apis]
}

module "aws" {
  source = "../../modules/aws-destination"

  name          = var.name
  bucket_name   = var.s3_bucket
  create_bucket = var.create_s3_bucket
  key_prefix    = var.s3_key_prefix
  kms_key_arn   = var.kms_key_arn

  # Taken from the Google resources, never typed by hand.
  google_service_account_unique_id = module.gcp.service_account_unique_id
  id_token_audience                = module.gcp.id_token_audience

  replicate_deletes     = var.replicate_deletes
  manage_lifecycle_rule = var.manage_s3_lifecycle_rule
}

module "monitoring" {
  source = "../../modules/monitoring"

  project               = var.gcp_project
  name                  = var.name
  service_name          = module.gcp.service_name
  backfill_job_name     = module.gcp.backfill_job_name
  verify_job_name       = module.gcp.verify_job_name
  subscription_name     = module.gcp.subscription_name
  notification_channels = var.notification_channels
  lag_alert_seconds     = var.lag_alert_seconds

  depends_on = [google_project_service.apis]
}
