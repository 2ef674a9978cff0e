"""AWS rules outside policy evaluation: each decided whatever the identity policies say, with a note naming the
rule, and confirmed by the independent oracle, which models the same three rules."""

from __future__ import annotations

from typing import Any

import pytest

from harness.oracle import Oracle, known_deviation
from mfa_required.evaluator import (
    PolicySet,
    Request,
    needs_resource_policy,
    never_denied,
    protected_resource,
)

ACCOUNT = "123456789012"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
SSO_ROLE = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef"
MANAGED = "arn:aws:iam::aws:policy/AdministratorAccess"
CUSTOMER = f"arn:aws:iam::{ACCOUNT}:policy/require-mfa"
NO_MFA = {"aws:MultiFactorAuthPresent": "false", "aws:username": "alice"}


def document(effect: str, action: str = "*", resource: str = "*") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": resource}]}


ALLOW_ALL = document("Allow")
DENY_ALL = document("Deny")
GUARD = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "NotAction": "iam:ChangePassword",
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }
    ],
}

# (name, policies, action, resource, decision, the rule's note names this)
CASES = [
    ("GetCallerIdentity with no policy", [], "sts:GetCallerIdentity", "*", "Allowed", "cannot be denied"),
    ("GetCallerIdentity under Deny *", [DENY_ALL, ALLOW_ALL], "sts:GetCallerIdentity", "*", "Allowed", "cannot"),
    ("GetCallerIdentity under an MFA guard", [GUARD], "STS:getcalleridentity", "*", "Allowed", "cannot be denied"),
    ("change an SSO role", [ALLOW_ALL], "iam:PutRolePolicy", SSO_ROLE, "ImplicitlyDenied", "aws-reserved"),
    ("its trust policy", [ALLOW_ALL], "iam:UpdateAssumeRolePolicy", SSO_ROLE, "ImplicitlyDenied", "aws-reserved"),
    ("delete an SSO role", [ALLOW_ALL], "iam:DeleteRole", SSO_ROLE, "ImplicitlyDenied", "aws-reserved"),
    ("tag an SSO role", [ALLOW_ALL], "iam:TagRole", SSO_ROLE, "ImplicitlyDenied", "aws-reserved"),
    ("read an SSO role", [ALLOW_ALL], "iam:GetRole", SSO_ROLE, "Allowed", None),
    ("change an AWS managed policy", [ALLOW_ALL], "iam:CreatePolicyVersion", MANAGED, "ImplicitlyDenied", "managed"),
    ("its default version", [ALLOW_ALL], "iam:SetDefaultPolicyVersion", MANAGED, "ImplicitlyDenied", "managed"),
    ("delete it", [ALLOW_ALL], "iam:DeletePolicy", MANAGED, "ImplicitlyDenied", "AWS managed"),
    ("change a customer managed policy", [ALLOW_ALL], "iam:CreatePolicyVersion", CUSTOMER, "Allowed", None),
    ("a Deny still denies", [DENY_ALL, ALLOW_ALL], "iam:DeleteRole", SSO_ROLE, "ExplicitlyDenied", None),
    ("TagSession on a role", [ALLOW_ALL], "sts:TagSession", SSO_ROLE, "ImplicitlyDenied", "trust policy"),
    (
        "TagSession elsewhere",
        [ALLOW_ALL],
        "sts:TagSession",
        f"arn:aws:iam::{ACCOUNT}:role/x",
        "ImplicitlyDenied",
        "trust",
    ),
    ("AssumeRole, as before", [ALLOW_ALL], "sts:AssumeRole", SSO_ROLE, "ImplicitlyDenied", "trust policy"),
]


@pytest.mark.parametrize(
    ("policies", "action", "resource", "decision", "note"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_aws_rule_decides_with_a_note(
    policies: list[dict[str, Any]], action: str, resource: str, decision: str, note: str | None
) -> None:
    result = PolicySet(policies).evaluate(Request(action, resource, NO_MFA, ALICE))
    assert result.decision == decision
    if note is None:
        assert result.note is None
    else:
        assert result.note is not None and note in result.note


def test_the_rules_say_which_one_applies() -> None:
    assert never_denied(Request("sts:GetCallerIdentity", "*")) is not None
    assert never_denied(Request("sts:GetSessionToken", "*")) is None  # needs none, but a policy can deny it
    assert protected_resource(Request("iam:AttachRolePolicy", SSO_ROLE)) is not None
    assert protected_resource(Request("iam:PassRole", SSO_ROLE)) is not None  # the catalogue's Write level
    assert protected_resource(Request("iam:ListRoleTags", SSO_ROLE)) is None
    assert protected_resource(Request("iam:GetPolicyVersion", MANAGED)) is None
    assert protected_resource(Request("iam:NoSuchAction", MANAGED)) is None
    assert protected_resource(Request("s3:PutObject", "arn:aws:s3:::aws-reserved/x")) is None
    assert needs_resource_policy(Request("sts:TagSession", SSO_ROLE)) is not None


def test_oracle_agrees_on_every_rule() -> None:
    """All but one case: where a Deny matches a change to a protected resource, the oracle answers ImplicitlyDenied
    (harness.oracle.known_deviation); both refuse."""
    questions = [(policies, Request(action, resource, NO_MFA, ALICE)) for _, policies, action, resource, *_ in CASES]
    deviating = [case[0] for case, question in zip(CASES, questions, strict=True) if known_deviation(*question)]
    assert deviating == ["a Deny still denies"]
    asked = [(case, question) for case, question in zip(CASES, questions, strict=True) if case[0] not in deviating]
    with Oracle() as oracle:
        answers = oracle.decide([question for _, question in asked])
    assert answers == [case[4] for case, _ in asked]
