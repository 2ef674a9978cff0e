"""README tables, variable/output conventions, and the terraform-docs renderer."""

import re
import textwrap
from pathlib import Path

import pytest

from tools import tfdocs

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------
# (a) README tables are up to date
# ---------------------------------------------------------------------------


README_IDS = [
    str(module_dir.relative_to(ROOT)) if module_dir != ROOT else "root" for module_dir, _ in tfdocs.readmes(ROOT)
]


@pytest.mark.parametrize(("module_dir", "readme"), tfdocs.readmes(ROOT), ids=README_IDS)
def test_readme_tables_are_up_to_date(module_dir: Path, readme: Path) -> None:
    diff = tfdocs.check(module_dir, readme)
    assert not diff, f"{readme} is out of date: run `python -m tools.tfdocs`\n{diff}"


# ---------------------------------------------------------------------------
# (b) conventions of the root module's variables and outputs
# ---------------------------------------------------------------------------

MODULE = tfdocs.load_module(ROOT)


def test_every_variable_has_a_type_and_a_description() -> None:
    assert MODULE.variables
    assert [v.name for v in MODULE.variables if not v.type or not v.description] == []


def test_every_output_has_a_description() -> None:
    assert MODULE.outputs
    assert [o.name for o in MODULE.outputs if not o.description] == []


def test_collections_and_objects_are_not_nullable() -> None:
    # A null collection would break every for expression and length() that reads it.
    collections = [v for v in MODULE.variables if re.match(r"(list|set|map|object)\(", v.type or "")]
    assert collections
    assert [v.name for v in collections if v.nullable is not False] == []


@pytest.mark.parametrize("kind", ["variables", "outputs"])
def test_blocks_are_in_alphabetical_order(kind: str) -> None:
    blocks: list[tfdocs.Variable] | list[tfdocs.Output] = getattr(MODULE, kind)
    for file in sorted({block.file for block in blocks}):
        names = [block.name for block in blocks if block.file == file]
        assert names == sorted(names), f"{file}: {kind} out of alphabetical order"


# ---------------------------------------------------------------------------
# (c) the renderer against terraform-docs' output
# ---------------------------------------------------------------------------


def _render(tmp_path: Path, hcl: str) -> str:
    (tmp_path / "main.tf").write_text(textwrap.dedent(hcl), encoding="utf-8")
    return tfdocs.render(tfdocs.load_module(tmp_path))


def _input_row(tmp_path: Path, hcl: str) -> str:
    rows = [line for line in _render(tmp_path, hcl).splitlines() if line.startswith('| <a name="input_')]
    assert len(rows) == 1
    return rows[0]


INPUT_CASES = {
    "string default": (
        """
        variable "name" {
          type        = string
          description = "Name of the policy_x, or its prefix: a | b."
          default     = "require-mfa"
        }
        """,
        '| <a name="input_name"></a> [name](#input\\_name) | Name of the policy\\_x, or its prefix: a \\| b. '
        '| `string` | `"require-mfa"` | no |',
    ),
    "null default": (
        """
        variable "account_id" {
          type        = string
          description = "Account ID; null looks it up with `aws_caller_identity`."
          default     = null
        }
        """,
        '| <a name="input_account_id"></a> [account\\_id](#input\\_account\\_id) '
        "| Account ID; null looks it up with `aws_caller_identity`. | `string` | `null` | no |",
    ),
    "bool": (
        """
        variable "create_group" {
          type        = bool
          description = "Create the group."
          default     = false
          nullable    = false
        }
        """,
        '| <a name="input_create_group"></a> [create\\_group](#input\\_create\\_group) | Create the group. '
        "| `bool` | `false` | no |",
    ),
    "empty list default": (
        """
        variable "users" {
          type        = set(string)
          description = "Users."
          default     = []
        }
        """,
        '| <a name="input_users"></a> [users](#input\\_users) | Users. | `set(string)` | `[]` | no |',
    ),
    "list default": (
        """
        variable "actions" {
          type        = list(string)
          description = "Actions."
          default     = ["iam:GetUser", "sts:GetSessionToken"]
        }
        """,
        '| <a name="input_actions"></a> [actions](#input\\_actions) | Actions. | `list(string)` '
        '| <pre>[<br/>  "iam:GetUser",<br/>  "sts:GetSessionToken"<br/>]</pre> | no |',
    ),
    "object type with optional attributes": (
        """
        variable "self_service" {
          type = object({
            access_keys = optional(bool, false)
            name        = string
            tags        = optional(map(string), {})
            certificates = optional(object({
              enabled = bool
            }), { enabled = false })
          })
          description = "Self-service."
          default     = {}
          nullable    = false

          validation {
            condition     = var.self_service != null
            error_message = "Never shown."
          }
        }
        """,
        '| <a name="input_self_service"></a> [self\\_service](#input\\_self\\_service) | Self-service. '
        "| <pre>object({<br/>    access_keys = optional(bool, false)<br/>    name        = string<br/>"
        "    tags        = optional(map(string), {})<br/>"
        "    certificates = optional(object({<br/>      enabled = bool<br/>    }), { enabled = false })<br/>"
        "  })</pre> | `{}` | no |",
    ),
    "multi-line default": (
        """
        variable "limits" {
          type        = map(number)
          description = "Limits,\\nper key."
          default = {
            "b-key" = 2
            a       = 1.5
          }
        }
        """,
        '| <a name="input_limits"></a> [limits](#input\\_limits) | Limits,<br/>per key. | `map(number)` '
        '| <pre>{<br/>  "a": 1.5,<br/>  "b-key": 2<br/>}</pre> | no |',
    ),
    "required, no default": (
        """
        variable "group_name" {
          type        = string
          description = "Group name."
        }
        """,
        '| <a name="input_group_name"></a> [group\\_name](#input\\_group\\_name) | Group name. '
        "| `string` | n/a | yes |",
    ),
    "no type, no description": (
        """
        variable "anything" {}
        """,
        '| <a name="input_anything"></a> [anything](#input\\_anything) | n/a | `any` | n/a | yes |',
    ),
}


@pytest.mark.parametrize(("hcl", "expected"), INPUT_CASES.values(), ids=INPUT_CASES.keys())
def test_input_row(tmp_path: Path, hcl: str, expected: str) -> None:
    assert _input_row(tmp_path, hcl) == expected


def test_whole_document(tmp_path: Path) -> None:
    hcl = """
    terraform {
      required_version = ">= 1.3"
      required_providers {
        aws = {
          source  = "hashicorp/aws"
          version = ">= 5.0"
        }
      }
    }

    data "aws_partition" "current" {}

    resource "aws_iam_policy" "this" {
      name   = "x"
      policy = "{}"
    }

    resource "aws_iam_group" "this" {
      name = "g"
    }

    module "child_module" {
      source = "../.."
    }

    output "policy_arn" {
      description = "ARN of the policy."
      value       = aws_iam_policy.this.arn
    }
    """
    aws = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs"
    assert _render(tmp_path, hcl) == textwrap.dedent(
        f"""\
        ## Requirements

        | Name | Version |
        |------|---------|
        | <a name="requirement_terraform"></a> [terraform](#requirement\\_terraform) | >= 1.3 |
        | <a name="requirement_aws"></a> [aws](#requirement\\_aws) | >= 5.0 |

        ## Providers

        | Name | Version |
        |------|---------|
        | <a name="provider_aws"></a> [aws](#provider\\_aws) | >= 5.0 |

        ## Modules

        | Name | Source | Version |
        |------|--------|---------|
        | <a name="module_child_module"></a> [child\\_module](#module\\_child\\_module) | ../.. | n/a |

        ## Resources

        | Name | Type |
        |------|------|
        | [aws_iam_group.this]({aws}/resources/iam_group) | resource |
        | [aws_iam_policy.this]({aws}/resources/iam_policy) | resource |
        | [aws_partition.current]({aws}/data-sources/partition) | data source |

        ## Inputs

        No inputs.

        ## Outputs

        | Name | Description |
        |------|-------------|
        | <a name="output_policy_arn"></a> [policy\\_arn](#output\\_policy\\_arn) | ARN of the policy. |"""
    )


def test_check_reports_a_stale_readme_and_update_fixes_it(tmp_path: Path) -> None:
    (tmp_path / "outputs.tf").write_text('output "x" {\n  description = "X."\n  value = 1\n}\n', encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{tfdocs.BEGIN}\nstale\n{tfdocs.END}\n\nFooter.\n", encoding="utf-8")

    diff = tfdocs.check(tmp_path, readme)
    assert "-stale" in diff and '+| <a name="output_x"></a> [x](#output\\_x) | X. |' in diff
    assert tfdocs.main(["--check", str(tmp_path)]) == 1

    assert tfdocs.update(tmp_path, readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(f"# Title\n\n{tfdocs.BEGIN}\n## Requirements\n")
    assert text.endswith(f"{tfdocs.END}\n\nFooter.\n")
    assert tfdocs.check(tmp_path, readme) == ""
    assert tfdocs.main(["--check", str(tmp_path)]) == 0


def test_readme_without_markers_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# No tables\n", encoding="utf-8")
    with pytest.raises(tfdocs.TfDocsError, match="markers"):
        tfdocs.check(tmp_path, tmp_path / "README.md")
    assert tfdocs.main(["--check", str(tmp_path)]) == 2


# ---------------------------------------------------------------------------
# (d) terraform-docs' documented output
# ---------------------------------------------------------------------------

# The example on terraform-docs' reference page for `terraform-docs markdown table` (terraform-docs.io, "markdown
# table"; docs/reference/markdown-table.md in terraform-docs/terraform-docs): tests/data/terraform-docs/main.tf is a
# part of the examples module it documents, markdown-table.md the lines that page shows for that part, verbatim.
# Rows with line breaks are left out: that page shows <br>, current releases (and terraform-aws-modules' READMEs,
# which this renderer follows) write <br/>.
DOCUMENTED = Path(__file__).parents[1] / "data" / "terraform-docs"


def test_documented_markdown_table_output() -> None:
    """The documented lines appear in our output, in the documented order."""
    rendered = iter(tfdocs.render(tfdocs.load_module(DOCUMENTED)).splitlines())
    expected = [line for line in (DOCUMENTED / "markdown-table.md").read_text().splitlines() if line]
    missing = [line for line in expected if not any(line == candidate for candidate in rendered)]
    assert not missing, f"documented lines not rendered (or out of order): {missing}"
