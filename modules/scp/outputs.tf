output "attached_targets" {
  description = "The roots, organizational units and accounts the policy is attached to: name => ID, as in targets."
  value       = { for name, attachment in aws_organizations_policy_attachment.this : name => attachment.target_id }
}

output "policy_arn" {
  description = "ARN of the service control policy."
  value       = aws_organizations_policy.this.arn
}

output "policy_id" {
  description = "ID of the service control policy (p-...)."
  value       = aws_organizations_policy.this.id
}

output "policy_json" {
  description = "The rendered policy document, exactly as sent to AWS Organizations (minified)."
  value       = local.policy_json
}

output "policy_size" {
  description = "Characters of the rendered policy, which AWS Organizations limits to 5,120 for an SCP."
  value       = local.policy_size
}
