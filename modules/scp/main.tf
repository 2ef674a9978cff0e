data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition

  # One SCP serves every account it is attached to, so the caller's own user is named by a policy variable, which
  # SCPs support (IAM User Guide, reference_policies_variables). The account part is "*": IAM acts only on users and
  # MFA devices of the caller's own account, so no other account's user can be reached through these ARNs.
  own_user_arns = [
    "arn:${local.partition}:iam::*:user/$${aws:username}",
    "arn:${local.partition}:iam::*:user/*/$${aws:username}",
  ]
  own_mfa_device_arns = [
    var.mfa_device_names == "any" ? "arn:${local.partition}:iam::*:mfa/*" : "arn:${local.partition}:iam::*:mfa/$${aws:username}",
  ]

  # The root module's action sets (main.tf there), less its Allow-only parts: an SCP grants nothing.
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
  credential_issuing_actions = [
    "iam:CreateAccessKey", "iam:CreateServiceSpecificCredential", "iam:ResetServiceSpecificCredential",
    "iam:UpdateAccessKey", "iam:UpdateSSHPublicKey", "iam:UpdateServiceSpecificCredential",
    "iam:UpdateSigningCertificate", "iam:UploadSSHPublicKey", "iam:UploadSigningCertificate",
  ]
  sign_in_actions     = ["signin:Authenticate", "signin:AuthorizeOAuth2Access", "signin:CreateOAuth2Token"]
  cli_sign_in_actions = ["signin:AuthorizeOAuth2Access", "signin:CreateOAuth2Token"]
  console_sign_in_arn = "arn:${local.partition}:signin:::console/*"
  # OAuth tokens for an AWS service (the root module's service_token_arn); "*" as the account, as above.
  service_token_arn          = "arn:${local.partition}:signin:*:*:service-principal/*"
  access_key_guarded_actions = sort(concat(["iam:DeactivateMFADevice", "iam:EnableMFADevice"], local.login_profile_actions))
  role_assumption_actions    = ["sts:AssumeRole*", "sts:AssumeRoot"]

  exempt_own_resource_actions = sort(distinct(concat(
    local.mfa_enrollment_user_actions,
    ["iam:CreateVirtualMFADevice"],
    var.allow_password_change_without_mfa ? local.password_actions : [],
    var.allow_login_profile_changes_without_mfa ? local.login_profile_actions : [],
    var.allow_mfa_removal_without_mfa ? local.mfa_removal_actions : [],
    # As in the root module: with "username" names an unfinished enrolment leaves mfa/<user> behind, and IAM refuses
    # to delete an enabled device (IAM API reference, DeleteVirtualMFADevice), so only an unassigned one goes.
    var.mfa_device_names == "username" ? ["iam:DeleteVirtualMFADevice"] : [],
  )))
  exempt_actions = sort(distinct(concat(
    local.exempt_own_resource_actions,
    [for action in local.account_actions : action if action != "iam:GetAccountPasswordPolicy" || var.allow_password_change_without_mfa],
    local.sign_in_actions,
    var.additional_actions_without_mfa,
  )))

  # Who the guard applies to: IAM users and their GetFederationToken sessions (FederatedUser), less the exempt ARN
  # patterns; role sessions (AssumedRole) and the root user (Account) are left alone. StringEqualsIfExists: a
  # request without aws:PrincipalType, which AWS documents for every signed request, is denied rather than let
  # through. ArnNotLike is true when aws:PrincipalArn is missing: such a request is not exempt.
  principal_scope = merge(
    { StringEqualsIfExists = { "aws:PrincipalType" = ["FederatedUser", "User"] } },
    length(var.exempt_principal_arns) > 0 ? { ArnNotLike = { "aws:PrincipalArn" = sort(var.exempt_principal_arns) } } : {},
  )

  no_mfa_condition = var.enforce_for_programmatic_access ? {
    BoolIfExists = merge(
      { "aws:MultiFactorAuthPresent" = "false" },
      var.exempt_aws_service_calls ? { "aws:ViaAWSService" = "false" } : {},
    )
    } : merge(
    { Bool = { "aws:MultiFactorAuthPresent" = "false" } },
    var.exempt_aws_service_calls ? { BoolIfExists = { "aws:ViaAWSService" = "false" } } : {},
  )
  mfa_false_or_absent   = { BoolIfExists = { "aws:MultiFactorAuthPresent" = "false" } }
  long_term_key_request = { Null = { "aws:MultiFactorAuthPresent" = "true" } }
  # A service calling with the user's credentials without MFA; a request missing either key counts (fail closed).
  service_call_without_mfa = {
    BoolIfExists = { "aws:MultiFactorAuthPresent" = "false", "aws:ViaAWSService" = "true" }
  }

  # The root module's Deny statements with the same Sids, each scoped to IAM users.
  statements = concat(
    [
      {
        Sid       = "DenyAllExceptListedIfNoMFA"
        Effect    = "Deny"
        NotAction = local.exempt_actions
        Resource  = "*"
        Condition = merge(local.no_mfa_condition, local.principal_scope)
      },
      {
        Sid         = "DenyOthersCredentialsIfNoMFA"
        Effect      = "Deny"
        Action      = local.exempt_own_resource_actions
        NotResource = concat(local.own_user_arns, local.own_mfa_device_arns)
        Condition   = merge(local.no_mfa_condition, local.principal_scope)
      },
      {
        Sid         = "DenyCliSignInIfNoMFA"
        Effect      = "Deny"
        Action      = local.cli_sign_in_actions
        NotResource = [local.console_sign_in_arn, local.service_token_arn]
        Condition   = merge(local.mfa_false_or_absent, local.principal_scope)
      },
      {
        Sid       = "DenyServiceAuthorizationIfNoMFA"
        Effect    = "Deny"
        Action    = "signin:AuthorizeOAuth2Access"
        Resource  = local.service_token_arn
        Condition = merge(local.mfa_false_or_absent, local.principal_scope)
      },
      {
        Sid       = "DenyServiceTokenIfNoMFA"
        Effect    = "Deny"
        Action    = "signin:CreateOAuth2Token"
        Resource  = local.service_token_arn
        Condition = merge(local.no_mfa_condition, local.principal_scope)
      },
    ],
    [for statement in [
      {
        Sid       = "DenyCredentialChangesWithAccessKey"
        Effect    = "Deny"
        Action    = local.access_key_guarded_actions
        Resource  = local.own_user_arns
        Condition = merge(local.long_term_key_request, local.principal_scope)
      },
      {
        Sid       = "DenyCredentialChangesThroughServiceWithoutMFA"
        Effect    = "Deny"
        Action    = local.access_key_guarded_actions
        Resource  = local.own_user_arns
        Condition = merge(local.service_call_without_mfa, local.principal_scope)
      },
      {
        Sid       = "DenyCredentialCreationWithoutMFA"
        Effect    = "Deny"
        Action    = local.credential_issuing_actions
        Resource  = local.own_user_arns
        Condition = merge(local.mfa_false_or_absent, local.principal_scope)
      },
      {
        Sid       = "DenyFederationWithAccessKey"
        Effect    = "Deny"
        Action    = "sts:GetFederationToken"
        Resource  = "*"
        Condition = merge(local.long_term_key_request, local.principal_scope)
      },
    ] : statement if var.guard_credentials_from_access_keys],
    [for statement in [
      {
        Sid       = "DenyRoleAssumptionWithoutMFA"
        Effect    = "Deny"
        Action    = local.role_assumption_actions
        Resource  = "*"
        Condition = merge(local.mfa_false_or_absent, local.principal_scope)
      },
    ] : statement if var.guard_role_assumption_from_access_keys],
  )

  # Through the API every character counts, whitespace too (Organizations User Guide, orgs_reference_limits):
  # jsonencode writes no whitespace outside strings.
  policy_json     = jsonencode({ Version = "2012-10-17", Statement = local.statements })
  policy_size     = length(local.policy_json)
  scp_max_size    = 5120
  default_summary = "Requires MFA of IAM users: denies all but MFA self-service to their sessions without MFA (mfa_required scp module)."
}

################################################################################
# Policy
################################################################################

resource "aws_organizations_policy" "this" {
  name        = var.name
  description = coalesce(var.description, local.default_summary)
  type        = "SERVICE_CONTROL_POLICY"
  content     = local.policy_json
  tags        = var.tags

  lifecycle {
    precondition {
      condition     = local.policy_size <= local.scp_max_size
      error_message = "The rendered service control policy has ${local.policy_size} characters, ${local.policy_size - local.scp_max_size} over the ${local.scp_max_size}-character limit of an SCP. Shorten additional_actions_without_mfa (wildcards help) or exempt_principal_arns (one pattern with * for several users)."
    }
  }
}

################################################################################
# Attachments
################################################################################

resource "aws_organizations_policy_attachment" "this" {
  for_each = var.targets

  policy_id = aws_organizations_policy.this.id
  target_id = each.value
}
