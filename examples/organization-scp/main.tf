provider "aws" {
  region = var.region
}

################################################################################
# Organization
################################################################################

resource "aws_organizations_organization" "this" {
  feature_set          = "ALL"
  enabled_policy_types = ["SERVICE_CONTROL_POLICY"]
}

resource "aws_organizations_organizational_unit" "this" {
  name      = var.ou_name
  parent_id = aws_organizations_organization.this.roots[0].id
}

resource "aws_organizations_account" "this" {
  name      = var.account_name
  email     = var.account_email
  parent_id = aws_organizations_organizational_unit.this.id
}

################################################################################
# Guard
################################################################################

module "mfa_required_scp" {
  source = "../../modules/scp"

  targets = {
    root = aws_organizations_organization.this.roots[0].id
    ou   = aws_organizations_organizational_unit.this.id
  }
  exempt_principal_arns                  = var.exempt_principal_arns
  enforce_for_programmatic_access        = var.enforce_for_programmatic_access
  guard_role_assumption_from_access_keys = var.guard_role_assumption_from_access_keys

  # The policy needs the organization and its SCP policy type: created before them, CreatePolicy fails.
  depends_on = [aws_organizations_organization.this]
}
