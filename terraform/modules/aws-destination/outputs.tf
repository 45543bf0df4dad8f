output "role_arn" {
  description = "The worker's AWS_ROLE_ARN."
  value       = aws_iam_role.worker.arn
}

output "role_name" {
  description = "Name of the IAM role."
  value       = aws_iam_role.worker.name
}

output "bucket_name" {
  description = "The worker's S3_BUCKET."
  value       = local.bucket_id
}

output "key_prefix" {
  description = "The worker's S3_KEY_PREFIX."
  value       = var.key_prefix
}
