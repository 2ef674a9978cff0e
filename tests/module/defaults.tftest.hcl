# The defaults and three single-input variants, rendered offline with a mocked provider (no credentials, no endpoint):
# `terraform test -test-directory=tests/module`. Bad input is checked by tests/module/test_validation.py, every case
# of validation_cases.yaml with its message; every input combination by tests/module/test_plan.py.
mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "210987654321"
    }
  }
}

run "default_policy" {
  command = plan

  assert {
    condition = [for statement in jsondecode(output.policy_json).Statement : statement.Sid] == [
      "AllowViewAccountInfo", "AllowManageOwnUser", "AllowManageOwnVirtualMFADevice",
      "DenyAllExceptListedIfNoMFA", "DenyOthersCredentialsIfNoMFA", "DenyCliSignInIfNoMFA",
      "DenyServiceAuthorizationIfNoMFA", "DenyServiceTokenIfNoMFA", "DenyCredentialChangesWithAccessKey",
      "DenyCredentialChangesThroughServiceWithoutMFA", "DenyCredentialCreationWithoutMFA", "DenyFederationWithAccessKey",
    ]
    error_message = "The default policy has an unexpected list of statements."
  }
  assert {
    condition     = jsondecode(output.policy_json).Statement[3].Condition == { Bool = { "aws:MultiFactorAuthPresent" = "false" }, BoolIfExists = { "aws:ViaAWSService" = "false" } }
    error_message = "Access keys (no MFA key) and AWS service calls must not be denied by default, and a missing aws:ViaAWSService must not lift the deny."
  }
  assert {
    condition     = strcontains(output.policy_json, "arn:aws:iam::210987654321:user/*/$${aws:username}")
    error_message = "The account comes from aws_caller_identity when account_id is null."
  }
  assert {
    condition     = !contains(jsondecode(output.policy_json).Statement[3].NotAction, "iam:ListUsers")
    error_message = "iam:ListUsers must not be exempt by default."
  }
}

run "programmatic_access_enforced" {
  command = plan

  variables {
    enforce_for_programmatic_access = true
    account_id                      = "123456789012"
  }

  assert {
    condition     = keys(jsondecode(output.policy_json).Statement[3].Condition) == ["BoolIfExists"]
    error_message = "Enforcing MFA for access keys uses BoolIfExists."
  }
  assert {
    condition     = contains(jsondecode(output.policy_json).Statement[3].NotAction, "sts:GetSessionToken")
    error_message = "CLI users must still be able to get an MFA session."
  }
}

run "device_named_after_user" {
  command = plan

  variables {
    mfa_device_names = "username"
  }

  assert {
    condition     = jsondecode(output.policy_json).Statement[2].Resource == ["arn:aws:iam::210987654321:mfa/$${aws:username}"]
    error_message = "mfa_device_names = \"username\" scopes devices to the user name."
  }
}

run "guard_disabled" {
  command = plan

  variables {
    guard_credentials_from_access_keys = false
  }

  assert {
    condition     = length(jsondecode(output.policy_json).Statement) == 8
    error_message = "Without the guard the policy has none of the four guard statements."
  }
}

run "role_assumption_guarded" {
  command = plan

  variables {
    guard_role_assumption_from_access_keys = true
  }

  assert {
    condition = [for statement in jsondecode(output.policy_json).Statement : statement if statement.Sid == "DenyRoleAssumptionWithoutMFA"] == [{
      Sid       = "DenyRoleAssumptionWithoutMFA"
      Effect    = "Deny"
      Action    = ["sts:AssumeRole*", "sts:AssumeRoot"]
      Resource  = "*"
      Condition = { BoolIfExists = { "aws:MultiFactorAuthPresent" = "false" } }
    }]
    error_message = "guard_role_assumption_from_access_keys denies role assumption to every request without MFA, keys included."
  }
}
