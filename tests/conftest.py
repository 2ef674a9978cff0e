"""Session fixtures: LocalStack (started here, or the user's endpoint), terraform environment, IAM read-back."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from localstack_client.session import Session

from harness.iam import IamWorld
from harness.localstack import localstack_endpoint
from harness.paths import EXAMPLES_DIR
from harness.plans import (
    MULTI_ACCOUNT_EXAMPLES,
    PLAN_CASES,
    PROVIDERS,
    SINGLE_ACCOUNT_EXAMPLES,
    PlanSummary,
    example_module,
    example_vars,
    module_blocks,
)
from harness.terraform import environment, root_from_example, root_from_text, terraform

# xdist groups (a module's XDIST_GROUP) and the check that they hold; the `localstack` marker on every test that
# needs LocalStack (the offline tier is `-m "not localstack"`); the worker's AWS provider processes, which terraform
# commands attach to; pytester, for the test of that marking.
pytest_plugins = ("harness.groups", "harness.tiers", "harness.provider_server", "pytester")

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
    """One plan for every input combination of plan_cases.yaml and every single-account example (each a module block,
    using the root's provider): terraform pays provider start-up once instead of once per case."""
    workdir = tmp_path_factory.mktemp("plan-all")
    examples = {
        example_module(name): {
            "source": root_from_example(EXAMPLES_DIR / name, workdir / "examples", inherit_provider=True)
        }
        | {"inputs": example_vars(name)}
        for name in SINGLE_ACCOUNT_EXAMPLES
    }
    root = root_from_text(workdir / "root", PROVIDERS + module_blocks(PLAN_CASES | examples))
    return PlanSummary.from_plan(terraform(root, tf_env).plan(output=True))


def pytest_report_header() -> str:
    return (
        f"mfa_required examples: single-account {', '.join(SINGLE_ACCOUNT_EXAMPLES)}; "
        f"multi-account {', '.join(MULTI_ACCOUNT_EXAMPLES)}"
    )
