"""Session fixtures: LocalStack (started here, or the user's endpoint), terraform environment, IAM read-back."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixtures import IamWorld, PlanSummary, module_blocks
from localstack_client.session import Session

from mfa_required.localstack import localstack_endpoint
from mfa_required.paths import EXAMPLES_DIR, REPO_ROOT
from mfa_required.terraform import environment, root_from_example, root_from_text, terraform

EXAMPLES = sorted(path.name for path in EXAMPLES_DIR.iterdir() if (path / "main.tf").exists())
# Which tier applies each example (tests/test_examples.py checks that every example is in exactly one, and fits it).
# A single-account example is a root with one default provider: the plan tier instantiates it as a module block
# (plan_all) and the apply tier applies it as it is. A multi-account example configures one provider per member
# account that assumes a role there; as a module block it would be a module with provider configurations of its
# own, which is not how it is used: tests/test_multi_account.py applies it across several LocalStack accounts.
SINGLE_ACCOUNT_EXAMPLES = ("basic", "complete", "programmatic-mfa", "seed-compatible")
MULTI_ACCOUNT_EXAMPLES = ("multi-account",)
PLAN_CASES: dict[str, dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "plan_cases.yaml").read_text())
PROVIDERS = """
provider "aws" {
  region = "us-east-1"
}
# LocalStack answers GetCallerIdentity with an arn:aws ARN, from which the provider would take its partition;
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


LOCALSTACK_LOGS: list[Path] = []


@pytest.fixture(scope="session")
def localstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One LocalStack per test session (per xdist worker); a start failure is a setup error, never a skip."""
    workdir = tmp_path_factory.mktemp("localstack")
    LOCALSTACK_LOGS.append(workdir / "localstack.log")
    with localstack_endpoint(workdir) as endpoint:
        yield endpoint


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that used LocalStack shows the end of its log (kept in the session's temporary directory)."""
    report = yield
    if report.failed and "localstack" in getattr(item, "fixturenames", ()) and LOCALSTACK_LOGS:
        log = LOCALSTACK_LOGS[-1]
        tail = log.read_text(errors="replace").splitlines()[-30:] if log.exists() else ["(no log: external endpoint)"]
        report.sections.append(("LocalStack log", f"{log}\n" + "\n".join(tail)))
    return report


@pytest.fixture(scope="session")
def tf_env(localstack: str) -> dict[str, str]:
    return environment(localstack)


@pytest.fixture(scope="session")
def iam(localstack: str) -> Any:
    host = localstack.removeprefix("http://")
    return Session(localstack_host=host, region_name="us-east-1").client("iam")


@pytest.fixture(scope="session")
def world(iam: Any) -> IamWorld:
    return IamWorld(iam)


@pytest.fixture(scope="session")
def plan_all(tmp_path_factory: pytest.TempPathFactory, tf_env: dict[str, str], world: IamWorld) -> PlanSummary:
    """One plan for every input combination of plan_cases.yaml and every single-account example (each a module block):
    terraform pays provider start-up once instead of once per case."""
    workdir = tmp_path_factory.mktemp("plan-all")
    examples = {
        f"example_{name.replace('-', '_')}": {"source": root_from_example(EXAMPLES_DIR / name, workdir / "examples")}
        | {"inputs": example_vars(name)}
        for name in SINGLE_ACCOUNT_EXAMPLES
    }
    root = root_from_text(workdir / "root", PROVIDERS + module_blocks(PLAN_CASES | examples, REPO_ROOT))
    return PlanSummary.from_plan(terraform(root, tf_env).plan(output=True))


def example_policy(plan: PlanSummary, example: str) -> str:
    return str(plan.outputs[f"example_{example.replace('-', '_')}"])


def example_vars(name: str) -> dict[str, Any]:
    """Inputs that point an example at the pre-existing world instead of its defaults."""
    return {"basic": {}, "complete": {"users": ["dev-ana"], "groups": ["developers"]}}.get(name, {"users": ["dev-ana"]})


def pytest_report_header() -> str:
    return (
        f"mfa_required examples: single-account {', '.join(SINGLE_ACCOUNT_EXAMPLES)}; "
        f"multi-account {', '.join(MULTI_ACCOUNT_EXAMPLES)}"
    )


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests sharing a session fixture that runs terraform stay on one xdist worker (--dist loadgroup)."""
    for item in items:
        group = getattr(getattr(item, "module", None), "XDIST_GROUP", None)
        if group and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group))
