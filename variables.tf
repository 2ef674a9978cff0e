variable "account_id" {
  type        = string
  description = "AWS account ID used in the policy's ARNs. When null, it is read with aws_caller_identity."
  default     = null

  validation {
    condition     = var.account_id == null || can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be exactly 12 digits (for example \"123456789012\"), or null to look it up."
  }
}

variable "additional_actions_without_mfa" {
  type        = list(string)
  description = "Extra actions (\"service:Action\") exempted from the no-MFA deny. They are not granted: grant them in another policy. Wildcards * and ? are allowed except for iam: (literal Get... or List... names only) and sts: (only sts:GetCallerIdentity and sts:GetAccessKeyInfo); services that act for the caller or start other sessions (cloudformation, servicecatalog, ssm, lambda, ...) are refused."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for action in var.additional_actions_without_mfa : can(regex("^[a-z0-9-]+:[A-Za-z0-9*?]+$", action))])
    error_message = "Each entry of additional_actions_without_mfa must look like \"service:Action\" (lower-case service prefix, then letters, digits, * or ?), for example \"iam:GetAccountSummary\"."
  }
  validation {
    condition = alltrue([
      for action in var.additional_actions_without_mfa : (
        can(regex("^iam:(?i)(get|list)[a-z0-9]+$", action)) || contains(["sts:getaccesskeyinfo", "sts:getcalleridentity"], lower(action)) || !can(regex("^(iam|sts):", action))
      )
    ])
    error_message = "additional_actions_without_mfa may exempt iam actions only by literal read-only names (Get... or List..., no * or ?) and sts: actions only as \"sts:GetCallerIdentity\" or \"sts:GetAccessKeyInfo\": a pattern such as \"iam:*MFA*\", \"iam:Create*\" or \"sts:*\" would let a session without MFA remove MFA, create credentials or assume roles."
  }
  validation {
    condition     = !anytrue([for action in var.additional_actions_without_mfa : contains(["cloudformation", "codebuild", "ec2-instance-connect", "lambda", "servicecatalog", "signin", "ssm", "ssm-guiconnect", "states"], split(":", action)[0])])
    error_message = "additional_actions_without_mfa must not exempt cloudformation, servicecatalog, ssm, ssm-guiconnect, ec2-instance-connect, lambda, codebuild, states or signin actions: they act for the caller (calls AWS makes on its behalf are not denied) or hand out a shell or a role session that this policy never sees."
  }
}

variable "allow_list_users_without_mfa" {
  type        = bool
  description = "Grant iam:ListUsers and exempt it from the no-MFA deny (the seed did; it reveals every user name in the account)."
  default     = false
  nullable    = false
}

variable "allow_login_profile_changes_without_mfa" {
  type        = bool
  description = "Exempt creating, updating and deleting the caller's own console password (login profile) from the no-MFA deny."
  default     = false
  nullable    = false
}

variable "allow_mfa_removal_without_mfa" {
  type        = bool
  description = "Exempt deactivating and deleting the caller's own MFA devices from the no-MFA deny (the seed did)."
  default     = false
  nullable    = false
}

variable "allow_password_change_without_mfa" {
  type        = bool
  description = "Exempt iam:ChangePassword and iam:GetAccountPasswordPolicy from the no-MFA deny, so a user who must reset the password at first sign-in can."
  default     = true
  nullable    = false
}

variable "create_group" {
  type        = bool
  description = "Create an IAM group with the policy attached (members: group_users)."
  default     = false
  nullable    = false
}

variable "description" {
  type        = string
  description = "Description of the managed policy. When null, a description of the enforced behaviour is used; \"\" sets none (keep it when importing a policy that has none: a description change replaces the policy)."
  default     = null

  validation {
    condition     = var.description == null || try(length(var.description) <= 1000, false)
    error_message = "description must be at most 1000 characters."
  }
}

variable "enforce_for_programmatic_access" {
  type        = bool
  description = "Deny requests signed with long-term access keys too (BoolIfExists), except the MFA self-service set. CLI users then work with an MFA session from sts:GetSessionToken, which needs no permission."
  default     = false
  nullable    = false
}

variable "exempt_aws_service_calls" {
  type        = bool
  description = "Do not deny calls that an AWS service makes with the user's credentials (aws:ViaAWSService true), such as CloudFormation, Athena or Glue."
  default     = true
  nullable    = false
}

variable "group_name" {
  type        = string
  description = "Name of the group that create_group creates. When null, name is used."
  default     = null

  validation {
    condition     = var.group_name == null || can(regex("^[\\w+=,.@-]{1,128}$", var.group_name))
    error_message = "group_name must be 1 to 128 characters of letters, digits and +=,.@_-."
  }
}

variable "group_path" {
  type        = string
  description = "IAM path of the group that create_group creates."
  default     = "/"
  nullable    = false

  validation {
    condition     = length(var.group_path) <= 512 && can(regex("^/([\\w+=,.@-]+/)*$", var.group_path))
    error_message = "group_path must be \"/\" or begin and end with \"/\" (for example \"/teams/\"), at most 512 characters of letters, digits and +=,.@_-."
  }
}

variable "group_users" {
  type        = set(string)
  description = "Existing IAM users to add to the created group. Membership is not exclusive: members added elsewhere stay."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for user in var.group_users : can(regex("^[\\w+=,.@-]{1,64}$", user))])
    error_message = "Each entry of group_users must be an IAM user name: 1 to 64 characters of letters, digits and +=,.@_-."
  }
}

variable "groups" {
  type        = set(string)
  description = "Existing IAM groups to attach the policy to."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for group in var.groups : can(regex("^[\\w+=,.@-]{1,128}$", group))])
    error_message = "Each entry of groups must be an IAM group name: 1 to 128 characters of letters, digits and +=,.@_-."
  }
}

variable "guard_credentials_from_access_keys" {
  type        = bool
  description = "Deny, to requests signed with a long-term access key: enabling or deactivating the caller's own MFA devices, changing its console login profile, creating or re-activating its long-term credentials (access keys, SSH keys, signing certificates, service-specific credentials), and sts:GetFederationToken. The MFA and login-profile changes are denied too when an AWS service (CloudFormation, Cloud Control) makes them for the user without MFA. A leaked key then cannot take over the console or outlive its rotation; those changes need an MFA session."
  default     = true
  nullable    = false
}

variable "guard_role_assumption_from_access_keys" {
  type        = bool
  description = "Deny sts:AssumeRole* and sts:AssumeRoot to requests without MFA, long-term access keys included: a leaked key then cannot assume a role (whose session, and a console sign-in URL made from it, no longer meets this policy). Keys assume roles from an MFA session (aws sts get-session-token --serial-number ..., or a CLI profile with mfa_serial)."
  default     = false
  nullable    = false
}

variable "mfa_device_names" {
  type        = string
  description = "Which virtual MFA device names a user may create: \"any\" (the console lets users name devices) or \"username\" (only a device named after the user, as in the seed; the user may then delete that device without MFA while it is not enabled, to enrol again after an interrupted enrolment)."
  default     = "any"
  nullable    = false

  validation {
    condition     = contains(["any", "username"], var.mfa_device_names)
    error_message = "mfa_device_names must be \"any\" or \"username\"."
  }
}

variable "name" {
  type        = string
  description = "Name of the managed policy, or its prefix when use_name_prefix is true."
  default     = "require-mfa"
  nullable    = false

  validation {
    condition     = can(regex("^[\\w+=,.@-]{1,128}$", var.name))
    error_message = "name must be 1 to 128 characters of letters, digits and +=,.@_- (IAM policy name rules)."
  }
}

variable "path" {
  type        = string
  description = "IAM path of the managed policy."
  default     = "/"
  nullable    = false

  validation {
    condition     = length(var.path) <= 512 && can(regex("^/([\\w+=,.@-]+/)*$", var.path))
    error_message = "path must be \"/\" or begin and end with \"/\" (for example \"/security/\"), at most 512 characters of letters, digits and +=,.@_-."
  }
}

variable "self_service" {
  type = object({
    access_keys                  = optional(bool, false)
    ssh_public_keys              = optional(bool, false)
    signing_certificates         = optional(bool, false)
    service_specific_credentials = optional(bool, false)
  })
  description = "Credentials the policy lets users manage on their own user. Console sessions need MFA for them; with guard_credentials_from_access_keys, creating or re-activating one with a long-term access key needs an MFA session too."
  default     = {}
  nullable    = false
}

variable "tags" {
  type        = map(string)
  description = "Tags for the managed policy."
  default     = {}
  nullable    = false

  validation {
    condition     = length(var.tags) <= 50 && alltrue([for key, value in var.tags : length(key) >= 1 && length(key) <= 128 && length(value) <= 256 && lower(substr(key, 0, 4)) != "aws:"])
    error_message = "tags: at most 50 tags, keys 1 to 128 characters not starting with \"aws:\", values at most 256 characters."
  }
}

variable "use_name_prefix" {
  type        = bool
  description = "Use name as a prefix followed by a unique suffix, so that several instances in one account never collide."
  default     = true
  nullable    = false
}

variable "users" {
  type        = set(string)
  description = "Existing IAM users to attach the policy to."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for user in var.users : can(regex("^[\\w+=,.@-]{1,64}$", user))])
    error_message = "Each entry of users must be an IAM user name: 1 to 64 characters of letters, digits and +=,.@_-."
  }
}
