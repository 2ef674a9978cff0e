provider "aws" {
  region = var.region
}

# The behaviour of the "Require MFA, but not for programmatic access" policy this module grew from,
# without its defects (see the module README: differences from the seed).
module "mfa_required" {
  source = "../.."

  name  = "require-mfa-seed-compatible"
  users = var.users

  allow_list_users_without_mfa            = true
  allow_login_profile_changes_without_mfa = true
  allow_mfa_removal_without_mfa           = true
  mfa_device_names                        = "username"
  exempt_aws_service_calls                = false
  additional_actions_without_mfa          = ["iam:GetAccountSummary"]
}

variable "region" {
  type        = string
  description = "AWS region of the provider (IAM is global)."
  default     = "us-east-1"
}

variable "users" {
  type        = set(string)
  description = "Existing users to attach the policy to (the seed was attached to users)."
  default     = ["alice"]
}
