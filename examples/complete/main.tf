provider "aws" {
  region = var.region
}

# The members of the created group; in your account they usually exist already.
resource "aws_iam_user" "member" {
  #checkov:skip=CKV_AWS_273:The module exists to enforce MFA on IAM users; the example creates two to show group membership.
  for_each = { alice = "/", bob = "/engineering/" }

  name = each.key
  path = each.value
}

module "mfa_required" {
  source = "../.."

  name            = "require-mfa-complete"
  use_name_prefix = false
  path            = "/security/"
  description     = "Console access requires MFA; access keys keep working. Managed by Terraform."
  tags            = { owner = "security", purpose = "mfa" }

  users        = var.users
  groups       = var.groups
  create_group = true
  group_name   = "mfa-required-complete"
  group_path   = "/security/"
  group_users  = [for user in aws_iam_user.member : user.name]
  account_id   = var.account_id

  enforce_for_programmatic_access         = false
  exempt_aws_service_calls                = true
  guard_credentials_from_access_keys      = true
  guard_role_assumption_from_access_keys  = false
  allow_password_change_without_mfa       = true
  allow_list_users_without_mfa            = false
  allow_login_profile_changes_without_mfa = false
  allow_mfa_removal_without_mfa           = false
  mfa_device_names                        = "any"
  additional_actions_without_mfa          = ["iam:GetAccountSummary"]
  self_service = {
    access_keys                  = true
    ssh_public_keys              = true
    signing_certificates         = false
    service_specific_credentials = true
  }
}

variable "account_id" {
  type        = string
  description = "Account ID for the policy's ARNs; null reads it from the provider's credentials."
  default     = null
}

variable "groups" {
  type        = set(string)
  description = "Existing groups to attach the policy to as well."
  default     = []
}

variable "region" {
  type        = string
  description = "AWS region of the provider (IAM is global)."
  default     = "us-east-1"
}

variable "users" {
  type        = set(string)
  description = "Existing users to attach the policy to directly."
  default     = []
}
