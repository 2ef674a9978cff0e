variable "accounts" {
  type = map(object({
    account_id                      = string
    users                           = optional(set(string), [])
    groups                          = optional(set(string), [])
    enforce_for_programmatic_access = optional(bool, false)
  }))
  description = "Member accounts by name: the account ID, the existing users and groups in it to attach the policy to, and whether access keys need an MFA session there too. Every name needs its provider and module block in main.tf."
  nullable    = false

  validation {
    condition     = alltrue([for account in var.accounts : can(regex("^[0-9]{12}$", account.account_id))])
    error_message = "Each account_id in accounts must be exactly 12 digits (for example \"111111111111\")."
  }
  validation {
    condition     = length(distinct([for account in var.accounts : account.account_id])) == length(var.accounts)
    error_message = "Two entries of accounts have the same account_id: each member account appears once."
  }
}

variable "name" {
  type        = string
  description = "Prefix of the policy's name in every account (a unique suffix is added)."
  default     = "require-mfa"
  nullable    = false
}

variable "region" {
  type        = string
  description = "AWS region of every provider configuration (IAM is global)."
  default     = "us-east-1"
  nullable    = false
}

variable "role_name" {
  type        = string
  description = "Role that Terraform assumes in each member account: AWS Organizations creates OrganizationAccountAccessRole in the accounts it creates; Control Tower uses AWSControlTowerExecution."
  default     = "OrganizationAccountAccessRole"
  nullable    = false

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,64}$", var.role_name))
    error_message = "role_name must be an IAM role name: 1 to 64 characters of letters, digits and +=,.@_-."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the policy in every account."
  default     = {}
  nullable    = false
}
