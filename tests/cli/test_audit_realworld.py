"""`mfa-required audit` against LocalStack on policies nobody here wrote (tests/data/realworld): every corpus file's
policies seeded as one user's inline policies, in an account of their own, the audit run as the CLI runs it (JSON),
and each user's class and open doors compared with the verdict iam-simulate gave (tools/realworld_verdicts.py).

Seeding changes two things, neither a change of meaning: the corpus' account 123456789012 becomes this test's account
(the users' own ARNs must be theirs), and JSON booleans in conditions become strings ("false"), which AWS reads
alike (condition values are compared as strings: IAM User Guide, reference_policies_elements_condition_operators,
Boolean condition operators) and LocalStack 2026.3's policy validation rejects (MalformedPolicyDocument).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness import realworld
from harness.cli import aws_env, run_in_process
from harness.localstack import client

XDIST_GROUP = "audit-realworld"
ACCOUNT = "210000000030"
PASSWORD = "Correct-Horse-Battery-9"
SLUGS = realworld.slugs()
ENTRIES = {slug: realworld.load(slug) for slug in SLUGS}
ENROLLED = set(SLUGS[::2])  # every other user has an MFA device: covered ones come out protected, others mfa-optional


def seeded(document: Any) -> str:
    """The document as it is put in the account: this test's account, condition values as strings."""

    def strings(value: Any) -> Any:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return [strings(v) for v in value]
        return value

    statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    for statement in statements:
        for operator, keys in (statement.get("Condition") or {}).items():
            statement["Condition"][operator] = {key: strings(values) for key, values in keys.items()}
    return json.dumps(document).replace(realworld.ACCOUNT, ACCOUNT)


def users() -> dict[str, tuple[str, dict[str, str]]]:
    """User name -> (corpus slug, tags): one user per file, and one holding each principal tag a Deny exempts."""
    out: dict[str, tuple[str, dict[str, str]]] = {slug[:64]: (slug, {}) for slug in SLUGS}
    for slug, entry in ENTRIES.items():
        for i, tags in enumerate(realworld.principal_tags(entry.policies)):
            out[f"{slug[:56]}-tagged{i}"] = (slug, tags)
    return out


def seed(iam: Any) -> None:
    for name, (slug, tags) in users().items():
        iam.create_user(UserName=name, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        iam.create_login_profile(UserName=name, Password=PASSWORD)
        for i, document in enumerate(ENTRIES[slug].policies):
            iam.put_user_policy(UserName=name, PolicyName=f"realworld-{i}", PolicyDocument=seeded(dict(document)))
        if slug in ENROLLED and not tags:
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]["SerialNumber"]
            # LocalStack accepts any two codes; AWS checks them against the device's seed.
            iam.enable_mfa_device(
                UserName=name, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
            )


@pytest.fixture(scope="module")
def audited(localstack: str) -> dict[str, dict[str, Any]]:
    """The account seeded and audited once through the CLI (JSON): the users' reports by name."""
    seed(client(localstack, "iam", ACCOUNT))
    done = run_in_process(["audit", "--endpoint-url", localstack, "--format", "json"], aws_env(ACCOUNT))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [a["status"] for a in report["accounts"]] == ["ok"]
    return {user["user"]: user for user in report["users"]}


def test_every_seeded_user_is_reported(audited: dict[str, dict[str, Any]]) -> None:
    assert set(audited) == set(users())


@pytest.mark.parametrize("slug", SLUGS)
def test_each_users_class_kind_and_doors_are_the_corpus_verdict(audited: dict[str, dict[str, Any]], slug: str) -> None:
    expected = ENTRIES[slug].expected
    user = audited[slug[:64]]
    if expected["covered"]:
        assert user["class"] == ("protected" if slug in ENROLLED else "must-enrol"), user["reasons"]
    else:
        assert user["class"] == ("mfa-optional" if slug in ENROLLED else "exposed"), user["reasons"]
    assert user["guard"] == expected["kind"]
    listed = user["open_without_mfa"]
    reported = [(d["action"], d["resource"], d["context"]) for d in listed]
    missing = [d for d in expected["open_doors"] if not realworld.door_reported(d, reported)]
    # The JSON lists up to 200 entries, IAM/STS first (report._open_doors); past that, a door of another service may
    # be left out of a list that is visibly cut (the count says more are open). The unit tier checks every door.
    cut = user["open_without_mfa_count"] > sum(d["actions"] for d in listed)
    assert not [d for d in missing if not cut or d["action"].startswith(("iam:", "sts:"))], missing


def test_a_user_holding_an_exempt_tag_is_exposed(audited: dict[str, dict[str, Any]]) -> None:
    tagged = {name: slug for name, (slug, tags) in users().items() if tags}
    assert tagged  # the corpus has a principal-tag exemption
    for name in tagged:
        user = audited[name]
        assert user["class"] == "exposed" and user["guard"] != "complete", (name, user["guard"])
        assert any(d["action"] in ("ec2:*", "ec2:RunInstances") for d in user["open_without_mfa"]), name
