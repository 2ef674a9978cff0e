"""Plan tier: every input combination and every example renders the expected policy and resources."""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest

from harness.paths import DATA_DIR as DATA
from harness.paths import REPO_ROOT
from harness.plans import PLAN_CASES, SINGLE_ACCOUNT_EXAMPLES, PlanSummary, example_policy, expected_policy
from tools import tfdocs

XDIST_GROUP = "plan"
# Set to rewrite the expected documents from the current rendering; review the diff before committing.
UPDATE = os.environ.get("MFA_REQUIRED_UPDATE_EXPECTED") == "1"


def check_policy(rendered: str, name: str) -> None:
    document = json.loads(rendered)
    if UPDATE:
        (DATA / "policies" / f"{name}.json").write_text(json.dumps(document, indent=2) + "\n")
    assert document == expected_policy(name)


@pytest.mark.parametrize("case", PLAN_CASES)
def test_case_renders_expected_policy(plan_all: PlanSummary, case: str) -> None:
    check_policy(plan_all.outputs[case], PLAN_CASES[case]["policy"])


@pytest.mark.parametrize("case", PLAN_CASES)
def test_case_plans_expected_resources(plan_all: PlanSummary, case: str) -> None:
    prefix = f"module.{case}."
    planned = {address.removeprefix(prefix) for address in plan_all.values if address.startswith(prefix)}
    assert planned == set(PLAN_CASES[case]["resources"])


def test_partitions_reach_every_arn(plan_all: PlanSummary) -> None:
    for case, partition in [("default", "aws"), ("partition_china", "aws-cn"), ("partition_govcloud", "aws-us-gov")]:
        rendered = plan_all.outputs[case]
        arns = [arn for arn in json.dumps(json.loads(rendered)).split('"') if arn.startswith("arn:")]
        prefixes = (
            f"arn:{partition}:iam::123456789012:",
            f"arn:{partition}:signin:::console/",
            f"arn:{partition}:signin:*:123456789012:service-principal/",
        )
        assert arns and all(arn.startswith(prefixes) for arn in arns), case


def test_attachment_values(plan_all: PlanSummary) -> None:
    values = plan_all.values
    group = values["module.attachments_and_group.aws_iam_group.this[0]"]
    assert (group["name"], group["path"]) == ("mfa-users", "/security/")
    membership = values['module.attachments_and_group.aws_iam_user_group_membership.this["dev-ben"]']
    assert membership["groups"] == ["mfa-users"]
    assert values['module.attachments_and_group.aws_iam_user_policy_attachment.this["dev-ana"]']["user"] == "dev-ana"
    policy = values["module.default.aws_iam_policy.this"]
    assert policy["name_prefix"] == "require-mfa-" and policy["path"] == "/"


@pytest.mark.parametrize("example", SINGLE_ACCOUNT_EXAMPLES)
def test_example_renders_expected_policy(plan_all: PlanSummary, example: str) -> None:
    check_policy(example_policy(plan_all, example), f"example-{example}")


EXAMPLE_RESOURCES = {
    "basic": {"aws_iam_policy": 1, "aws_iam_group_policy_attachment": 1},
    "complete": {
        "aws_iam_user": 2,
        "aws_iam_policy": 1,
        "aws_iam_user_policy_attachment": 1,
        "aws_iam_group_policy_attachment": 2,
        "aws_iam_group": 1,
        "aws_iam_user_group_membership": 2,
    },
    "programmatic-mfa": {"aws_iam_policy": 1, "aws_iam_user_policy_attachment": 1},
    "seed-compatible": {"aws_iam_policy": 1, "aws_iam_user_policy_attachment": 1},
}


@pytest.mark.parametrize("example", SINGLE_ACCOUNT_EXAMPLES)
def test_example_resource_counts(plan_all: PlanSummary, example: str) -> None:
    prefix = f"module.example_{example.replace('-', '_')}."
    counts = Counter(address.split(".")[-2].split("[")[0] for address in plan_all.values if address.startswith(prefix))
    assert dict(counts) == EXAMPLE_RESOURCES[example]


# IAM cannot change these in place: a change replaces the policy (new ARN, attachments re-created).
REPLACING = ("name", "name_prefix", "path", "description")
NAMING_INPUTS = {"name", "use_name_prefix", "path", "description"}


def test_no_behaviour_input_replaces_the_policy(plan_all: PlanSummary) -> None:
    """Every case that leaves the naming inputs alone plans the default's name, path and description, whatever
    behaviour it asks for: toggling a behaviour input updates the policy in place (same ARN)."""
    default = plan_all.values["module.default.aws_iam_policy.this"]
    assert default["description"] and default["name_prefix"] == "require-mfa-"  # known at plan: comparable
    differ = {
        case: {k: plan_all.values[f"module.{case}.aws_iam_policy.this"].get(k) for k in REPLACING}
        for case, spec in PLAN_CASES.items()
        if not NAMING_INPUTS & set(spec.get("inputs", {}))
        and any(plan_all.values[f"module.{case}.aws_iam_policy.this"].get(k) != default.get(k) for k in REPLACING)
    }
    assert not differ, f"cases that would replace the default policy: {differ}"


def test_every_input_is_planned_by_some_case() -> None:
    """So that the test above sees every behaviour input toggled away from its default."""
    declared = {variable.name for variable in tfdocs.load_module(REPO_ROOT).variables}
    planned = {key for spec in PLAN_CASES.values() for key in spec.get("inputs", {})}
    assert declared - planned == set(), f"inputs no plan case sets: {declared - planned}"
