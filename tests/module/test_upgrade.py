"""docs/upgrading.md "Upgrading from the seed's copy-pasted JSON": the seed policy, created and attached as a user
would have, is adopted by the README's own upgrade block (import), updated in place, and kept attached."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.iam import IamWorld, create_users, delete_policy, delete_users
from harness.readme import (
    DOCS_TEXT,
    LOCALSTACK_ACCOUNT,
    SEED_POLICY_NAME,
    fenced_blocks,
    localise,
    section,
    seed_document,
)
from harness.terraform import plan_exit_code, root_from_text, run, terraform

XDIST_GROUP = "upgrade"

UPGRADE_SECTION = "Upgrading from the seed's copy-pasted JSON"
USER = "alice"
# The README block has no outputs; the test reads the module's.
OUTPUTS = """
output "policy_arn" {
  value = module.mfa_required.policy_arn
}

output "policy_id" {
  value = module.mfa_required.policy_id
}

output "policy_json" {
  value = module.mfa_required.policy_json
}
"""


def upgrade_block() -> str:
    (block,) = fenced_blocks(section(DOCS_TEXT, UPGRADE_SECTION), "hcl")
    return block


@pytest.fixture
def seed_policy(world: IamWorld) -> Iterator[dict[str, Any]]:
    """The seed policy as a user created it from the copy-pasted JSON, attached to alice (created if missing).
    Whatever the test leaves behind (a failed apply or destroy) is removed afterwards."""
    iam = world.iam
    assert SEED_POLICY_NAME not in world.local_policies(), f"a {SEED_POLICY_NAME} policy is left from an earlier run"
    created_users = create_users(iam, (USER,))
    policy = iam.create_policy(PolicyName=SEED_POLICY_NAME, PolicyDocument=seed_document())["Policy"]
    try:
        iam.attach_user_policy(UserName=USER, PolicyArn=policy["Arn"])
        yield policy
    finally:
        leftover = world.local_policies().get(SEED_POLICY_NAME)
        if leftover:
            delete_policy(iam, leftover)
        delete_users(iam, created_users)


def test_upgrade_block_adopts_the_seed_policy_in_place(
    tmp_path: Path, tf_env: dict[str, str], world: IamWorld, seed_policy: dict[str, Any]
) -> None:
    iam = world.iam
    arn = seed_policy["Arn"]
    assert arn == f"arn:aws:iam::{LOCALSTACK_ACCOUNT}:policy/{SEED_POLICY_NAME}"
    tf = terraform(root_from_text(tmp_path / "root", localise(upgrade_block()) + OUTPUTS), tf_env)
    passed = False
    try:
        tf.apply()
        outputs = tf.output()

        # Imported, not re-created: a new policy of the same name would have the same ARN but another id.
        assert outputs["policy_arn"] == arn
        assert outputs["policy_id"] == seed_policy["PolicyId"]
        assert iam.get_policy(PolicyArn=arn)["Policy"]["PolicyId"] == seed_policy["PolicyId"]

        # Updated in place: the module's document is the default version, the seed's is still there.
        assert world.policy_document(arn) == json.loads(outputs["policy_json"])
        versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
        older = [version["VersionId"] for version in versions if not version["IsDefaultVersion"]]
        assert older, f"no older version: the policy was not updated in place ({versions})"
        seed_version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
        assert "v1" in older and not seed_version["IsDefaultVersion"]
        document = seed_version["Document"]
        assert (json.loads(document) if isinstance(document, str) else document) == json.loads(seed_document())

        assert arn in world.user_policies(USER)
        assert plan_exit_code(tf) == 0, "a second plan must show no changes"
        passed = True
    finally:
        if passed:
            tf.destroy()
        else:  # best effort, so that the failure above is the one reported; seed_policy removes what is left
            run(tf, "destroy", "-auto-approve")

    assert SEED_POLICY_NAME not in world.local_policies()
