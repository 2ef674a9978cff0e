"""Plans of many module blocks at once: the cases, the provider aliases, the summary of what a plan would create."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.paths import DATA_DIR, EXAMPLES_DIR, MODULE_TESTS_DIR, REPO_ROOT
from harness.terraform import format_module_args

EXAMPLES = sorted(path.name for path in EXAMPLES_DIR.iterdir() if (path / "main.tf").exists())
# Which tier applies each example (tests/module/test_examples.py checks that every example is in exactly one, and
# fits it). A single-account example is a root with one default provider: the plan and apply tiers instantiate it
# as a module block (plan_all, tests/module/test_apply.py), its provider block dropped for the root's. A
# multi-account example configures one provider per member account that assumes a role there; as a module block it
# would be a module with provider configurations of its own, which is not how it is used:
# tests/module/test_multi_account.py applies it across several LocalStack accounts. An organisation example creates
# an organization and uses modules/scp: tests/module/test_organization_scp.py applies it on moto's Organizations,
# which LocalStack's free edition does not serve.
SINGLE_ACCOUNT_EXAMPLES = ("basic", "complete", "programmatic-mfa", "seed-compatible")
MULTI_ACCOUNT_EXAMPLES = ("multi-account",)
ORGANIZATION_EXAMPLES = ("organization-scp",)
PLAN_CASES: dict[str, dict[str, Any]] = yaml.safe_load((MODULE_TESTS_DIR / "plan_cases.yaml").read_text())
# The default configuration alone: a root with one configuration shares the worker's provider process.
LOCALSTACK_PROVIDER = 'provider "aws" {\n  region = "us-east-1"\n}\n'
PROVIDERS = (
    LOCALSTACK_PROVIDER
    + """# LocalStack answers GetCallerIdentity with an arn:aws ARN, from which the provider would take its partition;
# skipping that request makes the partition follow the region, as it does in those partitions.
provider "aws" {
  alias                       = "china"
  region                      = "cn-north-1"
  skip_requesting_account_id  = true
  skip_credentials_validation = true
}
provider "aws" {
  alias                       = "govcloud"
  region                      = "us-gov-west-1"
  skip_requesting_account_id  = true
  skip_credentials_validation = true
}
"""
)
# A provider that makes no API call while it is configured; with account_id given, a plan makes none either.
OFFLINE_PROVIDER = """
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
"""


@dataclass
class PlanSummary:
    """What a plan would create: planned values by address, counts by resource type, outputs."""

    values: dict[str, dict[str, Any]]
    counts: Counter[str]
    outputs: dict[str, Any]

    @classmethod
    def from_plan(cls, plan: Any) -> PlanSummary:
        values: dict[str, dict[str, Any]] = {}

        def walk(module: dict[str, Any]) -> None:
            for resource in module.get("resources", []):
                if resource["mode"] == "managed":
                    values[resource["address"]] = resource.get("values", {})
            for child in module.get("child_modules", []):
                walk(child)

        walk(plan["planned_values"]["root_module"])
        counts = Counter(address.split(".")[-2].split("[")[0] for address in values)
        outputs = {name: output.get("value") for name, output in plan["planned_values"].get("outputs", {}).items()}
        return cls(values, counts, outputs)


def module_blocks(cases: dict[str, dict[str, Any]], source: Path = REPO_ROOT) -> str:
    """One module block per case, each with its rendered policy as an output, so that one plan covers every case."""
    blocks = []
    for name, case in cases.items():
        provider = f"\n  providers = {{ aws = aws.{case['provider']} }}" if case.get("provider") else ""
        arguments = format_module_args(case.get("inputs", {}))
        blocks.append(
            f'module "{name}" {{\n  source = "{case.get("source", source)}"{provider}\n{arguments}\n}}\n'
            f'output "{name}" {{\n  value = module.{name}.policy_json\n}}\n'
        )
    return "\n".join(blocks)


def expected_policy(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / "policies" / f"{name}.json").read_text())


def example_module(name: str) -> str:
    """The module block (and output) name of an example in the plan of every case."""
    return f"example_{name.replace('-', '_')}"


def example_policy(plan: PlanSummary, example: str) -> str:
    return str(plan.outputs[example_module(example)])


def example_vars(name: str) -> dict[str, Any]:
    """Inputs that point an example at the pre-existing world instead of its defaults."""
    return {"basic": {}, "complete": {"users": ["dev-ana"], "groups": ["developers"]}}.get(name, {"users": ["dev-ana"]})
