variable "name" {
  description = "Name of the IAM role the worker assumes (and prefix of its inline policy)."
  type        = string
  default     = "gcs2s3"
  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.name))
    error_message = "name must be a valid IAM role name: 1-64 of letters, digits and +=,.@_-."
  }
}

variable "bucket_name" {
  description = "Destination S3 bucket (the worker's S3_BUCKET)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "create_bucket" {
  description = "Create the bucket (private, public access blocked). false: the bucket already exists and is only granted to the role."
  type        = bool
  default     = false
}

variable "force_destroy" {
  description = "With create_bucket: let `terraform destroy` delete the bucket even when it holds objects."
  type        = bool
  default     = false
}

variable "key_prefix" {
  description = "The worker's S3_KEY_PREFIX: the role may write only keys starting with it. Empty: the whole bucket."
  type        = string
  default     = ""
  validation {
    condition     = !startswith(var.key_prefix, "/")
    error_message = "key_prefix must not start with \"/\" (S3 keys would begin with an empty segment)."
  }
  validation {
    condition     = length(var.key_prefix) <= 1024
    error_message = "key_prefix must be at most 1024 characters (the longest S3 key)."
  }
}

variable "google_service_account_unique_id" {
  description = "Numeric unique id of the worker's Google service account (google_service_account.unique_id): the token's azp and sub, pinned as accounts.google.com:aud and :sub."
  type        = string
  validation {
    condition     = can(regex("^[0-9]{10,30}$", var.google_service_account_unique_id))
    error_message = "google_service_account_unique_id must be the service account's numeric unique id, not its email."
  }
}

variable "id_token_audience" {
  description = "Audience of the worker's Google ID token (its ID_TOKEN_AUDIENCE), pinned as accounts.google.com:oaud."
  type        = string
  validation {
    condition     = length(var.id_token_audience) > 0
    error_message = "id_token_audience must not be empty."
  }
}

variable "replicate_deletes" {
  description = "The worker's REPLICATE_DELETES: grant s3:DeleteObject on the destination prefix."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "ARN of the KMS key objects are encrypted with (the bucket's default SSE-KMS key, or the worker's S3_SSE_KMS_KEY_ID), if any: the role is granted kms:GenerateDataKey and kms:Decrypt on it, and on nothing else; null grants no KMS action. The key's policy must allow the role too (README). With create_bucket it becomes the bucket's default encryption."
  type        = string
  default     = null
  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9A-Za-z-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), or null; an alias ARN does not work in the role's policy."
  }
}

variable "max_session_duration_seconds" {
  description = "The role's maximum session (3600-43200). The worker asks for AWS_SESSION_DURATION_SECONDS (default 3600), which must not exceed it."
  type        = number
  default     = 3600
  validation {
    condition     = var.max_session_duration_seconds >= 3600 && var.max_session_duration_seconds <= 43200
    error_message = "max_session_duration_seconds must be 3600-43200."
  }
}

variable "manage_lifecycle_rule" {
  description = "Manage the bucket's lifecycle configuration with one rule aborting incomplete multipart uploads under key_prefix. S3 holds ONE lifecycle configuration per bucket: set false for a bucket that already has lifecycle rules, and add an AbortIncompleteMultipartUpload rule to them yourself."
  type        = bool
  default     = true
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which S3 aborts a multipart upload that was never completed (a worker killed mid-copy), so its parts stop costing storage."
  type        = number
  default     = 1
  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1
    error_message = "abort_incomplete_multipart_upload_days must be at least 1."
  }
}

variable "tags" {
  description = "Tags for the role and the bucket."
  type        = map(string)
  default     = {}
  validation {
    condition     = length(var.tags) <= 50 && alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags: at most 50, keys 1-128 characters not starting with \"aws:\", values at most 256 characters."
  }
}
