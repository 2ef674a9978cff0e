output "attached_groups" {
  description = "Groups the policy is attached to, by account name."
  value       = { for name, deployment in local.deployments : name => deployment.attached_groups }
}

output "attached_users" {
  description = "Users the policy is attached to directly, by account name."
  value       = { for name, deployment in local.deployments : name => deployment.attached_users }
}

output "policy_arns" {
  description = "ARN of the managed policy, by account name."
  value       = { for name, deployment in local.deployments : name => deployment.policy_arn }

  precondition {
    condition     = length(setsubtract(keys(var.accounts), keys(local.deployments))) == 0
    error_message = "accounts names ${join(", ", setsubtract(keys(var.accounts), keys(local.deployments)))}, which has no provider and module block in main.tf: add them as the README says."
  }
}

output "policy_json" {
  description = "The policy document, by account name (each names its own account in its ARNs)."
  value       = { for name, deployment in local.deployments : name => deployment.policy_json }
}
