terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source = "hashicorp/google"
      # 6.0 added deletion_protection to Cloud Run v2 services and jobs.
      # Checked against 7.45 (test/fixtures/terraform-schema); below 8.0: a
      # new major version is adopted by testing it, not by accident.
      version = ">= 6.0, < 8.0"
    }
  }
}
