{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowViewAccountInfo",
      "Effect": "Allow",
      "Action": ${jsonencode(account_actions)},
      "Resource": "*"
    },
    {
      "Sid": "AllowManageOwnUser",
      "Effect": "Allow",
      "Action": ${jsonencode(own_user_actions)},
      "Resource": ${jsonencode(own_user_arns)}
    },
    {
      "Sid": "AllowManageOwnVirtualMFADevice",
      "Effect": "Allow",
      "Action": ${jsonencode(own_mfa_device_actions)},
      "Resource": ${jsonencode(own_mfa_device_arns)}
    },
    {
      "Sid": "DenyAllExceptListedIfNoMFA",
      "Effect": "Deny",
      "NotAction": ${jsonencode(exempt_actions)},
      "Resource": "*",
      "Condition": ${jsonencode(no_mfa_condition)}
    },
    {
      "Sid": "DenyOthersCredentialsIfNoMFA",
      "Effect": "Deny",
      "Action": ${jsonencode(exempt_own_resource_actions)},
      "NotResource": ${jsonencode(concat(own_user_arns, own_mfa_device_arns))},
      "Condition": ${jsonencode(no_mfa_condition)}
    }%{ if length(access_key_guarded_actions) > 0 },
    {
      "Sid": "DenyCredentialChangesWithAccessKey",
      "Effect": "Deny",
      "Action": ${jsonencode(access_key_guarded_actions)},
      "Resource": ${jsonencode(own_user_arns)},
      "Condition": {
        "Null": {
          "aws:MultiFactorAuthPresent": "true"
        }
      }
    }%{ endif }
  ]
}
