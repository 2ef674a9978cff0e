data "aws_partition" "current" {}

data "aws_caller_identity" "current" {
  count = var.account_id == null ? 1 : 0
}

locals {
  account_id = coalesce(var.account_id, try(data.aws_caller_identity.current[0].account_id, null))
  iam_arn    = "arn:${data.aws_partition.current.partition}:iam::${local.account_id}"

  # Users created with an IAM path have ARNs user/<path>/<name>; IAM user names are unique
  # across paths, so user/*/<name> matches only the caller.
  own_user_arns = [
    "${local.iam_arn}:user/$${aws:username}",
    "${local.iam_arn}:user/*/$${aws:username}",
  ]
  # The console lets users name their devices (up to 8 per user); "username" keeps the seed's rule.
  own_mfa_device_arns = var.mfa_device_names == "any" ? ["${local.iam_arn}:mfa/*"] : ["${local.iam_arn}:mfa/$${aws:username}"]

  # Actions that take no resource type: they only ever match Resource "*".
  # Actions that take no resource type: they only ever match Resource "*". sts:GetSessionToken needs no
  # permission and no policy can deny it (STS API reference); it is listed so that simulators answer as AWS does.
  account_actions = concat(
    ["iam:GetAccountPasswordPolicy", "iam:ListAccountAliases", "iam:ListVirtualMFADevices", "sts:GetSessionToken"],
    var.allow_list_users_without_mfa ? ["iam:ListUsers"] : [],
  )

  password_actions      = ["iam:ChangePassword"]
  login_profile_actions = ["iam:CreateLoginProfile", "iam:DeleteLoginProfile", "iam:UpdateLoginProfile"]
  mfa_removal_actions   = ["iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice"]
  mfa_enrollment_user_actions = [
    "iam:EnableMFADevice", "iam:GetLoginProfile", "iam:GetUser", "iam:ListMFADevices", "iam:ResyncMFADevice",
  ]

  self_service_actions = {
    access_keys = [
      "iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:UpdateAccessKey",
    ]
    ssh_public_keys = [
      "iam:DeleteSSHPublicKey", "iam:GetSSHPublicKey", "iam:ListSSHPublicKeys", "iam:UpdateSSHPublicKey", "iam:UploadSSHPublicKey",
    ]
    signing_certificates = [
      "iam:DeleteSigningCertificate", "iam:ListSigningCertificates", "iam:UpdateSigningCertificate", "iam:UploadSigningCertificate",
    ]
    service_specific_credentials = [
      "iam:CreateServiceSpecificCredential", "iam:DeleteServiceSpecificCredential", "iam:ListServiceSpecificCredentials",
      "iam:ResetServiceSpecificCredential", "iam:UpdateServiceSpecificCredential",
    ]
  }
  # Creating or re-activating a long-term credential: what a leaked key would do to outlive its own rotation.
  credential_issuing_actions = [
    "iam:CreateAccessKey", "iam:CreateServiceSpecificCredential", "iam:ResetServiceSpecificCredential",
    "iam:UpdateAccessKey", "iam:UpdateSSHPublicKey", "iam:UpdateServiceSpecificCredential",
    "iam:UpdateSigningCertificate", "iam:UploadSSHPublicKey", "iam:UploadSigningCertificate",
  ]

  own_user_actions = sort(concat(
    local.mfa_enrollment_user_actions,
    local.password_actions,
    local.login_profile_actions,
    # Granted as in AWS's self-manage-MFA example, and like it not exempt: reading a device's details needs MFA.
    ["iam:DeactivateMFADevice", "iam:GetMFADevice"],
    flatten([for kind, enabled in var.self_service : local.self_service_actions[kind] if enabled]),
  ))
  own_mfa_device_actions = ["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"]

  # Exempt from the no-MFA deny, on the caller's own user or device only.
  exempt_own_resource_actions = sort(distinct(concat(
    local.mfa_enrollment_user_actions,
    ["iam:CreateVirtualMFADevice"],
    var.allow_password_change_without_mfa ? local.password_actions : [],
    var.allow_login_profile_changes_without_mfa ? local.login_profile_actions : [],
    var.allow_mfa_removal_without_mfa ? local.mfa_removal_actions : [],
    # An enrolment left unfinished (device created, never enabled) leaves mfa/<user> behind; with "username" names
    # no other name is allowed, so the user could not enrol again. IAM refuses to delete a device that is enabled
    # ("You must deactivate a user's virtual MFA device before you can delete it", IAM API reference,
    # DeleteVirtualMFADevice), and deactivating one needs MFA: this deletes only an unassigned device of the own name.
    var.mfa_device_names == "username" ? ["iam:DeleteVirtualMFADevice"] : [],
  )))
  exempt_actions = sort(distinct(concat(
    local.exempt_own_resource_actions,
    [for action in local.account_actions : action if action != "iam:GetAccountPasswordPolicy" || var.allow_password_change_without_mfa],
    # Console sign-in (AWS Sign-In guide, console-access-control): a deny here could keep a user without MFA
    # from signing in to enrol. The OAuth actions on anything but the console are denied by the sign-in statements.
    local.sign_in_actions,
    var.additional_actions_without_mfa,
  )))

  # Only a missing aws:MultiFactorAuthPresent (a long-term access key) escapes the deny, and only with Bool.
  # aws:ViaAWSService keeps services that call on the user's behalf working (they send MFA "false"), and is
  # BoolIfExists because some services do not send it: a Bool on a missing key would not deny (fail open).
  no_mfa_condition = var.enforce_for_programmatic_access ? {
    BoolIfExists = merge(
      { "aws:MultiFactorAuthPresent" = "false" },
      var.exempt_aws_service_calls ? { "aws:ViaAWSService" = "false" } : {},
    )
    } : merge(
    { Bool = { "aws:MultiFactorAuthPresent" = "false" } },
    var.exempt_aws_service_calls ? { BoolIfExists = { "aws:ViaAWSService" = "false" } } : {},
  )

  sign_in_actions     = ["signin:Authenticate", "signin:AuthorizeOAuth2Access", "signin:CreateOAuth2Token"]
  console_sign_in_arn = "arn:${data.aws_partition.current.partition}:signin:::console/*"
  # OAuth tokens for an AWS service such as the AWS MCP Server (managed policy AWSMCPSignInOAuthAccessPolicy). The
  # token endpoint also serves applications that sign with their existing credentials, a long-term key included
  # (Sign-In API reference, CreateOAuth2TokenWithIAM, IAM action signin:CreateOAuth2Token): that token is no more
  # than the key, so it is denied where the key is. Authorising one in a browser (AuthorizeOAuth2Access) needs MFA.
  service_token_arn     = "arn:${data.aws_partition.current.partition}:signin:*:${local.account_id}:service-principal/*"
  cli_sign_in_actions   = ["signin:AuthorizeOAuth2Access", "signin:CreateOAuth2Token"]
  mfa_false_or_absent   = { BoolIfExists = { "aws:MultiFactorAuthPresent" = "false" } }
  long_term_key_request = { Null = { "aws:MultiFactorAuthPresent" = "true" } }
  # A service calling with the user's credentials (aws:ViaAWSService "true") without MFA. BoolIfExists on both keys:
  # a request that does not say whether a service made it is taken as one (fail closed); console enrolment sends
  # aws:ViaAWSService "false" and long-term keys are left to the Null statement.
  service_call_without_mfa = {
    BoolIfExists = { "aws:MultiFactorAuthPresent" = "false", "aws:ViaAWSService" = "true" }
  }

  # A leaked access key must not take over the console. EnableMFADevice stays open to console sessions
  # without MFA (enrolment), so this one is scoped to requests without the MFA key, and to service calls without MFA:
  # AWS does not document which MFA context CloudFormation or Cloud Control forwards (AWS::IAM::User has a
  # LoginProfile property), so there the change needs aws:MultiFactorAuthPresent "true".
  access_key_guarded_actions = sort(concat(["iam:DeactivateMFADevice", "iam:EnableMFADevice"], local.login_profile_actions))
  # What a long-term key can turn into a session that no longer meets this policy: a role's (up to 12 hours, and a
  # console through the federation endpoint) or, from an organisation's management account, a member's root user.
  role_assumption_actions = ["sts:AssumeRole*", "sts:AssumeRoot"]

  policy_json = templatefile("${path.module}/policy.json.tpl", {
    account_actions             = local.account_actions
    own_user_actions            = local.own_user_actions
    own_user_arns               = local.own_user_arns
    own_mfa_device_actions      = local.own_mfa_device_actions
    own_mfa_device_arns         = local.own_mfa_device_arns
    exempt_actions              = local.exempt_actions
    exempt_own_resource_actions = local.exempt_own_resource_actions
    no_mfa_condition            = local.no_mfa_condition
    guard                       = var.guard_credentials_from_access_keys
    access_key_guarded_actions  = local.access_key_guarded_actions
    credential_issuing_actions  = local.credential_issuing_actions
    cli_sign_in_actions         = local.cli_sign_in_actions
    console_sign_in_arn         = local.console_sign_in_arn
    mfa_false_or_absent         = local.mfa_false_or_absent
    long_term_key_request       = local.long_term_key_request
    service_call_without_mfa    = local.service_call_without_mfa
    service_token_arn           = local.service_token_arn
    guard_roles                 = var.guard_role_assumption_from_access_keys
    role_assumption_actions     = local.role_assumption_actions
  })
  # IAM counts a managed policy's size without whitespace; jsonencode's output has none outside strings.
  policy_size             = length(local.policy_json)
  managed_policy_max_size = 6144

  group_name = coalesce(var.group_name, var.name)
  # One text for every behaviour: IAM cannot change a description, so a text that followed an input would
  # replace the policy (new ARN) when that input changed.
  default_description = "Requires MFA: denies all but MFA self-service to sessions without MFA (mfa_required module)."
}

################################################################################
# Policy
################################################################################

resource "aws_iam_policy" "this" {
  name        = var.use_name_prefix ? null : var.name
  name_prefix = var.use_name_prefix ? "${var.name}-" : null
  path        = var.path
  # "" keeps a policy without description, such as an imported copy of the seed: changing it forces replacement.
  description = var.description == "" ? null : coalesce(var.description, local.default_description)
  policy      = local.policy_json
  tags        = var.tags

  lifecycle {
    # A rename must not leave attached users without the policy, even briefly.
    create_before_destroy = true

    precondition {
      condition     = local.policy_size <= local.managed_policy_max_size
      error_message = "The rendered policy has ${local.policy_size} non-whitespace characters, ${local.policy_size - local.managed_policy_max_size} over the ${local.managed_policy_max_size}-character limit of a managed policy. Shorten additional_actions_without_mfa (wildcards help) or disable self_service entries."
    }
    precondition {
      condition     = !var.use_name_prefix || length(var.name) <= 101
      error_message = "With use_name_prefix = true, name is followed by \"-\" and a 26-character suffix: it must be at most 101 characters (it has ${length(var.name)})."
    }
    precondition {
      condition     = var.create_group || (length(var.group_users) == 0 && var.group_name == null && var.group_path == "/")
      error_message = "group_name, group_path and group_users configure the group that create_group = true creates; set create_group = true or remove them."
    }
  }
}

################################################################################
# Attachments
################################################################################

resource "aws_iam_user_policy_attachment" "this" {
  #checkov:skip=CKV_AWS_40:An MFA guard-rail, not a grant of access: attaching it to users directly is the documented users input.
  for_each = var.users

  user       = each.value
  policy_arn = aws_iam_policy.this.arn

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_iam_group_policy_attachment" "this" {
  for_each = var.groups

  group      = each.value
  policy_arn = aws_iam_policy.this.arn

  lifecycle {
    create_before_destroy = true
  }
}

################################################################################
# Group
################################################################################

resource "aws_iam_group" "this" {
  count = var.create_group ? 1 : 0

  name = local.group_name
  path = var.group_path
}

resource "aws_iam_group_policy_attachment" "group" {
  count = var.create_group ? 1 : 0

  group      = aws_iam_group.this[0].name
  policy_arn = aws_iam_policy.this.arn

  lifecycle {
    create_before_destroy = true
  }
}

# Not aws_iam_group_membership: it is exclusive and would remove members added elsewhere.
resource "aws_iam_user_group_membership" "this" {
  for_each = var.create_group ? var.group_users : toset([])

  user   = each.value
  groups = [aws_iam_group.this[0].name]
}
