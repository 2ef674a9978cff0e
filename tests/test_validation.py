"""Bad input: every validated variable fails at plan with its message, and nothing is created."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.iam import IamWorld
from harness.paths import REPO_ROOT
from harness.plans import PROVIDERS, module_blocks
from harness.terraform import root_from_text, run, terraform

XDIST_GROUP = "validation"
CASES: dict[str, dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "validation_cases.yaml").read_text())
CASES["oversized_policy"]["inputs"]["additional_actions_without_mfa"] = [f"s3:GetObjectVersion{i}" for i in range(300)]
STAGES = {
    stage: {n: c for n, c in CASES.items() if c.get("stage", "variable") == stage}
    for stage in ("variable", "precondition")
}


def diagnostics(stderr: str) -> list[str]:
    return [block for block in re.split(r"\n(?=Error: )", re.sub(r"\x1b\[[0-9;]*m|[│╷╵]", "", stderr)) if block.strip()]


@pytest.fixture(scope="module", params=sorted(STAGES))
def failed_apply(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tf_env: dict[str, str], world: IamWorld
) -> dict[str, Any]:
    """`terraform apply` of a root holding every bad case of one stage; one run reports every diagnostic."""
    cases = STAGES[request.param]
    before = (world.local_policies(), world.groups())
    root = root_from_text(
        tmp_path_factory.mktemp(f"invalid-{request.param}"), PROVIDERS + module_blocks(cases, REPO_ROOT)
    )
    result = run(terraform(root, tf_env), "apply", "-auto-approve")
    return {"cases": cases, "result": result, "before": before, "after": (world.local_policies(), world.groups())}


def test_every_bad_input_fails_with_its_message(failed_apply: dict[str, Any]) -> None:
    blocks = diagnostics(failed_apply["result"].stderr)
    missing = {}
    for name, case in failed_apply["cases"].items():
        own = [block for block in blocks if f'module "{name}"' in block or f"modules/{name}/" in block]
        if not any(case["message"] in " ".join(block.split()) for block in own):
            missing[name] = case["message"]
    assert not missing, f"cases without their message: {missing}\n\n{failed_apply['result'].stderr[-4000:]}"


def test_bad_input_creates_nothing(failed_apply: dict[str, Any]) -> None:
    assert failed_apply["result"].returncode == 1
    assert failed_apply["after"] == failed_apply["before"]


def test_every_validation_block_has_a_case() -> None:
    validated = set(re.findall(r'variable "(\w+)" \{[^}]*?validation', (REPO_ROOT / "variables.tf").read_text(), re.S))
    covered = {key for case in CASES.values() for key in case["inputs"]}
    assert validated <= covered, f"validated variables without a bad-input case: {validated - covered}"
