terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.46: the oldest provider these resources were checked against
      # (test/fixtures/terraform-schema); they use nothing newer. Below 7.0:
      # a new major version is adopted by testing it, not by accident.
      version = ">= 5.46, < 6.0"
    }
  }
}
