terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source = "hashicorp/google"
      # custom_audiences, deletion_protection and scaling on Cloud Run v2 resources.
      version = ">= 6.0"
    }
  }
}
