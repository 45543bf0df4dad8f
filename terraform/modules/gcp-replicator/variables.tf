# ---- Required ----

variable "project" {
  description = "Google Cloud project that runs the worker and holds the topics and subscriptions."
  type        = string
  validation {
    condition     = can(regex("^([a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project))
    error_message = "project must be a Google Cloud project id (6-30 lowercase letters, digits and hyphens), not its name or number."
  }
}

variable "region" {
  description = "Cloud Run region of the worker service and the backfill and verify jobs."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Cloud Run region such as us-central1."
  }
}

variable "source_bucket" {
  description = "GCS bucket to replicate (name only, no gs://)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", var.source_bucket))
    error_message = "source_bucket must be a GCS bucket name, without gs://."
  }
}

variable "image" {
  description = "Container image built from this repository's Dockerfile, e.g. REGION-docker.pkg.dev/PROJECT/REPO/gcs2s3:TAG."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][\\w./:@-]*$", var.image)) && !strcontains(var.image, "://")
    error_message = "image must be a container image reference such as REGION-docker.pkg.dev/PROJECT/REPO/gcs2s3:TAG (no https://, no spaces)."
  }
}

variable "aws_role_arn" {
  description = "The worker's AWS_ROLE_ARN (the aws-destination module's role_arn)."
  type        = string
  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.aws_role_arn))
    error_message = "aws_role_arn must be an IAM role ARN."
  }
}

variable "aws_region" {
  description = "The worker's AWS_REGION: region of the destination bucket (and of the STS endpoint it calls)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]{2,4}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "aws_region must be an AWS region such as us-east-1."
  }
}

variable "s3_bucket" {
  description = "The worker's S3_BUCKET."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.s3_bucket))
    error_message = "s3_bucket must be an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

# ---- Optional ----

variable "name" {
  description = "Base name of every resource (service, job, topics, subscriptions, service accounts)."
  type        = string
  default     = "gcs2s3"
  validation {
    # Service account ids are 6-30 characters; "<name>-worker" must fit.
    condition     = can(regex("^[a-z][a-z0-9-]{0,21}[a-z0-9]$", var.name))
    error_message = "name must be 2-23 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "mode" {
  description = "\"pull\": a Cloud Run service runs `gcs2s3 pull` on a pull subscription (min_instances always on). \"push\": Pub/Sub pushes each notification to `gcs2s3 serve` with an OIDC token; the service can scale to zero."
  type        = string
  default     = "pull"
  validation {
    condition     = contains(["pull", "push"], var.mode)
    error_message = "mode must be \"pull\" or \"push\"."
  }
}

variable "source_prefix" {
  description = "Replicate only object names starting with this (the notification's object_name_prefix and the backfill job's prefix). Empty: the whole bucket."
  type        = string
  default     = ""
  validation {
    condition     = length(var.source_prefix) <= 1024
    error_message = "source_prefix must be at most 1024 characters (the longest GCS object name)."
  }
}

variable "source_bucket_project" {
  description = "Project that owns source_bucket, when it is not `project`: its Cloud Storage service agent publishes the notifications."
  type        = string
  default     = null
  validation {
    condition     = var.source_bucket_project == null || can(regex("^([a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.source_bucket_project))
    error_message = "source_bucket_project must be a Google Cloud project id, or null."
  }
}

variable "s3_key_prefix" {
  description = "The worker's S3_KEY_PREFIX (must equal the aws-destination module's key_prefix)."
  type        = string
  default     = ""
  validation {
    condition     = !startswith(var.s3_key_prefix, "/") && length(var.s3_key_prefix) <= 1024
    error_message = "s3_key_prefix must not start with \"/\" and must be at most 1024 characters (the longest S3 key)."
  }
}

variable "id_token_audience" {
  description = "The worker's ID_TOKEN_AUDIENCE, pinned as accounts.google.com:oaud in the AWS trust policy. Default \"<name>-aws-sts\"."
  type        = string
  default     = null
  validation {
    condition     = var.id_token_audience == null || can(regex("^\\S+$", var.id_token_audience))
    error_message = "id_token_audience must be null (the default) or a non-empty string without spaces."
  }
}

variable "replicate_deletes" {
  description = "The worker's REPLICATE_DELETES; also subscribes the notification to OBJECT_DELETE and OBJECT_ARCHIVE."
  type        = bool
  default     = false
}

variable "replicate_metadata_updates" {
  description = "Subscribe the notification to OBJECT_METADATA_UPDATE, so metadata changes in GCS are copied to S3 (CopyObject, same key)."
  type        = bool
  default     = true
}

variable "max_concurrent_objects" {
  description = "The worker's MAX_CONCURRENT_OBJECTS; in push mode also the service's requests per instance."
  type        = number
  default     = 8
  validation {
    condition     = floor(var.max_concurrent_objects) == var.max_concurrent_objects && var.max_concurrent_objects >= 1 && var.max_concurrent_objects <= 1000
    error_message = "max_concurrent_objects must be a whole number, 1-1000 (the worker's and Cloud Run's bounds)."
  }
}

variable "s3_storage_class" {
  description = "The worker's S3_STORAGE_CLASS: storage class of every object written (STANDARD, INTELLIGENT_TIERING, STANDARD_IA, ONEZONE_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE, ...). Default null: S3's STANDARD."
  type        = string
  default     = null
  validation {
    condition     = var.s3_storage_class == null || contains(["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE"], var.s3_storage_class)
    error_message = "s3_storage_class must be null or one of S3's storage classes (STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE, ...)."
  }
}

variable "s3_sse" {
  description = "The worker's S3_SSE: \"AES256\" (SSE-S3) or \"aws:kms\" (SSE-KMS) on every object written. Default null: the bucket's default encryption."
  type        = string
  default     = null
  validation {
    condition     = var.s3_sse == null || contains(["AES256", "aws:kms"], coalesce(var.s3_sse, "-"))
    error_message = "s3_sse must be null, \"AES256\" or \"aws:kms\"."
  }
}

variable "s3_sse_kms_key_id" {
  description = "The worker's S3_SSE_KMS_KEY_ID (with s3_sse = \"aws:kms\"): the KMS key of every object written; give the same key ARN to the aws-destination module's kms_key_arn so the role may use it. Default null: the bucket's default key."
  type        = string
  default     = null
  validation {
    condition     = var.s3_sse_kms_key_id == null || (var.s3_sse == "aws:kms" && can(regex("^[\\w:/+=,.@-]+$", coalesce(var.s3_sse_kms_key_id, "-"))))
    error_message = "s3_sse_kms_key_id needs s3_sse = \"aws:kms\" and must be a KMS key id, key ARN or alias."
  }
}

variable "s3_sse_bucket_key" {
  description = "The worker's S3_SSE_BUCKET_KEY (with s3_sse = \"aws:kms\"): use an S3 Bucket Key (fewer KMS requests). Default null: the bucket's setting."
  type        = bool
  default     = null
  validation {
    condition     = var.s3_sse_bucket_key == null || var.s3_sse == "aws:kms"
    error_message = "s3_sse_bucket_key needs s3_sse = \"aws:kms\"."
  }
}

variable "max_bytes_per_second" {
  description = "The worker's MAX_BYTES_PER_SECOND, per process (the service's instances and each backfill task): bytes, or with a binary suffix (\"512K\", \"10M\"). Default null: no limit."
  type        = string
  default     = null
  validation {
    condition     = var.max_bytes_per_second == null || can(regex("^(off|OFF|[0-9]+(\\.[0-9]+)?([bkmgtpBKMGTP][iI]?[bB]?)?)$", coalesce(var.max_bytes_per_second, "-")))
    error_message = "max_bytes_per_second must be null, a number of bytes, or a number with a suffix like 10M (MiB/s)."
  }
}

variable "env" {
  description = "More worker environment variables (LOG_LEVEL, PART_SIZE_MIB, INCLUDE_PREFIXES, ...). The ones this module sets itself, and AWS keys, are refused."
  type        = map(string)
  default     = {}
  validation {
    condition = alltrue([for k in keys(var.env) : !contains([
      "AWS_ROLE_ARN", "AWS_REGION", "S3_BUCKET", "S3_KEY_PREFIX", "ID_TOKEN_AUDIENCE", "SOURCE_BUCKETS",
      "REPLICATE_DELETES", "MAX_CONCURRENT_OBJECTS", "GOOGLE_CLOUD_PROJECT", "PUBSUB_SUBSCRIPTION",
      "S3_STORAGE_CLASS", "S3_SSE", "S3_SSE_KMS_KEY_ID", "S3_SSE_BUCKET_KEY", "MAX_BYTES_PER_SECOND",
      "PUSH_AUDIENCE", "PUSH_SERVICE_ACCOUNT", "PUSH_AUTH", "PORT", "PLAN_BUCKET",
      "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    ], k)])
    error_message = "env must not set the variables this module manages (AWS_ROLE_ARN, S3_BUCKET, PUBSUB_SUBSCRIPTION, PUSH_*, ...) nor AWS keys: the worker is keyless."
  }
}

variable "cpu" {
  description = "CPU limit of the service and job containers."
  type        = string
  default     = "1"
  validation {
    condition     = can(regex("^([0-9]+(\\.[0-9]+)?|[0-9]+m)$", var.cpu))
    error_message = "cpu must be a number of CPUs such as \"1\", \"2\" or \"4\" (or millicores, \"1000m\")."
  }
}

variable "memory" {
  description = "Memory limit. The worker's peak is about 96 MiB + MAX_CONCURRENT_OBJECTS x PART_QUEUE_SIZE x PART_SIZE_MIB (8 x 4 x 16 MiB = 608 MiB by default)."
  type        = string
  default     = "1Gi"
  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|M|G)$", var.memory))
    error_message = "memory must be a size such as \"512Mi\" or \"1Gi\"."
  }
}

variable "min_instances" {
  description = "Service instances kept running. At least 1 in pull mode (a pull worker with no instance pulls nothing); 0 allowed in push mode."
  type        = number
  default     = 1
  validation {
    condition     = floor(var.min_instances) == var.min_instances && var.min_instances >= 0
    error_message = "min_instances must be a whole number, 0 or more."
  }
}

variable "max_instances" {
  description = "Service instances at most."
  type        = number
  default     = 4
  validation {
    condition     = floor(var.max_instances) == var.max_instances && var.max_instances >= 1
    error_message = "max_instances must be a whole number, 1 or more."
  }
}

variable "ack_deadline_seconds" {
  description = "Subscription ack deadline (10-600). Pull: the client extends leases during long copies. Push: a request (and so a copy) lasts at most this long; the service's request timeout follows it."
  type        = number
  default     = 600
  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be 10-600."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of one notification before it goes to the dead-letter topic (5-100)."
  type        = number
  default     = 10
  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be 5-100 (Pub/Sub's bounds)."
  }
}

variable "retry_minimum_backoff" {
  description = "Pub/Sub's first redelivery delay after a nack or a 503."
  type        = string
  default     = "10s"
  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]{1,9})?s$", var.retry_minimum_backoff)) && try(tonumber(trimsuffix(var.retry_minimum_backoff, "s")) <= 600, false)
    error_message = "retry_minimum_backoff must be a duration in seconds such as \"10s\", at most \"600s\" (Pub/Sub's bound)."
  }
}

variable "retry_maximum_backoff" {
  description = "Pub/Sub's longest redelivery delay."
  type        = string
  default     = "600s"
  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]{1,9})?s$", var.retry_maximum_backoff)) && try(tonumber(trimsuffix(var.retry_maximum_backoff, "s")) <= 600, false)
    error_message = "retry_maximum_backoff must be a duration in seconds such as \"600s\", at most \"600s\" (Pub/Sub's bound)."
  }
}

variable "message_retention_duration" {
  description = "How long unacknowledged notifications (and dead letters) are kept."
  type        = string
  default     = "604800s"
  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]{1,9})?s$", var.message_retention_duration)) && try(tonumber(trimsuffix(var.message_retention_duration, "s")) <= 604800, false) && try(tonumber(trimsuffix(var.message_retention_duration, "s")) >= 600, false)
    error_message = "message_retention_duration must be a duration in seconds from \"600s\" (10 minutes) to \"604800s\" (7 days)."
  }
}

variable "push_audience" {
  description = "Push mode: audience of the push OIDC token (PUSH_AUDIENCE, and a custom audience of the service). Default \"<name>-push\"."
  type        = string
  default     = null
  validation {
    condition     = var.push_audience == null || can(regex("^\\S+$", var.push_audience))
    error_message = "push_audience must be null (the default) or a non-empty string without spaces."
  }
}

variable "backfill_tasks" {
  description = "Tasks of the backfill and verify jobs: each lists its own ranges of object names, cut once per execution by task 0 (the plan in the plans bucket)."
  type        = number
  default     = 1
  validation {
    condition     = floor(var.backfill_tasks) == var.backfill_tasks && var.backfill_tasks >= 1 && var.backfill_tasks <= 10000
    error_message = "backfill_tasks must be a whole number, 1-10000 (a Cloud Run job's task count)."
  }
}

variable "plan_bucket_name" {
  description = "GCS bucket this module creates for the backfill and verify jobs' shared range plans (PLAN_BUCKET: one small object per execution, deleted after 7 days). Default: \"<project>-<name>-plans\"."
  type        = string
  default     = null
  validation {
    condition     = var.plan_bucket_name == null || can(regex("^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$", var.plan_bucket_name))
    error_message = "plan_bucket_name must be a GCS bucket name without dots: 3-63 lowercase letters, digits, hyphens and underscores."
  }
}

variable "backfill_task_timeout" {
  description = "Longest run of one backfill or verify task."
  type        = string
  default     = "86400s"
  validation {
    condition     = can(regex("^[0-9]+s$", var.backfill_task_timeout)) && try(tonumber(trimsuffix(var.backfill_task_timeout, "s")) <= 604800, false)
    error_message = "backfill_task_timeout must be whole seconds such as \"86400s\", at most \"604800s\" (168 hours, Cloud Run jobs' limit)."
  }
}

variable "deletion_protection" {
  description = "Refuse to destroy the Cloud Run service and jobs; without it, `terraform destroy` also deletes the plans bucket with the plans in it."
  type        = bool
  default     = false
}

variable "labels" {
  description = "Labels of the Cloud Run service, jobs, topics and subscriptions."
  type        = map(string)
  default     = {}
  validation {
    condition     = length(var.labels) <= 64 && alltrue([for k, v in var.labels : can(regex("^[\\p{Ll}\\p{Lo}][\\p{Ll}\\p{Lo}\\p{N}_-]{0,62}$", k)) && can(regex("^[\\p{Ll}\\p{Lo}\\p{N}_-]{0,63}$", v))])
    error_message = "labels: at most 64; keys start with a lowercase letter; keys and values are at most 63 lowercase letters, digits, underscores and hyphens."
  }
}
