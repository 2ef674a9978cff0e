# The management (or tooling) account whose credentials run Terraform; nothing is created in it.
provider "aws" {
  region = var.region
}

data "aws_partition" "current" {}

locals {
  role_arns = {
    for name, account in var.accounts : name => "arn:${data.aws_partition.current.partition}:iam::${account.account_id}:role/${var.role_name}"
  }

  # One line per account: the outputs read the module blocks through this map, and it is how an entry of
  # var.accounts without its provider and module blocks is caught (see the precondition in outputs.tf).
  deployments = {
    development = module.development
    staging     = module.staging
    production  = module.production
  }
}

################################################################################
# One provider configuration and one module block per member account: Terraform
# cannot iterate over provider configurations (README: Rolling out to an organisation).
################################################################################

provider "aws" {
  alias               = "development"
  region              = var.region
  allowed_account_ids = [var.accounts["development"].account_id]

  assume_role {
    role_arn = local.role_arns["development"]
  }
}

module "development" {
  source    = "../.."
  providers = { aws = aws.development }

  name                            = var.name
  tags                            = var.tags
  users                           = var.accounts["development"].users
  groups                          = var.accounts["development"].groups
  enforce_for_programmatic_access = var.accounts["development"].enforce_for_programmatic_access
}

provider "aws" {
  alias               = "staging"
  region              = var.region
  allowed_account_ids = [var.accounts["staging"].account_id]

  assume_role {
    role_arn = local.role_arns["staging"]
  }
}

module "staging" {
  source    = "../.."
  providers = { aws = aws.staging }

  name                            = var.name
  tags                            = var.tags
  users                           = var.accounts["staging"].users
  groups                          = var.accounts["staging"].groups
  enforce_for_programmatic_access = var.accounts["staging"].enforce_for_programmatic_access
}

provider "aws" {
  alias               = "production"
  region              = var.region
  allowed_account_ids = [var.accounts["production"].account_id]

  assume_role {
    role_arn = local.role_arns["production"]
  }
}

module "production" {
  source    = "../.."
  providers = { aws = aws.production }

  name                            = var.name
  tags                            = var.tags
  users                           = var.accounts["production"].users
  groups                          = var.accounts["production"].groups
  enforce_for_programmatic_access = var.accounts["production"].enforce_for_programmatic_access
}
