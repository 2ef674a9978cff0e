"""Tooling for the mfa_required Terraform module: IAM evaluator, personas, access matrix, docs."""
