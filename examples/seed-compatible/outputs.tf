output "attached_users" {
  description = "Users the policy is attached to."
  value       = module.mfa_required.attached_users
}

output "policy_arn" {
  description = "ARN of the managed policy."
  value       = module.mfa_required.policy_arn
}

output "policy_json" {
  description = "The policy document."
  value       = module.mfa_required.policy_json
}
