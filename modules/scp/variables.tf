variable "additional_actions_without_mfa" {
  type        = list(string)
  description = "Extra actions to exempt from the no-MFA deny, with the root module's rules: iam: only by literal Get... or List... names, sts: only sts:GetCallerIdentity and sts:GetAccessKeyInfo; services that act for the caller or start other sessions (cloudformation, servicecatalog, ssm, lambda, ...) are refused."
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
  description = "Exempt iam:ListUsers from the no-MFA deny (it reveals every user name in the account)."
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
  description = "Exempt deactivating and deleting the caller's own MFA devices from the no-MFA deny."
  default     = false
  nullable    = false
}

variable "allow_password_change_without_mfa" {
  type        = bool
  description = "Exempt iam:ChangePassword and iam:GetAccountPasswordPolicy from the no-MFA deny, so a user who must reset the password at first sign-in can."
  default     = true
  nullable    = false
}

variable "description" {
  type        = string
  description = "Description of the service control policy. When null, a fixed text saying what the guard does is used."
  default     = null

  validation {
    condition     = var.description == null || try(length(var.description) <= 512, false)
    error_message = "description must be at most 512 characters (AWS Organizations' limit)."
  }
}

variable "enforce_for_programmatic_access" {
  type        = bool
  description = "Deny requests signed with long-term access keys too (BoolIfExists), except the MFA self-service set. CLI users then work with an MFA session from sts:GetSessionToken."
  default     = false
  nullable    = false
}

variable "exempt_aws_service_calls" {
  type        = bool
  description = "Do not deny calls that an AWS service makes with the user's credentials (aws:ViaAWSService true), such as CloudFormation, Athena or Glue."
  default     = true
  nullable    = false
}

variable "exempt_principal_arns" {
  type        = set(string)
  description = "IAM user ARN patterns the guard leaves alone (ArnNotLike on aws:PrincipalArn), such as break-glass users: arn:aws:iam::111111111111:user/break-glass, or arn:aws:iam::*:user/break-glass for that name in every account. The user name must start with a literal character: a pattern cannot exempt every user. With * as the account, any member account's administrator can create an exempt user of that name: prefer account IDs."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.exempt_principal_arns : can(regex("^arn:aws(-[a-z]+)*:iam::([0-9]{12}|\\*):user/([\\w+=,.@-]+/)*[\\w+=,.@-][\\w+=,.@*?-]{0,63}$", arn))])
    error_message = "Each entry of exempt_principal_arns must be an IAM user ARN, arn:<partition>:iam::<12-digit account or *>:user/[<path>/]<name>, whose path is literal and whose name starts with a literal character (* and ? only after it), for example arn:aws:iam::*:user/break-glass."
  }
}

variable "guard_credentials_from_access_keys" {
  type        = bool
  description = "Deny, to requests signed with a long-term access key: enabling or deactivating the caller's own MFA devices, changing its console login profile, creating or re-activating its long-term credentials, and sts:GetFederationToken. A leaked key then cannot take over the console or outlive its rotation."
  default     = true
  nullable    = false
}

variable "guard_role_assumption_from_access_keys" {
  type        = bool
  description = "Deny sts:AssumeRole* and sts:AssumeRoot to IAM users' requests without MFA, long-term access keys included: a leaked key then cannot assume a role (whose session, and a console sign-in URL made from it, the SCP leaves alone). Keys assume roles from an MFA session (aws sts get-session-token --serial-number ..., or a CLI profile with mfa_serial)."
  default     = false
  nullable    = false
}

variable "mfa_device_names" {
  type        = string
  description = "Which virtual MFA device names count as the caller's own: \"any\" (the console lets users name devices) or \"username\" (only a device named after the user)."
  default     = "any"
  nullable    = false

  validation {
    condition     = contains(["any", "username"], var.mfa_device_names)
    error_message = "mfa_device_names must be \"any\" or \"username\"."
  }
}

variable "name" {
  type        = string
  description = "Name of the service control policy."
  default     = "require-mfa"
  nullable    = false

  validation {
    condition     = can(regex("^[\\w+=,.@ -]{1,128}$", var.name))
    error_message = "name must be 1 to 128 characters of letters, digits, spaces and +=,.@_-."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the service control policy."
  default     = {}
  nullable    = false

  validation {
    condition     = length(var.tags) <= 50 && alltrue([for key, value in var.tags : length(key) >= 1 && length(key) <= 128 && length(value) <= 256 && lower(substr(key, 0, 4)) != "aws:"])
    error_message = "tags: at most 50 tags, keys 1 to 128 characters not starting with \"aws:\", values at most 256 characters."
  }
}

variable "targets" {
  type        = map(string)
  description = "Where to attach the policy, by a name of your choosing: the organization's root (r-...), organizational units (ou-...) and member accounts (12 digits), for example { root = \"r-ab12\" }. The names are the attachments' keys: they must be known at plan, the IDs may be created in the same configuration. Attaching to the management account has no effect (SCPs do not apply there)."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for target in values(var.targets) : can(regex("^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|[0-9]{12})$", target))])
    error_message = "Each value of targets must be a root ID (r-xxxx), an organizational unit ID (ou-xxxx-xxxxxxxx) or a 12-digit account ID."
  }
  validation {
    condition     = length(distinct(values(var.targets))) == length(var.targets)
    error_message = "targets names the same root, OU or account twice: AWS Organizations attaches a policy to a target once."
  }
}
