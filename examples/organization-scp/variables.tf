variable "account_email" {
  type        = string
  description = "Email address of the member account the example creates (unique across AWS)."
  default     = "mfa-required-example@example.com"
}

variable "account_name" {
  type        = string
  description = "Name of the member account the example creates."
  default     = "mfa-required-example"
}

variable "enforce_for_programmatic_access" {
  type        = bool
  description = "Deny requests signed with long-term access keys too (see the scp module's input)."
  default     = false
}

variable "exempt_principal_arns" {
  type        = set(string)
  description = "IAM user ARN patterns the guard leaves alone: the break-glass user of every member account."
  default     = ["arn:aws:iam::*:user/break-glass"]
}

variable "guard_role_assumption_from_access_keys" {
  type        = bool
  description = "Deny role assumption to IAM users' requests without MFA, long-term keys included (see the scp module's input)."
  default     = false
}

variable "ou_name" {
  type        = string
  description = "Name of the organizational unit the example creates."
  default     = "mfa-required"
}

variable "region" {
  type        = string
  description = "AWS region of the provider (AWS Organizations is global)."
  default     = "us-east-1"
}
