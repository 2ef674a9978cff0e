"""modules/scp offline: every input combination renders its expected SCP, minified and within AWS's 5,120
characters, with one attachment per target; every bad input fails at plan with its message. No endpoint, no
credentials: the provider makes no call (the module reads only the partition, which needs none)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.paths import DATA_DIR, MODULE_TESTS_DIR, REPO_ROOT
from harness.plans import OFFLINE_PROVIDER, PlanSummary
from harness.terraform import format_module_args, module_copies, offline_environment, root_from_text, run, terraform
from tools import behaviour, tfdocs

XDIST_GROUP = "scp-offline"
MODULE = REPO_ROOT / "modules" / "scp"
CASES: dict[str, dict[str, Any]] = yaml.safe_load((MODULE_TESTS_DIR / "scp_cases.yaml").read_text())
BAD: dict[str, dict[str, Any]] = yaml.safe_load((MODULE_TESTS_DIR / "scp_validation_cases.yaml").read_text())
BAD["long_description"]["inputs"]["description"] = "x" * 513
BAD["oversized_policy"]["inputs"]["additional_actions_without_mfa"] = [
    f"s3:GetObjectVersionAttributes{i:04d}" for i in range(250)
]
SCP_MAX_SIZE = 5120
# The partitions' own regions; the provider derives the partition from the region without an API call.
OFFLINE_CHINA = OFFLINE_PROVIDER.replace('provider "aws" {', 'provider "aws" {\n  alias = "china"').replace(
    '"us-east-1"', '"cn-north-1"'
)
UPDATE = os.environ.get("MFA_REQUIRED_UPDATE_EXPECTED") == "1"
README_BLOCKS = re.findall(r"^```hcl\n(.*?)^```$", (MODULE / "README.md").read_text(), re.M | re.S)
REGISTRY_SOURCE = "mfa-required/mfa-required/aws//modules/scp"


def localise(block: str, name: str) -> str:
    """A README block pointed at this checkout: registry source replaced, version dropped, module renamed."""
    text = block.replace(f'source  = "{REGISTRY_SOURCE}"', f'source = "{MODULE}"')
    text = re.sub(r'(?m)^\s*version\s*=\s*"[^"]*"\n', "", text)
    return re.sub(r'module "\w+"', f'module "{name}"', text)


def blocks(cases: dict[str, dict[str, Any]], sources: dict[str, Path] | None = None) -> str:
    # The china configuration only where a case uses it: a root with one configuration shares the worker's provider.
    out = [OFFLINE_PROVIDER, *([OFFLINE_CHINA] if any(case.get("provider") for case in cases.values()) else [])]
    for name, case in cases.items():
        provider = f"\n  providers = {{ aws = aws.{case['provider']} }}" if case.get("provider") else ""
        source = (sources or {}).get(name, MODULE)
        out.append(
            f'module "{name}" {{\n  source = "{source}"{provider}\n{format_module_args(case["inputs"])}\n}}\n'
            f'output "{name}" {{\n  value = module.{name}.policy_json\n}}\n'
        )
    return "\n".join(out)


@pytest.fixture(scope="module")
def scp_plan(tmp_path_factory: pytest.TempPathFactory) -> PlanSummary:
    """Every case and every HCL block of the module's README, in one offline plan."""
    readme = "\n".join(localise(block, f"readme_block{i}") for i, block in enumerate(README_BLOCKS, start=1))
    root = root_from_text(tmp_path_factory.mktemp("scp-plan"), blocks(CASES) + "\n" + readme)
    return PlanSummary.from_plan(terraform(root, offline_environment()).plan(output=True))


def test_readme_blocks_are_formatted_pin_a_version_and_plan(scp_plan: PlanSummary) -> None:
    assert README_BLOCKS, "modules/scp/README.md lost its usage block"
    for index, block in enumerate(README_BLOCKS, start=1):
        fmt = subprocess.run(["terraform", "fmt", "-check", "-"], input=block, capture_output=True, text=True)
        assert fmt.returncode == 0, f"terraform fmt would change README block {index}"
        assert f'source  = "{REGISTRY_SOURCE}"' in block and re.search(r'version = "~> 1\.\d+"', block)
        targets = re.search(r"targets = \{(.*?)\}", block, re.S)
        names = re.findall(r"(\w+)\s*=", targets[1]) if targets else []
        attachments = f"module.readme_block{index}.aws_organizations_policy_attachment.this"
        assert sorted(a for a in scp_plan.values if a.startswith(attachments)) == sorted(
            f'{attachments}["{name}"]' for name in names
        )
        assert f"module.readme_block{index}.aws_organizations_policy.this" in scp_plan.values


@pytest.mark.parametrize("case", CASES)
def test_case_renders_expected_scp(scp_plan: PlanSummary, case: str) -> None:
    document = json.loads(scp_plan.outputs[case])
    path = DATA_DIR / "scp" / f"{CASES[case]['policy']}.json"
    if UPDATE:
        path.write_text(json.dumps(document, indent=2) + "\n")
    assert document == json.loads(path.read_text())


@pytest.mark.parametrize("case", CASES)
def test_case_is_minified_and_within_the_scp_limit(scp_plan: PlanSummary, case: str) -> None:
    """What the API receives is the text itself: no whitespace outside strings, at most 5,120 characters."""
    rendered = scp_plan.outputs[case]
    assert rendered == json.dumps(json.loads(rendered), separators=(",", ":"), sort_keys=True)
    assert len(rendered) <= SCP_MAX_SIZE
    planned = scp_plan.values[f"module.{case}.aws_organizations_policy.this"]
    assert planned["content"] == rendered and planned["type"] == "SERVICE_CONTROL_POLICY"


@pytest.mark.parametrize("case", CASES)
def test_case_plans_one_attachment_per_target(scp_plan: PlanSummary, case: str) -> None:
    targets = CASES[case]["inputs"].get("targets", {})
    prefix = f"module.{case}.aws_organizations_policy_attachment.this"
    planned = {address: values for address, values in scp_plan.values.items() if address.startswith(prefix)}
    assert {f'{prefix}["{name}"]': {"target_id": target} for name, target in targets.items()} == {
        address: {"target_id": values["target_id"]} for address, values in planned.items()
    }


def test_every_deny_is_scoped_to_iam_users_and_no_statement_allows(scp_plan: PlanSummary) -> None:
    for case in CASES:
        for statement in json.loads(scp_plan.outputs[case])["Statement"]:
            assert statement["Effect"] == "Deny", (case, statement["Sid"])
            scope = statement["Condition"]["StringEqualsIfExists"]
            assert scope == {"aws:PrincipalType": ["FederatedUser", "User"]}, (case, statement["Sid"])


def test_own_user_is_named_by_policy_variables(scp_plan: PlanSummary) -> None:
    """One SCP serves every account: no account ID is written into it, the caller's own user is a variable."""
    rendered = scp_plan.outputs["default"]
    assert not re.search(r"::\d{12}:", rendered)
    assert "arn:aws:iam::*:user/${aws:username}" in rendered
    assert "arn:aws-cn:iam::*:user/${aws:username}" in scp_plan.outputs["partition_aws_cn"]


@pytest.mark.parametrize("policy", ["default", "role-assumption-guarded"])
def test_deny_statements_mirror_the_root_module(policy: str) -> None:
    """The SCP carries the root module's Deny statements, with their Sids, actions, resources and conditions; only
    the principal scope is added and the account in resource ARNs is "*" (one SCP serves many accounts)."""
    root = json.loads((DATA_DIR / "policies" / f"{policy}.json").read_text())
    scp = json.loads((DATA_DIR / "scp" / f"{policy}.json").read_text())
    root_denies = {s["Sid"]: s for s in root["Statement"] if s["Effect"] == "Deny"}
    scp_statements = {s["Sid"]: s for s in scp["Statement"]}
    assert list(scp_statements) == list(root_denies)
    for sid, statement in root_denies.items():
        ours = scp_statements[sid]
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            theirs = json.loads(re.sub(r":\d{12}:", ":*:", json.dumps(statement.get(key))))
            assert ours.get(key) == theirs, (sid, key)
        condition = {k: v for k, v in ours["Condition"].items() if k not in ("StringEqualsIfExists", "ArnNotLike")}
        assert condition == statement["Condition"], sid


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


STAGES = {
    stage: {name: case for name, case in BAD.items() if case.get("stage", "variable") == stage}
    for stage in ("variable", "precondition")
}


@pytest.fixture(scope="module", params=sorted(STAGES))
def bad_plan(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    """One plan per stage: a variable's validation error stops terraform before any precondition is checked."""
    workdir = tmp_path_factory.mktemp(f"scp-invalid-{request.param}")
    sources = module_copies(workdir, STAGES[request.param], MODULE)
    root = root_from_text(workdir, blocks(STAGES[request.param], sources))
    return request.param, run(terraform(root, offline_environment()), "plan")


def test_every_bad_input_fails_with_its_message(bad_plan: tuple[str, Any]) -> None:
    stage, result = bad_plan
    assert result.returncode == 1
    diagnostics = re.split(r"\n(?=Error: )", re.sub(r"\x1b\[[0-9;]*m|[│╷╵]", "", result.stderr))
    missing = {}
    for name, case in STAGES[stage].items():
        own = [d for d in diagnostics if f'module "{name}"' in d or f"module.{name}." in d or f"modules/{name}/" in d]
        if not any(case["message"] in " ".join(d.split()) for d in own):
            missing[name] = case["message"]
    assert not missing, f"cases without their message: {missing}\n\n{result.stderr[-4000:]}"
    assert "connection refused" not in result.stderr.lower(), "an offline plan must make no API call"
    if stage == "precondition":  # the message names the size, whose excess is counted from 5,120
        size = re.search(r"policy has (\d+) characters, (\d+) over", " ".join(result.stderr.split()))
        assert size and int(size[1]) - int(size[2]) == SCP_MAX_SIZE


def test_every_validation_block_has_a_case() -> None:
    validated = {v.name for v in tfdocs.load_module(MODULE).variables} & set(
        re.findall(r'variable "(\w+)" \{[^}]*?validation', (MODULE / "variables.tf").read_text(), re.S)
    )
    covered = {key for case in BAD.values() for key in case["inputs"]}
    assert validated and validated <= covered, f"validated variables without a bad-input case: {validated - covered}"


# ---------------------------------------------------------------------------
# Documentation and conventions
# ---------------------------------------------------------------------------


def test_readme_behaviour_section_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert behaviour.main(["--scp", "--check"]) == 0, capsys.readouterr().out


def test_variables_and_outputs_follow_the_conventions() -> None:
    module = tfdocs.load_module(MODULE)
    assert [v.name for v in module.variables if not v.type or not v.description] == []
    assert [o.name for o in module.outputs if not o.description] == []
    collections = [v for v in module.variables if re.match(r"(list|set|map|object)\(", v.type or "")]
    assert collections and [v.name for v in collections if v.nullable is not False] == []
    for blocks_of_a_kind in (module.variables, module.outputs):
        names = [block.name for block in blocks_of_a_kind]
        assert names == sorted(names)
