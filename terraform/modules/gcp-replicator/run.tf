# The worker service (pull or push) and the backfill and verify jobs: one
# image, the command chosen by the container's args.

locals {
  # The jobs' tasks share one range plan per execution through the plans bucket (plans.tf).
  job_env = merge(local.worker_env, { PLAN_BUCKET = google_storage_bucket.plans.name })

  # Pull reads its subscription; serve checks each push token's aud and email.
  service_env = merge(local.worker_env, var.mode == "pull" ? tomap({
    PUBSUB_SUBSCRIPTION = google_pubsub_subscription.pull[0].id
    }) : tomap({
    PUSH_AUDIENCE        = local.push_audience
    PUSH_SERVICE_ACCOUNT = google_service_account.push[0].email
  }))
}

resource "google_cloud_run_v2_service" "worker" {
  project             = var.project
  name                = var.name
  location            = var.region
  deletion_protection = var.deletion_protection
  labels              = var.labels
  # Pull: nothing needs to reach the service (Cloud Run's health probes are
  # not ingress). Push: Pub/Sub reaches it from Google's network; requests are
  # checked twice, by Cloud Run IAM (run.invoker) and by the worker (PUSH_*).
  ingress = var.mode == "push" ? "INGRESS_TRAFFIC_ALL" : "INGRESS_TRAFFIC_INTERNAL_ONLY"
  # Cloud Run accepts the push token only for an audience it knows.
  custom_audiences = var.mode == "push" ? [local.push_audience] : []

  template {
    service_account = google_service_account.worker.email
    # Push: a request lasts at most the ack deadline on Pub/Sub's side anyway.
    timeout                          = "${var.ack_deadline_seconds}s"
    max_instance_request_concurrency = var.max_concurrent_objects
    labels                           = var.labels

    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

    containers {
      image = var.image
      args  = [var.mode == "push" ? "serve" : "pull"]

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        # Pull works outside requests: its CPU must never be throttled.
        cpu_idle          = var.mode == "push"
        startup_cpu_boost = true
      }

      # Cloud Run sets PORT (8080); pull answers GET /healthz on it, serve too.
      ports {
        container_port = 8080
      }

      dynamic "env" {
        for_each = local.service_env
        content {
          name  = env.key
          value = env.value
        }
      }

      startup_probe {
        period_seconds    = 2
        timeout_seconds   = 1
        failure_threshold = 30
        http_get {
          path = "/healthz"
        }
      }

      # /healthz answers 503 once copies have been in flight for
      # LIVENESS_TIMEOUT_SECONDS (600 by default) with none finishing and no
      # byte read: longer than any chain of the worker's own deadlines
      # (CONNECT_TIMEOUT_SECONDS, STALL_TIMEOUT_SECONDS), so only a process no
      # deadline can free reports it. Three failed probes 30 s apart then
      # restart the instance, about 11 minutes after it stopped progressing;
      # a slow but moving copy never fails a probe.
      liveness_probe {
        period_seconds    = 30
        timeout_seconds   = 5
        failure_threshold = 3
        http_get {
          path = "/healthz"
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.mode != "pull" || var.min_instances >= 1
      error_message = "mode = \"pull\" needs min_instances >= 1: a pull worker scaled to zero pulls nothing."
    }
    precondition {
      condition     = var.max_instances >= var.min_instances && var.max_instances >= 1
      error_message = "max_instances must be at least 1 and at least min_instances."
    }
  }

  depends_on = [
    google_storage_bucket_iam_member.worker_reads_source,
    google_pubsub_subscription_iam_member.worker_pulls,
  ]
}

# `gcloud run jobs execute <name>-backfill`: copies what S3 lacks or holds
# stale under the source prefix; safe to run again at any time.
resource "google_cloud_run_v2_job" "backfill" {
  project             = var.project
  name                = "${var.name}-backfill"
  location            = var.region
  deletion_protection = var.deletion_protection
  labels              = var.labels

  template {
    # Each task takes its share of the names (CLOUD_RUN_TASK_INDEX/COUNT).
    task_count = var.backfill_tasks
    labels     = var.labels

    template {
      service_account = google_service_account.worker.email
      timeout         = var.backfill_task_timeout
      # A rerun copies only what is left, so retrying a failed task is cheap.
      max_retries = 3

      containers {
        image = var.image
        args  = ["backfill", local.source_url]

        resources {
          limits = {
            cpu    = var.cpu
            memory = var.memory
          }
        }

        dynamic "env" {
          for_each = local.job_env
          content {
            name  = env.key
            value = env.value
          }
        }
      }
    }
  }

  depends_on = [
    google_storage_bucket_iam_member.worker_reads_source,
    google_storage_bucket_iam_member.worker_reads_plans,
    google_storage_bucket_iam_member.worker_creates_plans,
  ]
}

# `gcloud run jobs execute <name>-verify`: compares GCS and S3 under the
# source prefix and logs every difference; writes nothing.
resource "google_cloud_run_v2_job" "verify" {
  project             = var.project
  name                = "${var.name}-verify"
  location            = var.region
  deletion_protection = var.deletion_protection
  labels              = var.labels

  template {
    task_count = var.backfill_tasks
    labels     = var.labels

    template {
      service_account = google_service_account.worker.email
      timeout         = var.backfill_task_timeout
      # Exit 1 means "differences found": a retry would find them again.
      max_retries = 0

      containers {
        image = var.image
        args  = ["verify", local.source_url]

        resources {
          limits = {
            cpu    = var.cpu
            memory = var.memory
          }
        }

        dynamic "env" {
          for_each = local.job_env
          content {
            name  = env.key
            value = env.value
          }
        }
      }
    }
  }

  depends_on = [
    google_storage_bucket_iam_member.worker_reads_source,
    google_storage_bucket_iam_member.worker_reads_plans,
    google_storage_bucket_iam_member.worker_creates_plans,
  ]
}
