# The backfill and verify jobs' shared range plans (PLAN_BUCKET): task 0 of an
# execution samples the source prefix once and writes
# <job>/<execution>/plan.json; the other tasks read it. A plan is only
# useful while its execution runs (at most backfill_task_timeout, and task
# retries), so objects are deleted after 7 days.

locals {
  plan_bucket_name = coalesce(var.plan_bucket_name, "${var.project}-${var.name}-plans")
}

resource "google_storage_bucket" "plans" {
  project                     = var.project
  name                        = local.plan_bucket_name
  location                    = var.region
  labels                      = var.labels
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Only plans of past executions live here: without deletion protection,
  # `terraform destroy` removes them with the bucket.
  force_destroy = !var.deletion_protection

  lifecycle_rule {
    condition {
      age = 7
    }
    action {
      type = "Delete"
    }
  }
}

# The plan protocol reads (objects.get) and creates with ifGenerationMatch=0
# (objects.create): never overwrites or deletes, so no objectAdmin/objectUser.
resource "google_storage_bucket_iam_member" "worker_reads_plans" {
  bucket = google_storage_bucket.plans.name
  role   = "roles/storage.objectViewer"
  member = local.worker_member
}

resource "google_storage_bucket_iam_member" "worker_creates_plans" {
  bucket = google_storage_bucket.plans.name
  role   = "roles/storage.objectCreator"
  member = local.worker_member
}
