"""Apply tier: each example applies against LocalStack, reads back equal, plans clean, and destroys to nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.iam import IamWorld
from harness.paths import EXAMPLES_DIR
from harness.plans import SINGLE_ACCOUNT_EXAMPLES, example_vars
from harness.terraform import plan_exit_code, root_from_example, terraform

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


@pytest.mark.parametrize(
    "example", [pytest.param(e, marks=pytest.mark.xdist_group(f"apply-{e}")) for e in SINGLE_ACCOUNT_EXAMPLES]
)
def test_example_lifecycle(example: str, tmp_path: Any, tf_env: dict[str, str], world: IamWorld) -> None:
    expected = ATTACHMENTS[example]
    policies_before, groups_before = world.local_policies(), world.groups()
    tf = terraform(root_from_example(EXAMPLES_DIR / example, tmp_path), tf_env)
    tf_vars = example_vars(example)
    try:
        tf.apply(tf_vars=tf_vars)
        outputs = tf.output()
        arn = outputs["policy_arn"]

        assert world.policy_document(arn) == json.loads(outputs["policy_json"])
        assert outputs.get("attached_users", []) == expected["users"]
        assert outputs.get("attached_groups", []) == expected["groups"]
        for user in expected["users"]:
            assert arn in world.user_policies(user)
        for group in expected["groups"]:
            assert arn in world.group_policies(group)
        for group, members in expected["members"].items():
            assert world.group_members(group) == set(members)
        assert world.other_policy_arn in world.user_policies("dev-ana")
        assert world.other_policy_arn in world.group_policies("developers")

        assert plan_exit_code(tf, **tf_vars) == 0, "a second plan must show no changes"
    finally:
        tf.destroy(tf_vars=tf_vars)

    assert world.local_policies() == policies_before
    assert world.groups() == groups_before
    assert world.user_policies("dev-ana") == {world.other_policy_arn}
    assert world.group_policies("developers") == {world.other_policy_arn}
    assert world.group_members("developers") == {"dev-ben"}
