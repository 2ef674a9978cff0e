terraform {
  required_version = ">= 0.12"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 2.15.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 2.2.0"
    }
  }
}

resource "tls_private_key" "baz" {}

resource "null_resource" "foo" {}

data "aws_caller_identity" "current" {}

data "aws_caller_identity" "ident" {
  provider = aws.ident
}

module "foo" {
  source  = "bar"
  version = "1.2.3"
}

module "bar" {
  source  = "baz"
  version = "4.5.6"
}

variable "bool-1" {
  description = "It's bool number one."
  type        = bool
  default     = true
}

variable "input-with-pipe" {
  description = "It includes v1 | v2 | v3"
  type        = string
  default     = "v1"
}

variable "input_with_underscores" {
  description = "A variable with underscores."
}

variable "list-3" {
  default = []
}

variable "map-3" {
  default = {}
}

variable "no-escape-default-value" {
  description = "The description contains `something_with_underscore`. Defaults to 'VALUE_WITH_UNDERSCORE'."
  type        = string
  default     = "VALUE_WITH_UNDERSCORE"
}

variable "number-3" {
  type    = number
  default = "19"
}

variable "number-4" {
  type    = number
  default = 15.75
}

variable "object_default_empty" {
  type    = object({})
  default = {}
}

variable "string-special-chars" {
  type    = string
  default = "\\.<>[]{}_-"
}

variable "string_default_null" {
  type    = string
  default = null
}

variable "with-url" {
  description = "The description contains url. https://www.domain.com/foo/bar_baz.html"
  type        = string
  default     = ""
}

output "output-1" {
  description = "It's output number one."
  value       = "1"
}

output "unquoted" {
  description = "It's unquoted output."
  value       = "foo"
}
