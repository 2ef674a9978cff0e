"""Apply tier: the examples against LocalStack apply, read back equal, plan clean, and destroy to nothing.

They are applied together, one module block each in one root, as the plan tier plans them: terraform and the
provider start once for the four instead of once per example (each example's provider block, which sets only the
region, gives way to the root's, in the same region), and the apply, the second plan and the destroy each run once.
Their names do not collide (a name prefix or a name of their own).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness.iam import IamWorld
from harness.paths import EXAMPLES_DIR
from harness.plans import LOCALSTACK_PROVIDER, SINGLE_ACCOUNT_EXAMPLES, example_module, example_vars
from harness.terraform import format_module_args, plan_exit_code, root_from_example, root_from_text, terraform

XDIST_GROUP = "apply"
# What each example attaches, given example_vars(): users and groups, and members of a created group.
ATTACHMENTS: dict[str, dict[str, Any]] = {
    "basic": {"users": [], "groups": ["developers"], "members": {}},
    "complete": {
        "users": ["dev-ana"],
        "groups": ["developers", "mfa-required-complete"],
        "members": {"mfa-required-complete": ["alice", "bob"]},
    },
    "programmatic-mfa": {"users": ["dev-ana"], "groups": [], "members": {}},
    "seed-compatible": {"users": ["dev-ana"], "groups": [], "members": {}},
}
USERS = sorted({user for expected in ATTACHMENTS.values() for user in expected["users"]} | {"dev-ana"})
GROUPS = sorted({group for expected in ATTACHMENTS.values() for group in expected["groups"]} | {"developers"})


def read_world(world: IamWorld) -> dict[str, Any]:
    """What the examples touch: the attached policies of their users and groups, the members of their groups."""
    groups = world.groups()
    return {
        "policies": world.local_policies(),
        "groups": groups,
        "user_policies": {user: world.user_policies(user) for user in USERS},
        "group_policies": {group: world.group_policies(group) for group in GROUPS if group in groups},
        "members": {group: world.group_members(group) for group in GROUPS if group in groups},
    }


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory, tf_env: dict[str, str], world: IamWorld) -> Iterator[Any]:
    """Apply every example in one root, read back each policy and the world, plan again, destroy; always cleaned up."""
    workdir = tmp_path_factory.mktemp("apply")
    blocks = []
    for example in SINGLE_ACCOUNT_EXAMPLES:
        name = example_module(example)
        source = root_from_example(EXAMPLES_DIR / example, workdir / "examples", inherit_provider=True)
        arguments = format_module_args(example_vars(example))
        blocks.append(
            f'module "{name}" {{\n  source = "{source}"\n{arguments}\n}}\n'
            f'output "{name}" {{\n  value = module.{name}\n}}\n'
        )
    tf = terraform(root_from_text(workdir / "root", LOCALSTACK_PROVIDER + "\n".join(blocks)), tf_env)
    steps: dict[str, Any] = {"before": read_world(world)}
    try:
        tf.apply()
        root_outputs = tf.output()
        outputs = {example: root_outputs[example_module(example)] for example in SINGLE_ACCOUNT_EXAMPLES}
        steps["outputs"] = outputs
        steps["documents"] = {example: world.policy_document(o["policy_arn"]) for example, o in outputs.items()}
        steps["applied"] = read_world(world)
        steps["second plan exit code"] = plan_exit_code(tf)
    finally:
        tf.destroy()
    steps["destroyed"] = read_world(world)
    yield steps


@pytest.mark.parametrize("example", SINGLE_ACCOUNT_EXAMPLES)
def test_example_applies_and_reads_back(applied: dict[str, Any], example: str, world: IamWorld) -> None:
    expected, outputs, after = ATTACHMENTS[example], applied["outputs"][example], applied["applied"]
    arn = outputs["policy_arn"]
    assert applied["documents"][example] == json.loads(outputs["policy_json"])
    assert outputs.get("attached_users", []) == expected["users"]
    assert outputs.get("attached_groups", []) == expected["groups"]
    for user in expected["users"]:
        assert arn in after["user_policies"][user]
    for group in expected["groups"]:
        assert arn in after["group_policies"][group]
    for group, members in expected["members"].items():
        assert after["members"][group] == set(members)
    assert world.other_policy_arn in after["user_policies"]["dev-ana"]
    assert world.other_policy_arn in after["group_policies"]["developers"]


def test_second_plan_shows_no_changes(applied: dict[str, Any]) -> None:
    assert applied["second plan exit code"] == 0, "a second plan must show no changes"


def test_destroy_leaves_the_world_as_it_was(applied: dict[str, Any], world: IamWorld) -> None:
    before, destroyed = applied["before"], applied["destroyed"]
    assert destroyed["policies"] == before["policies"]
    assert destroyed["groups"] == before["groups"]
    assert destroyed["user_policies"]["dev-ana"] == {world.other_policy_arn}
    assert destroyed["group_policies"]["developers"] == {world.other_policy_arn}
    assert destroyed["members"]["developers"] == {"dev-ben"}
