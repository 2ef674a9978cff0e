provider "aws" {
  region = var.region
}

# Access keys need an MFA session too: users call `aws sts get-session-token --serial-number ... --token-code ...`
# and use the temporary credentials it returns, also to assume roles.
module "mfa_required" {
  source = "../.."

  name                                   = "require-mfa-everywhere"
  users                                  = var.users
  enforce_for_programmatic_access        = true
  guard_role_assumption_from_access_keys = true
}

variable "region" {
  type        = string
  description = "AWS region of the provider (IAM is global)."
  default     = "us-east-1"
}

variable "users" {
  type        = set(string)
  description = "Existing users to attach the policy to."
  default     = ["alice"]
}
