# The AWS side of gcs2s3: a role that only the worker's Google service account
# can assume (no AWS access key exists anywhere), allowed only the S3 calls the
# worker makes, on the destination bucket and prefix.

data "aws_partition" "current" {}

locals {
  bucket_arn  = "arn:${data.aws_partition.current.partition}:s3:::${var.bucket_name}"
  objects_arn = "${local.bucket_arn}/${var.key_prefix}*"
  bucket_id   = var.create_bucket ? aws_s3_bucket.destination[0].id : var.bucket_name
}

# ---- Trust: AssumeRoleWithWebIdentity with a Google ID token of one service account ----

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "WorkerGoogleServiceAccount"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = ["accounts.google.com"]
    }
    # A Google ID token's azp and sub are the service account's unique id;
    # STS exposes azp as accounts.google.com:aud and the token's aud as :oaud.
    # All three are pinned: any Google identity can mint a token for any audience.
    condition {
      test     = "StringEquals"
      variable = "accounts.google.com:aud"
      values   = [var.google_service_account_unique_id]
    }
    condition {
      test     = "StringEquals"
      variable = "accounts.google.com:oaud"
      values   = [var.id_token_audience]
    }
    condition {
      test     = "StringEquals"
      variable = "accounts.google.com:sub"
      values   = [var.google_service_account_unique_id]
    }
  }
}

resource "aws_iam_role" "worker" {
  name                 = var.name
  description          = "gcs2s3: assumed by Google service account ${var.google_service_account_unique_id} with its ID token (no access keys)"
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = var.max_session_duration_seconds
  tags                 = var.tags
}

# ---- Permissions: exactly the worker's S3 calls ----

data "aws_iam_policy_document" "worker" {
  # HeadObject and CopyObject's source read are s3:GetObject; PutObject,
  # CreateMultipartUpload, UploadPart, CompleteMultipartUpload and CopyObject's
  # write (the same-key metadata refresh) are s3:PutObject; a failed or
  # cancelled copy, or a stale upload found at the key, calls
  # AbortMultipartUpload; resuming a large copy reads the parts S3 already
  # holds (ListParts: s3:ListMultipartUploadParts).
  statement {
    sid       = "ReplicateObjects"
    effect    = "Allow"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = [local.objects_arn]
  }

  # ListObjectsV2 (backfill and verify list the destination prefix). It also
  # makes HeadObject of a missing key answer 404 instead of 403: without it
  # every first copy would look like an access error. That implicit check
  # carries no s3:prefix, hence IfExists: list calls naming another prefix are
  # refused, the existence check is not. ListMultipartUploads (with the key as
  # its prefix) finds the upload a large copy resumes.
  statement {
    sid       = "ListDestination"
    effect    = "Allow"
    actions   = ["s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [local.bucket_arn]
    dynamic "condition" {
      for_each = var.key_prefix == "" ? [] : [var.key_prefix]
      content {
        test     = "StringLikeIfExists"
        variable = "s3:prefix"
        values   = ["${condition.value}*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.replicate_deletes ? [local.objects_arn] : []
    content {
      sid       = "ReplicateDeletes"
      effect    = "Allow"
      actions   = ["s3:DeleteObject"]
      resources = [statement.value]
    }
  }

  # SSE-KMS with the one key given (the bucket's default key, or the worker's
  # S3_SSE_KMS_KEY_ID), nothing without one. S3 calls KMS on the role's
  # behalf: PutObject and CreateMultipartUpload need kms:GenerateDataKey (a
  # data key per object); a multipart upload also needs kms:Decrypt, as S3
  # decrypts the parts' data key to complete it (S3 User Guide, "Multipart
  # upload API and permissions"), and so does the in-place CopyObject of a
  # metadata update, which reads the object it rewrites. No other KMS action
  # (no kms:Encrypt, kms:ReEncrypt*, kms:DescribeKey) is ever called.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "UseSseKmsKey"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "worker" {
  name   = "${var.name}-s3"
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.worker.json
}

# ---- The bucket (optional) and its multipart-upload hygiene ----

resource "aws_s3_bucket" "destination" {
  count         = var.create_bucket ? 1 : 0
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "destination" {
  count                   = var.create_bucket ? 1 : 0
  bucket                  = aws_s3_bucket.destination[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "destination" {
  count  = var.create_bucket && var.kms_key_arn != null ? 1 : 0
  bucket = aws_s3_bucket.destination[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

# A worker stopped mid-copy aborts its upload, but SIGKILL or a crash leaves
# the parts behind, billed and invisible; S3 removes them after this many days.
resource "aws_s3_bucket_lifecycle_configuration" "destination" {
  count  = var.manage_lifecycle_rule ? 1 : 0
  bucket = local.bucket_id
  rule {
    id     = "gcs2s3-abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {
      prefix = var.key_prefix
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }
}
