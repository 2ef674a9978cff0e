output "account_id" {
  description = "ID of the member account the example creates."
  value       = aws_organizations_account.this.id
}

output "attached_targets" {
  description = "IDs of the root and the organizational unit the policy is attached to."
  value       = module.mfa_required_scp.attached_targets
}

output "ou_id" {
  description = "ID of the organizational unit the example creates."
  value       = aws_organizations_organizational_unit.this.id
}

output "policy_id" {
  description = "ID of the service control policy."
  value       = module.mfa_required_scp.policy_id
}

output "policy_json" {
  description = "The rendered service control policy."
  value       = module.mfa_required_scp.policy_json
}

output "root_id" {
  description = "ID of the organization's root."
  value       = aws_organizations_organization.this.roots[0].id
}
