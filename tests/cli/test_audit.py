"""`mfa-required audit` against LocalStack: a seeded account with users of every class, the module applied by
terraform, and the audit's classes compared with tests/data/audit/expected.yaml; pagination and partial data.

Each scenario uses its own IAM account: LocalStack takes the account from a 12-digit access key ID, for boto3 and
for terraform (AWS_ACCESS_KEY_ID), so these users never meet other tests' users.

What LocalStack 2026.3 returns, checked here: GetAccountAuthorizationDetails' policy documents come back decoded
by botocore (IAM sends them URL-encoded; the audit accepts objects, JSON text and URL-encoded text), it ignores
MaxItems (one page, whatever the size: the pagination test splits its answer as IAM does), and its credential
report has one row only, the account's last user (its provider writes the CSV row after the loop), so the other
users go through the per-user fallback that AWS needs only for users created since the last report.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from harness.cli import NO_AWS_CONFIGURATION, aws_env, run_in_process
from harness.localstack import account_session, client
from harness.paths import REPO_ROOT
from harness.readme import seed_document
from harness.terraform import root_from_text, terraform
from mfa_required import audit

XDIST_GROUP = "audit"
DATA = Path(__file__).parents[1] / "data"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((DATA / "audit" / "expected.yaml").read_text())
ACCOUNT = "210000000001"
PARTIAL_ACCOUNT = "210000000002"
PAGED_ACCOUNT = "210000000003"
PASSWORD = "Correct-Horse-Battery-9"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# A guard written the way the module wrote it before it failed closed: Bool on aws:ViaAWSService.
FAILS_OPEN = policy(
    {
        "Sid": "DenyWithoutMfa",
        "Effect": "Deny",
        "NotAction": ["iam:ChangePassword", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser"],
        "Resource": "*",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": "false"}},
    }
)
KEYS_TOO = policy(
    {
        "Sid": "DenyWithoutMfaEvenForKeys",
        "Effect": "Deny",
        "NotAction": ["iam:ChangePassword", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser"],
        "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    }
)
UNREADABLE = policy(
    {
        "Sid": "DenyUntagged",
        "Effect": "Deny",
        "Action": "ec2:CreateVolume",
        "Resource": "*",
        "Condition": {"ForAnyValue:Null": {"aws:TagKeys": "true"}},
    }
)
UNRELATED = policy({"Sid": "ReadBuckets", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})


def enable_mfa(iam: Any, user: str) -> None:
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]["SerialNumber"]
    # LocalStack accepts any two codes; AWS checks them against the device's seed.
    iam.enable_mfa_device(
        UserName=user, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )


def seed_account(iam: Any, account: str) -> None:
    """The IAM world of expected.yaml, before the module is applied."""
    users = {
        "eng-enrolled": "/teams/eng/",
        "eng-new": "/teams/eng/",
        "direct-user": "/",
        "seed-copy": "/",
        "seed-copy-new": "/",
        "legacy-member": "/legacy/",
        "legacy-enrolled": "/legacy/",
        "outsider": "/contractors/",
        "mfa-no-guard": "/",
        "ci-bot": "/automation/",
        "ci-strict": "/automation/",
        "broken-policy": "/",
    }
    for name, path in users.items():
        iam.create_user(UserName=name, Path=path)
    for name in set(users) - {"ci-bot", "ci-strict"}:
        iam.create_login_profile(UserName=name, Password=PASSWORD)
    for name in ("eng-enrolled", "direct-user", "seed-copy", "legacy-enrolled", "mfa-no-guard", "broken-policy"):
        enable_mfa(iam, name)
    for name in ("ci-bot", "ci-strict"):
        iam.create_access_key(UserName=name)

    iam.create_group(GroupName="engineers", Path="/teams/")
    for name in ("eng-enrolled", "eng-new", "ci-bot", "broken-policy"):
        iam.add_user_to_group(GroupName="engineers", UserName=name)
    iam.put_user_policy(UserName="broken-policy", PolicyName="deny-untagged-volumes", PolicyDocument=UNREADABLE)

    iam.put_user_policy(UserName="seed-copy", PolicyName="seed-copy-pasted", PolicyDocument=seed_document(account))
    seed_arn = iam.create_policy(PolicyName="seed-managed", PolicyDocument=seed_document(account))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="seed-copy-new", PolicyArn=seed_arn)

    legacy_arn = iam.create_policy(PolicyName="legacy-mfa-guard", PolicyDocument=FAILS_OPEN)["Policy"]["Arn"]
    iam.create_group(GroupName="legacy")
    iam.attach_group_policy(GroupName="legacy", PolicyArn=legacy_arn)
    for name in ("legacy-member", "legacy-enrolled"):
        iam.add_user_to_group(GroupName="legacy", UserName=name)

    unrelated_arn = iam.create_policy(PolicyName="read-buckets", PolicyDocument=UNRELATED)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="outsider", PolicyArn=unrelated_arn)
    iam.attach_user_policy(UserName="outsider", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.put_user_policy(UserName="ci-strict", PolicyName="mfa-for-keys-too", PolicyDocument=KEYS_TOO)


MODULE = """
provider "aws" {
  region = "us-east-1"
}

module "mfa_required" {
  source = "%s"

  # Default behaviour inputs: since 1.1 the service exemption uses BoolIfExists on aws:ViaAWSService (fails
  # closed); 1.0's Bool is what the legacy group above carries.
  users  = ["direct-user"]
  groups = ["engineers"]
}
"""


def run_audit(localstack: str, account: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The audit command, in this process (harness.cli); the tests of its failures run it as a process."""
    return run_in_process(["audit", "--endpoint-url", localstack, *args], aws_env(account))


@pytest.fixture(scope="module")
def audited(localstack: str, tf_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The seeded account with the module applied, audited once (json)."""
    seed_account(client(localstack, "iam", ACCOUNT), ACCOUNT)
    root = root_from_text(tmp_path_factory.mktemp("audit") / "root", MODULE % REPO_ROOT)
    tf = terraform(root, {**tf_env, "AWS_ACCESS_KEY_ID": ACCOUNT})
    tf.apply()
    done = run_audit(localstack, ACCOUNT, "--format", "json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_classes_match_the_expected_table(audited: dict[str, Any]) -> None:
    assert audited["accounts"][0]["status"] == "ok"
    got = {u["user"]: u["class"] for u in audited["users"]}
    assert got == {name: row["class"] for name, row in EXPECTED.items()}
    assert {u["user"]: u["path"] for u in audited["users"]}["outsider"] == "/contractors/"
    assert all(u["account"] == ACCOUNT for u in audited["users"])


def test_reasons_name_the_covering_policy_the_fix_and_the_keys(audited: dict[str, Any]) -> None:
    users = {u["user"]: u for u in audited["users"]}
    for name, row in EXPECTED.items():
        user = users[name]
        assert user["reasons"], name
        if "covered_by" in row:
            assert any(p.startswith(row["covered_by"]) for p in user["covering_policies"]), (name, user)
        if "fix" in row:
            assert row["fix"] in user["fix"], (name, user["fix"])
        if "keys_affected" in row:
            assert user["keys_affected"] is row["keys_affected"], name
        if "error" in row:
            assert any(row["error"] in e for e in user["errors"]), (name, user["errors"])
        else:
            assert user["errors"] == [], (name, user["errors"])
    assert any("fails open" in r for r in users["legacy-member"]["reasons"])
    assert "legacy-mfa-guard" in users["legacy-member"]["fix"]
    assert users["eng-new"]["fix"] is None


def test_counts_and_api_calls(audited: dict[str, Any]) -> None:
    account = audited["accounts"][0]
    counts = {c: sum(1 for r in EXPECTED.values() if r["class"] == c) for c in audit.CLASSES}
    assert account["counts"] == counts == audited["totals"]
    calls = account["api_calls_by_operation"]
    assert calls["iam:GetAccountAuthorizationDetails"] == account["pages"] == 1
    assert calls["iam:GetPolicy"] == 1  # ReadOnlyAccess, the one attached AWS managed policy
    # what the least-privilege policy grants covers every call made (GetCallerIdentity needs no permission)
    assert set(calls) - {"sts:GetCallerIdentity"} <= set(audit.REQUIRED_ACTIONS)


def test_fail_on_sets_the_exit_status(localstack: str, audited: dict[str, Any]) -> None:
    assert run_audit(localstack, ACCOUNT, "--format", "json", "--fail-on", "exposed").returncode == 1
    assert run_audit(localstack, ACCOUNT, "--format", "json", "--fail-on", "unenrolled").returncode == 1
    assert run_audit(localstack, ACCOUNT, "--format", "json", "--fail-on", "never").returncode == 0


def test_table_and_markdown_show_counts_then_users(localstack: str, audited: dict[str, Any]) -> None:
    table = run_audit(localstack, ACCOUNT, "--format", "table")
    markdown = run_audit(localstack, ACCOUNT, "--format", "markdown")
    for done in (table, markdown):
        assert done.returncode == 0, done.stderr
        counts_at = done.stdout.index("must-enrol")
        assert counts_at < done.stdout.index("outsider") < done.stdout.index("legacy-member")  # by path, then name
    assert "| legacy-member | /legacy/ | **exposed** |" in markdown.stdout


def test_clear_errors_without_traceback(localstack: str) -> None:
    unreachable = subprocess.run(
        [sys.executable, "-m", "mfa_required.cli", "audit", "--endpoint-url", "http://127.0.0.1:9", "--format", "json"],
        capture_output=True,
        text=True,
        env=aws_env(ACCOUNT),
        timeout=120,
        check=False,
    )
    assert unreachable.returncode == 2
    assert "cannot reach http://127.0.0.1:9" in unreachable.stderr and "Traceback" not in unreachable.stderr
    env_without_keys = subprocess.run(
        [sys.executable, "-m", "mfa_required.cli", "audit", "--endpoint-url", localstack],
        capture_output=True,
        text=True,
        env=NO_AWS_CONFIGURATION,
        timeout=120,
        check=False,
    )
    assert env_without_keys.returncode == 2
    assert "no AWS credentials found" in env_without_keys.stderr and "Traceback" not in env_without_keys.stderr


# --- pagination and partial data, in-process with botocore event hooks ---------------------------------------------


def paginate_like_aws(session: boto3.Session) -> list[tuple[int, str | None]]:
    """LocalStack 2026.3 returns every entity in one GetAccountAuthorizationDetails page whatever MaxItems says
    (its provider: "TODO: Implement proper pagination"); these hooks split its answer the way IAM does, MaxItems
    users per page with a Marker, so the audit's paginator meets real pages. Returns the (MaxItems, Marker) sent."""
    sent: list[tuple[int, str | None]] = []

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["paging"] = (int(params["MaxItems"]), params.get("Marker"))
        sent.append(context["paging"])

    def split(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        size, marker = context["paging"]
        start = int(marker or 0)
        users = parsed["UserDetailList"]
        parsed["UserDetailList"] = users[start : start + size]
        if start:  # groups and policies come with the first page
            parsed["GroupDetailList"], parsed["Policies"] = [], []
        parsed["IsTruncated"] = start + size < len(users)
        if parsed["IsTruncated"]:
            parsed["Marker"] = str(start + size)

    session.events.register("provide-client-params.iam.GetAccountAuthorizationDetails", remember)
    session.events.register("after-call.iam.GetAccountAuthorizationDetails", split)
    return sent


def test_every_user_of_every_page_is_reported(localstack: str) -> None:
    iam = client(localstack, "iam", PAGED_ACCOUNT)
    names = [f"paged-{i:02d}" for i in range(23)]
    for name in names:
        iam.create_user(UserName=name)
    session = account_session(PAGED_ACCOUNT)
    sent = paginate_like_aws(session)
    report = audit.audit_account(session, endpoint_url=localstack, page_size=5)
    assert report.status == "ok", report.error
    assert report.pages == math.ceil(len(names) / 5) == len(sent)
    assert sent == [(5, None), (5, "5"), (5, "10"), (5, "15"), (5, "20")]
    assert sorted(u.user for u in report.users) == names
    assert report.api_calls["iam:GetAccountAuthorizationDetails"] == 5


def test_partial_data_gives_the_rest_of_the_report(localstack: str) -> None:
    """A user deleted between the listing and the per-user reads, a credential report that never completes, and a
    policy document the evaluator cannot read: each is named, and every other user is still judged."""
    iam = client(localstack, "iam", PARTIAL_ACCOUNT)
    for name in ("stays", "goes", "unreadable"):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password=PASSWORD)
    iam.put_user_policy(UserName="unreadable", PolicyName="deny-untagged-volumes", PolicyDocument=UNREADABLE)
    session = account_session(PARTIAL_ACCOUNT)

    def delete_after_listing(**_: Any) -> None:
        iam.delete_login_profile(UserName="goes")
        iam.delete_user(UserName="goes")

    def still_generating(parsed: dict[str, Any], **_: Any) -> None:
        parsed["State"] = "STARTED"

    session.events.register("after-call.iam.GetAccountAuthorizationDetails", delete_after_listing)
    session.events.register("after-call.iam.GenerateCredentialReport", still_generating)
    report = audit.audit_account(session, endpoint_url=localstack, report_timeout=1.0)
    assert report.status == "ok", report.error
    assert sorted(u.user for u in report.users) == ["stays", "unreadable"]
    assert any("user goes was deleted during the audit" in w for w in report.warnings)
    assert any("credential report was still generating after 1 s" in w for w in report.warnings)
    users = {u.user: u for u in report.users}
    assert users["stays"].class_ == "exposed" and users["stays"].errors == []
    assert users["unreadable"].class_ == "exposed"
    assert any("deny-untagged-volumes" in e and "ForAnyValue" in e for e in users["unreadable"].errors)


# --- hostile data and a stale credential report --------------------------------------------------------------------

HOSTILE_ACCOUNT = "210000000004"
STALE_ACCOUNT = "210000000005"
# IAM paths may hold any printable ASCII but the space (IAM API reference, CreateUser: Path pattern).
HOSTILE_PATHS = {
    "brackets": "/[/]/",
    "link": "/[link=https://x.io]x[/link]/",
    "forged-row": "/a|**protected**|b/",
    "html": "/`c`<img>/",
}


def test_hostile_paths_are_escaped_in_every_format(localstack: str) -> None:
    """Paths that would close a markdown cell, open a link or crash rich's markup parser come out as text in all
    three formats: the markdown rows byte for byte, the table without markup, the JSON exactly."""
    iam = client(localstack, "iam", HOSTILE_ACCOUNT)
    for name, path in HOSTILE_PATHS.items():
        iam.create_user(UserName=name, Path=path)
        iam.create_login_profile(UserName=name, Password=PASSWORD)
    markdown = run_audit(localstack, HOSTILE_ACCOUNT, "--format", "markdown")
    table = run_audit(localstack, HOSTILE_ACCOUNT, "--format", "table")
    as_json = run_audit(localstack, HOSTILE_ACCOUNT, "--format", "json")
    for done in (markdown, table, as_json):
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    rows = {line.split(" | ")[0][2:]: line for line in markdown.stdout.splitlines() if line.startswith("| ")}
    escaped = {
        "brackets": r"/\[/\]/",
        "link": r"/\[link=https://x.io\]x\[/link\]/",
        "forged-row": r"/a\|\*\*protected\*\*\|b/",
        "html": r"/\`c\`\<img\>/",
    }
    for name, path in escaped.items():
        assert rows[name].startswith(f"| {name} | {path} | **exposed** | yes | no | no policy denies"), rows[name]
        assert rows[name].replace("\\|", "").count("|") == 7
    assert "\x1b]8;" not in table.stdout and "[/link]" in table.stdout and "/[/]/" in table.stdout
    users = {u["user"]: u for u in json.loads(as_json.stdout)["users"]}
    assert {name: users[name]["path"] for name in HOSTILE_PATHS} == HOSTILE_PATHS


def test_a_password_given_after_the_credential_report_is_found(localstack: str) -> None:
    """IAM hands out a report up to four hours old: a user it shows without a password is asked directly
    (GetLoginProfile), unless --no-verify-passwords; the report's generation time is in the JSON."""
    iam = client(localstack, "iam", STALE_ACCOUNT)
    for name in ("keys-then-password", "keys-only"):
        iam.create_user(UserName=name)
        iam.create_access_key(UserName=name)
    iam.create_login_profile(UserName="keys-then-password", Password=PASSWORD)

    def stale(parsed: dict[str, Any], **_: Any) -> None:
        """The report as it was before the password: every user, no password."""
        header = "user,arn,user_creation_time,password_enabled,password_last_changed,mfa_active,access_key_1_active"
        rows = [
            f"{name},arn:aws:iam::{STALE_ACCOUNT}:user/{name},2026-01-01T00:00:00+00:00,false,N/A,false,true"
            for name in ("keys-then-password", "keys-only")
        ]
        parsed["Content"] = "\n".join([header, *rows]).encode()

    for verify in (True, False):
        session = account_session(STALE_ACCOUNT)
        session.events.register("after-call.iam.GetCredentialReport", stale)
        report = audit.audit_account(session, endpoint_url=localstack, verify_passwords=verify)
        assert report.status == "ok", report.error
        users = {u.user: u for u in report.users}
        expected = "exposed" if verify else "keys-only"
        assert users["keys-then-password"].class_ == expected and users["keys-only"].class_ == "keys-only"
        assert report.api_calls.get("iam:GetLoginProfile", 0) == (2 if verify else 0)
        if verify:
            assert any("IAM reuses a report" in n for n in users["keys-then-password"].notes)
    document = json.loads(audit.render_json([report], False))
    assert document["accounts"][0]["credential_report_generated"]
