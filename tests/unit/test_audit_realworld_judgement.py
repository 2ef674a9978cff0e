"""The audit's judgement on policies nobody here wrote (tests/data/realworld), without AWS: for each corpus file, the
verdict `judge_policies` gives user alice (at /, a console password, without and with MFA) is the one iam-simulate
gave (tools/realworld_verdicts.py): covered exactly when her class is must-enrol / protected, the same guard kind,
and every recorded open door among the audit's doors (harness.realworld.door_reported)."""

from __future__ import annotations

from typing import Any

import pytest

from harness import realworld
from mfa_required.audit import GuardKind, Principal, UserClass, classify, judge_policies
from mfa_required.audit.report import OPEN_DOOR_LIMIT, _open_doors

SLUGS = realworld.slugs()
ENTRIES = {slug: realworld.load(slug) for slug in SLUGS}
ALICE = Principal("alice", "/", realworld.BASE_CONTEXT["aws:userid"], realworld.ACCOUNT)
EXEMPT = ["sts:GetSessionToken", "iam:ListVirtualMFADevices"]  # nothing on a user: no door on other users


def reported(judgement: Any) -> list[tuple[str, str, dict[str, Any]]]:
    return [(d.action, d.resource, dict(d.context)) for d in judgement.open_doors()]


def test_the_corpus_speaks_the_audits_vocabulary() -> None:
    assert set(realworld.KINDS) == {kind.value for kind in GuardKind}


@pytest.mark.parametrize("slug", SLUGS)
def test_the_audit_gives_the_corpus_verdict(slug: str) -> None:
    entry = ENTRIES[slug]
    judgement = judge_policies(list(entry.policies), ALICE)
    assert judgement.kind.value == entry.expected["kind"]
    without_mfa, _ = classify(True, False, judgement)
    with_mfa, _ = classify(True, True, judgement)
    if entry.expected["covered"]:
        assert (without_mfa, with_mfa) == (UserClass.MUST_ENROL, UserClass.PROTECTED)
        assert not judgement.open_doors()
    else:
        assert (without_mfa, with_mfa) == (UserClass.EXPOSED, UserClass.MFA_OPTIONAL)
    doors = reported(judgement)
    missing = [d for d in entry.expected["open_doors"] if not realworld.door_reported(d, doors)]
    assert not missing, missing


@pytest.mark.parametrize("slug", [s for s in SLUGS if realworld.principal_tags(ENTRIES[s].policies)])
def test_a_principal_tag_exemption_opens_for_the_user_who_holds_the_tag(slug: str) -> None:
    """The corpus judges alice as she is (no tags: principal facts are not the attacker's); a user who holds a tag
    value a Deny exempts has the doors open in an ordinary context."""
    entry = ENTRIES[slug]
    for tags in realworld.principal_tags(entry.policies):
        tagged = Principal("alice", "/", ALICE.user_id, realworld.ACCOUNT, tags=tags)
        judgement = judge_policies(list(entry.policies), tagged)
        assert not judgement.covered, tags
        assert judgement.opens("ec2:RunInstances") and judgement.opens("iam:CreateLoginProfile", "other users")


def test_every_minimal_escape_is_reported_whatever_the_keys_names() -> None:
    """Found on mcsrainbow-notes-mfa: a guard that fails open (Bool on aws:ViaAWSService) and also spares some VPCs
    was reported with one escape per class only (the first found with fewest changes): the VPC doors went unnamed,
    so fixing the Bool left them open unannounced. Every minimal set of changed keys is now a door."""
    for vpc_key in ("aws:SourceVpc", "aws:SourceVpce"):
        document = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "NotAction": EXEMPT,
                    "Resource": "*",
                    "Condition": {
                        "Bool": {"aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": "false"},
                        "StringNotEquals": {vpc_key: "vpc-0a1b2c3d"},
                    },
                }
            ],
        }
        judgement = judge_policies([document], ALICE)
        assert judgement.kind is GuardKind.FAIL_OPEN, vpc_key
        contexts = [c for a, _, c in reported(judgement) if a == "ec2:RunInstances"]
        assert {"aws:ViaAWSService": None} in contexts and {vpc_key: "vpc-0a1b2c3d"} in contexts
        assert judgement.conditional_keys == {"aws:ViaAWSService": ["absent"], vpc_key: ["vpc-0a1b2c3d"]}


@pytest.mark.parametrize("slug", [s for s in SLUGS if ENTRIES[s].expected["open_doors"]])
def test_the_json_list_keeps_every_iam_and_sts_door_when_cut(slug: str) -> None:
    """open_without_mfa holds up to 200 entries; a policy open everywhere has ~630. Cut alphabetically it named
    a2c:* to health:* and no takeover; ranked, it keeps the takeovers, the other IAM/STS doors, the widest services."""
    judgement = judge_policies(list(ENTRIES[slug].policies), ALICE)
    listed, _ = _open_doors(judgement)
    reported = [(d.action, d.resource, d.context) for d in listed]
    wanted = [d for d in ENTRIES[slug].expected["open_doors"] if d["action"].startswith(("iam:", "sts:"))]
    assert not [d for d in wanted if not realworld.door_reported(d, reported)]
    assert len(listed) <= OPEN_DOOR_LIMIT
