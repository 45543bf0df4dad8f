terraform {
  required_version = ">= 1.5"
  # The modules' own ranges (each module's versions.tf says why).
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.46, < 6.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9, < 1.0"
    }
  }
}

provider "google" {
  project = var.gcp_project
  region  = var.gcp_region
}

# Terraform's own AWS credentials (your usual AWS CLI profile or SSO session)
# create the role; the worker never gets an AWS key.
provider "aws" {
  region = var.aws_region
}
