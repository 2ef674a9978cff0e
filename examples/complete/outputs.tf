output "attached_groups" {
  description = "Groups the policy is attached to."
  value       = module.mfa_required.attached_groups
}

output "attached_users" {
  description = "Users the policy is attached to directly."
  value       = module.mfa_required.attached_users
}

output "group_arn" {
  description = "ARN of the created group."
  value       = module.mfa_required.group_arn
}

output "group_name" {
  description = "Name of the created group."
  value       = module.mfa_required.group_name
}

output "policy_arn" {
  description = "ARN of the managed policy."
  value       = module.mfa_required.policy_arn
}

output "policy_id" {
  description = "ID of the managed policy."
  value       = module.mfa_required.policy_id
}

output "policy_json" {
  description = "The policy document."
  value       = module.mfa_required.policy_json
}

output "policy_name" {
  description = "Name of the managed policy."
  value       = module.mfa_required.policy_name
}
