"""User names that differ only in case (README, "User names and letter case").

IAM user names are unique without regard to case ("They aren't distinguished by case", IAM User Guide,
reference_iam-quotas), while in a policy's Resource element "the IAM user name is case sensitive" (IAM User Guide,
reference_policies_elements_resource). AWS does not document which letter case the resource ARN of a request
carries when it names the user ALICE for the user stored as alice. If it is the stored case, the request is the
user's own and the matrix decides it. If it is the case as typed, user/ALICE is not user/${aws:username}: this test
shows that every such request is then decided exactly as the same request on another user, carol, whose cells
the README's matrix shows (no own-user Allow, the exempt actions denied without MFA, the key guards not needed
because only a policy that allows the action on other users can allow it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mfa_required.evaluator import PolicySet, Request
from mfa_required.matrix import ALLOW_ALL, MODES, OWN, ROWS, account_and_partition
from mfa_required.personas import ALICE, CAROL, PERSONAS

POLICIES = {
    path.stem: json.loads(path.read_text())
    for path in sorted((Path(__file__).parents[1] / "data" / "policies").glob("*.json"))
}
# The self-service Allow a user may also hold, scoped like AWS's self-manage examples: it names the stored case.
SELF_MANAGE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "arn:*:iam::*:user/${aws:username}"}],
}
USER_ROWS = [row for row in ROWS if row.target == OWN and ":user/" in row.resource(ALICE, "123456789012", "aws")]


def decisions(policy: dict[str, Any], name: str) -> dict[tuple[str, str, str], str]:
    account, partition = account_and_partition(policy)
    out = {}
    for mode, others in {**{m: [ALLOW_ALL] for m in MODES if m != "alone"}, "alone": [], "self": [SELF_MANAGE]}.items():
        policy_set = PolicySet([policy, *others])
        for persona in PERSONAS:
            context = persona.context(ALICE, account, partition)
            principal = persona.principal(ALICE, account, partition)
            for row in USER_ROWS:
                resource = f"arn:{partition}:iam::{account}:user/{name}"
                out[persona.key, row.action, mode] = policy_set.evaluate(
                    Request(row.action, resource, context, principal)
                ).decision
    return out


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_own_name_in_another_case_is_decided_like_another_user(name: str) -> None:
    policy = POLICIES[name]
    assert len(USER_ROWS) >= 15
    assert decisions(policy, ALICE.name.upper()) == decisions(policy, CAROL.name)


def test_the_stored_case_is_the_own_user() -> None:
    """The other branch: with the stored case the same requests are the user's own (the matrix's "own" rows)."""
    own, upper = decisions(POLICIES["default"], ALICE.name), decisions(POLICIES["default"], ALICE.name.upper())
    assert own["console", "iam:EnableMFADevice", "alone"] == "Allowed"
    assert upper["console", "iam:EnableMFADevice", "alone"] == "ExplicitlyDenied"
    assert upper["access-key", "iam:CreateLoginProfile", "self"] == "ImplicitlyDenied"  # no own-user Allow matches
