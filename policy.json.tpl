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
    ],
    [for statement in [
      {
        Sid       = "DenyCredentialChangesWithAccessKey"
        Effect    = "Deny"
        Action    = access_key_guarded_actions
        Resource  = own_user_arns
        Condition = { Null = { "aws:MultiFactorAuthPresent" = "true" } }
      },
      {
        # A federated session can be exchanged for a console sign-in URL: a console without MFA.
        Sid       = "DenyFederationWithAccessKey"
        Effect    = "Deny"
        Action    = "sts:GetFederationToken"
        Resource  = "*"
        Condition = { Null = { "aws:MultiFactorAuthPresent" = "true" } }
      },
    ] : statement if guard],
  )
})}
