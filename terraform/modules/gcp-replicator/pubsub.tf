# Bucket notifications -> topic -> one subscription (pull or push), with a
# dead-letter topic that keeps what could not be delivered.

resource "google_pubsub_topic" "notifications" {
  project = var.project
  name    = "${var.name}-notifications"
  labels  = var.labels
}

resource "google_pubsub_topic_iam_member" "gcs_publishes_notifications" {
  project = var.project
  topic   = google_pubsub_topic.notifications.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

resource "google_storage_notification" "source" {
  bucket         = var.source_bucket
  payload_format = "JSON_API_V1"
  topic          = google_pubsub_topic.notifications.id
  # FINALIZE: new objects and new generations (also copies, rewrites, restores).
  # DELETE and ARCHIVE (a versioned bucket's live object deleted) only when
  # deletes are replicated; the worker ignores the old generation of an overwrite.
  event_types = concat(
    ["OBJECT_FINALIZE"],
    var.replicate_metadata_updates ? ["OBJECT_METADATA_UPDATE"] : [],
    var.replicate_deletes ? ["OBJECT_DELETE", "OBJECT_ARCHIVE"] : [],
  )
  object_name_prefix = var.source_prefix == "" ? null : var.source_prefix
  depends_on         = [google_pubsub_topic_iam_member.gcs_publishes_notifications]
}

resource "google_pubsub_topic" "dead_letter" {
  project = var.project
  name    = "${var.name}-dead-letter"
  labels  = var.labels
}

# Messages published to a topic without a subscription are lost: this one
# keeps dead letters for inspection and replay (it is not consumed, so it
# has no dead-letter policy of its own).
resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project
  name                       = "${var.name}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter.id
  ack_deadline_seconds       = 60
  message_retention_duration = var.message_retention_duration
  retain_acked_messages      = false
  labels                     = var.labels
  expiration_policy {
    ttl = ""
  }
}

# Pull mode: the worker service streams from this subscription.
resource "google_pubsub_subscription" "pull" {
  count                      = var.mode == "pull" ? 1 : 0
  project                    = var.project
  name                       = var.name
  topic                      = google_pubsub_topic.notifications.id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = var.message_retention_duration
  labels                     = var.labels
  expiration_policy {
    ttl = ""
  }
  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }
}

# Push mode: Pub/Sub POSTs each notification to `gcs2s3 serve`, signed with an
# OIDC token of the push service account for local.push_audience.
resource "google_pubsub_subscription" "push" {
  count                      = var.mode == "push" ? 1 : 0
  project                    = var.project
  name                       = var.name
  topic                      = google_pubsub_topic.notifications.id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = var.message_retention_duration
  labels                     = var.labels
  expiration_policy {
    ttl = ""
  }
  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }
  push_config {
    push_endpoint = "${google_cloud_run_v2_service.worker.uri}/pubsub/push"
    oidc_token {
      service_account_email = google_service_account.push[0].email
      audience              = local.push_audience
    }
  }
  depends_on = [google_cloud_run_v2_service_iam_member.push_invokes_worker]
}

locals {
  subscription_name = var.mode == "pull" ? google_pubsub_subscription.pull[0].name : google_pubsub_subscription.push[0].name
  subscription_id   = var.mode == "pull" ? google_pubsub_subscription.pull[0].id : google_pubsub_subscription.push[0].id
}

# Dead-lettering is done by the Pub/Sub service agent: it must publish to the
# dead-letter topic and acknowledge on the source subscription.
resource "google_pubsub_topic_iam_member" "pubsub_agent_publishes_dead_letters" {
  project = var.project
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_forwards_dead_letters" {
  project      = var.project
  subscription = local.subscription_name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# Pull mode: the worker may pull and ack on its subscription, nothing else.
resource "google_pubsub_subscription_iam_member" "worker_pulls" {
  count        = var.mode == "pull" ? 1 : 0
  project      = var.project
  subscription = google_pubsub_subscription.pull[0].name
  role         = "roles/pubsub.subscriber"
  member       = local.worker_member
}

# Push mode: the identity Pub/Sub signs push requests as. It may invoke the
# worker service and nothing else; the Pub/Sub service agent mints its tokens
# (needed explicitly in projects created before April 2021).
resource "google_service_account" "push" {
  count        = var.mode == "push" ? 1 : 0
  project      = var.project
  account_id   = "${var.name}-push"
  display_name = "gcs2s3 push invoker (${var.name})"
  description  = "Pub/Sub signs push requests to the gcs2s3 service as this account."
}

resource "google_service_account_iam_member" "pubsub_agent_signs_push_tokens" {
  count              = var.mode == "push" ? 1 : 0
  service_account_id = google_service_account.push[0].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

resource "google_cloud_run_v2_service_iam_member" "push_invokes_worker" {
  count    = var.mode == "push" ? 1 : 0
  project  = var.project
  location = var.region
  name     = google_cloud_run_v2_service.worker.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push[0].email}"
}
