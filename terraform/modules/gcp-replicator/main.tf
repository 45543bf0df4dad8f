# The Google side of gcs2s3: the worker's identity, what it may read, and the
# settings every worker container shares.

data "google_project" "this" {
  project_id = var.project
}

# The Cloud Storage service agent of the bucket's project publishes its notifications.
data "google_storage_project_service_account" "gcs" {
  project = coalesce(var.source_bucket_project, var.project)
}

locals {
  id_token_audience = coalesce(var.id_token_audience, "${var.name}-aws-sts")
  push_audience     = coalesce(var.push_audience, "${var.name}-push")
  pubsub_agent      = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  worker_member     = "serviceAccount:${google_service_account.worker.email}"
  source_url        = "gs://${var.source_bucket}/${var.source_prefix}"

  # Every container gets these (DESIGN.md §1 configuration): the keyless AWS
  # identity, the destination, and the source it may replicate.
  # Optional settings (storage class, encryption, bandwidth) only when set:
  # unset, the worker keeps S3's and the bucket's defaults.
  worker_env = { for k, v in merge(var.env, {
    AWS_ROLE_ARN           = var.aws_role_arn
    AWS_REGION             = var.aws_region
    S3_BUCKET              = var.s3_bucket
    S3_KEY_PREFIX          = var.s3_key_prefix
    ID_TOKEN_AUDIENCE      = local.id_token_audience
    SOURCE_BUCKETS         = var.source_bucket
    REPLICATE_DELETES      = tostring(var.replicate_deletes)
    MAX_CONCURRENT_OBJECTS = tostring(var.max_concurrent_objects)
    GOOGLE_CLOUD_PROJECT   = var.project
    S3_STORAGE_CLASS       = var.s3_storage_class
    S3_SSE                 = var.s3_sse
    S3_SSE_KMS_KEY_ID      = var.s3_sse_kms_key_id
    S3_SSE_BUCKET_KEY      = var.s3_sse_bucket_key == null ? null : tostring(var.s3_sse_bucket_key)
    MAX_BYTES_PER_SECOND   = var.max_bytes_per_second
  }) : k => v if v != null }
}

# The worker's identity: its numeric unique_id is what the AWS role trusts.
# No key is ever created for it: Cloud Run's metadata server mints its ID tokens.
resource "google_service_account" "worker" {
  project      = var.project
  account_id   = "${var.name}-worker"
  display_name = "gcs2s3 worker (${var.name})"
  # Nothing from the AWS side here: the role's trust is built from this
  # account's unique_id, so naming the role would make a dependency cycle.
  description = "gcs2s3: reads gs://${var.source_bucket}; its ID token assumes the AWS role in AWS_ROLE_ARN."
}

# Read the source objects (objects.get, media download, objects.list for
# backfill and verify), on this bucket only.
resource "google_storage_bucket_iam_member" "worker_reads_source" {
  bucket = var.source_bucket
  role   = "roles/storage.objectViewer"
  member = local.worker_member
}
