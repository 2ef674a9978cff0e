provider "aws" {
  region = var.region
}

module "mfa_required" {
  source = "../.."

  groups = [var.group_name]
}

variable "group_name" {
  type        = string
  description = "Existing IAM group whose members must sign in to the console with MFA."
  default     = "developers"
}

variable "region" {
  type        = string
  description = "AWS region of the provider (IAM is global)."
  default     = "us-east-1"
}
