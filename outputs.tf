output "attached_groups" {
  description = "Names of the groups the policy is attached to, the created group included."
  value       = sort(concat(keys(aws_iam_group_policy_attachment.this), aws_iam_group_policy_attachment.group[*].group))
}

output "attached_users" {
  description = "Names of the users the policy is attached to directly."
  value       = sort(keys(aws_iam_user_policy_attachment.this))
}

output "group_arn" {
  description = "ARN of the created group, or null when create_group is false."
  value       = try(aws_iam_group.this[0].arn, null)
}

output "group_name" {
  description = "Name of the created group, or null when create_group is false."
  value       = try(aws_iam_group.this[0].name, null)
}

output "policy_arn" {
  description = "ARN of the managed policy."
  value       = aws_iam_policy.this.arn
}

output "policy_id" {
  description = "Stable unique ID of the managed policy."
  value       = aws_iam_policy.this.policy_id
}

output "policy_json" {
  description = "The rendered policy document, exactly as sent to IAM."
  value       = local.policy_json
}

output "policy_name" {
  description = "Name of the managed policy (with its generated suffix when use_name_prefix is true)."
  value       = aws_iam_policy.this.name
}
