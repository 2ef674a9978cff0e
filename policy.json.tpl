${jsonencode({
  Version = "2012-10-17"
  Statement = concat(
    [
      {
        Sid      = "AllowViewAccountInfo"
        Effect   = "Allow"
        Action   = account_actions
        Resource = "*"
      },
      {
        Sid      = "AllowManageOwnUser"
        Effect   = "Allow"
        Action   = own_user_actions
        Resource = own_user_arns
      },
      {
        Sid      = "AllowManageOwnVirtualMFADevice"
        Effect   = "Allow"
        Action   = own_mfa_device_actions
        Resource = own_mfa_device_arns
      },
      {
        Sid       = "DenyAllExceptListedIfNoMFA"
        Effect    = "Deny"
        NotAction = exempt_actions
        Resource  = "*"
        Condition = no_mfa_condition
      },
      {
        Sid         = "DenyOthersCredentialsIfNoMFA"
        Effect      = "Deny"
        Action      = exempt_own_resource_actions
        NotResource = concat(own_user_arns, own_mfa_device_arns)
        Condition   = no_mfa_condition
      },
      {
        # aws login (oauth2/public-client/*) turns a console session into CLI credentials; console sign-in
        # itself (console/*) is left alone so that users without MFA can sign in to enrol.
        Sid         = "DenyCliSignInIfNoMFA"
        Effect      = "Deny"
        Action      = cli_sign_in_actions
        NotResource = [console_sign_in_arn, service_token_arn]
        Condition   = mfa_false_or_absent
      },
      {
        # Authorising an agent for an AWS service happens in a browser: never with a long-term key.
        Sid       = "DenyServiceAuthorizationIfNoMFA"
        Effect    = "Deny"
        Action    = "signin:AuthorizeOAuth2Access"
        Resource  = service_token_arn
        Condition = mfa_false_or_absent
      },
      {
        # A token obtained by signing with existing credentials is denied where those credentials are.
        Sid       = "DenyServiceTokenIfNoMFA"
        Effect    = "Deny"
        Action    = "signin:CreateOAuth2Token"
        Resource  = service_token_arn
        Condition = no_mfa_condition
      },
    ],
    [for statement in [
      {
        Sid       = "DenyCredentialChangesWithAccessKey"
        Effect    = "Deny"
        Action    = access_key_guarded_actions
        Resource  = own_user_arns
        Condition = long_term_key_request
      },
      {
        Sid       = "DenyCredentialChangesThroughServiceWithoutMFA"
        Effect    = "Deny"
        Action    = access_key_guarded_actions
        Resource  = own_user_arns
        Condition = service_call_without_mfa
      },
      {
        # Also for calls a service makes for the user (CloudFormation creating an AWS::IAM::AccessKey), which
        # carry MFA "false" whoever started them.
        Sid       = "DenyCredentialCreationWithoutMFA"
        Effect    = "Deny"
        Action    = credential_issuing_actions
        Resource  = own_user_arns
        Condition = mfa_false_or_absent
      },
      {
        # A federated session can be exchanged for a console sign-in URL: a console without MFA.
        Sid       = "DenyFederationWithAccessKey"
        Effect    = "Deny"
        Action    = "sts:GetFederationToken"
        Resource  = "*"
        Condition = long_term_key_request
      },
    ] : statement if guard],
    [for statement in [
      {
        # A role session (and a console sign-in URL made from it) would no longer meet this policy.
        Sid       = "DenyRoleAssumptionWithoutMFA"
        Effect    = "Deny"
        Action    = role_assumption_actions
        Resource  = "*"
        Condition = mfa_false_or_absent
      },
    ] : statement if guard_roles],
  )
})}
