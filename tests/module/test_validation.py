"""Bad input: every case of validation_cases.yaml fails at plan with its message, checked offline (no endpoint,
no credentials: the provider is configured to make no call), and one case against LocalStack shows that a failed
apply creates nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from harness.iam import IamWorld
from harness.paths import MODULE_TESTS_DIR, REPO_ROOT
from harness.plans import LOCALSTACK_PROVIDER, OFFLINE_PROVIDER, module_blocks
from harness.terraform import module_copies, offline_environment, root_from_text, run, terraform

XDIST_GROUP = "validation"
CASES: dict[str, dict[str, Any]] = yaml.safe_load((MODULE_TESTS_DIR / "validation_cases.yaml").read_text())
CASES["oversized_policy"]["inputs"]["additional_actions_without_mfa"] = [f"s3:GetObjectVersion{i}" for i in range(300)]
STAGES = {
    stage: {n: c for n, c in CASES.items() if c.get("stage", "variable") == stage}
    for stage in ("variable", "precondition")
}
# The end-to-end witness: a precondition fails late in the plan, after the data sources were read from the API.
WITNESS = next(iter(STAGES["precondition"]))
# Offline, nothing may ask the API for the account: cases without account_id get one (account_id is validated
# as a variable, so a precondition case never needs its own).
OFFLINE_ACCOUNT = {"account_id": "123456789012"}
# What the AWS provider says when it tries to reach AWS (here: an endpoint that refuses connections).
API_ERRORS = r"connection refused|dial tcp|operation error|validating provider credentials|no valid credential sources"


def diagnostics(stderr: str) -> list[str]:
    return [block for block in re.split(r"\n(?=Error: )", re.sub(r"\x1b\[[0-9;]*m|[│╷╵]", "", stderr)) if block.strip()]


def missing_messages(cases: dict[str, dict[str, Any]], stderr: str) -> dict[str, str]:
    """Cases whose message is not in a diagnostic of their own module block."""
    blocks = diagnostics(stderr)
    missing = {}
    for name, case in cases.items():
        own = [block for block in blocks if f'module "{name}"' in block or f"modules/{name}/" in block]
        if not any(case["message"] in " ".join(block.split()) for block in own):
            missing[name] = case["message"]
    return missing


@pytest.fixture(scope="module", params=sorted(STAGES))
def offline_plan(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`terraform plan` of a root holding every bad case of one stage, offline; one run reports every diagnostic."""
    workdir = tmp_path_factory.mktemp(f"invalid-{request.param}")
    sources = module_copies(workdir, STAGES[request.param], REPO_ROOT)
    cases = {
        name: {**case, "inputs": OFFLINE_ACCOUNT | case["inputs"], "source": sources[name]}
        for name, case in STAGES[request.param].items()
    }
    root = root_from_text(workdir, OFFLINE_PROVIDER + module_blocks(cases))
    return {"cases": cases, "result": run(terraform(root, offline_environment()), "plan")}


def test_every_bad_input_fails_with_its_message(offline_plan: dict[str, Any]) -> None:
    result = offline_plan["result"]
    assert result.returncode == 1
    missing = missing_messages(offline_plan["cases"], result.stderr)
    assert not missing, f"cases without their message: {missing}\n\n{result.stderr[-4000:]}"


def test_offline_plan_makes_no_api_call(offline_plan: dict[str, Any]) -> None:
    """The failures are the cases' own: no diagnostic is about reaching AWS (the endpoint refuses connections)."""
    assert not re.search(API_ERRORS, offline_plan["result"].stderr, re.I)


def test_bad_input_creates_nothing(
    tmp_path_factory: pytest.TempPathFactory, tf_env: dict[str, str], world: IamWorld
) -> None:
    """End to end against LocalStack: `terraform apply` of a bad case fails with its message and creates nothing."""
    before = (world.local_policies(), world.groups())
    workdir = tmp_path_factory.mktemp("invalid-witness")
    witness = {WITNESS: CASES[WITNESS] | {"source": module_copies(workdir, [WITNESS], REPO_ROOT)[WITNESS]}}
    root = root_from_text(workdir, LOCALSTACK_PROVIDER + module_blocks(witness))
    result = run(terraform(root, tf_env), "apply", "-auto-approve")
    assert result.returncode == 1
    assert not missing_messages({WITNESS: CASES[WITNESS]}, result.stderr), result.stderr[-4000:]
    assert (world.local_policies(), world.groups()) == before


def test_every_validation_block_has_a_case() -> None:
    validated = set(re.findall(r'variable "(\w+)" \{[^}]*?validation', (REPO_ROOT / "variables.tf").read_text(), re.S))
    covered = {key for case in CASES.values() for key in case["inputs"]}
    assert validated <= covered, f"validated variables without a bad-input case: {validated - covered}"
