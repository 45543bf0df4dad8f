terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source = "hashicorp/google"
      # The same range as the gcp-replicator module, which this one watches.
      version = ">= 6.0, < 8.0"
    }
    time = {
      source = "hashicorp/time"
      # time_sleep; checked against 0.14.
      version = ">= 0.9, < 1.0"
    }
  }
}
