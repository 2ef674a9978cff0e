"""`mfa-required audit --role-arn ... --accounts ...` against three LocalStack accounts.

LocalStack serves several accounts at once: the account follows a 12-digit access key ID, and sts:AssumeRole into
another account returns credentials of that account (its STS provider takes the account from the role ARN and
does not check that the role exists or trusts the caller). So "a role that cannot be assumed" cannot happen there:
the failing account is simulated with a botocore event hook on the caller's session that answers its AssumeRole
with the AccessDenied error AWS returns when the role's trust policy does not allow the caller.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.awsrequest import AWSResponse

from harness.cli import aws_env, run_in_process
from harness.iam import trusting_account
from harness.localstack import account_session
from harness.readme import seed_document
from mfa_required import audit

XDIST_GROUP = "audit-accounts"
DATA = Path(__file__).parents[1] / "data"
ACCOUNTS: dict[str, list[dict[str, Any]]] = yaml.safe_load((DATA / "audit" / "accounts.yaml").read_text())
MANAGEMENT = "210000000100"
UNASSUMABLE = "210000000019"
ROLE = "OrganizationAccountAccessRole"
TEMPLATE = "arn:aws:iam::{account}:role/" + ROLE
PASSWORD = "Correct-Horse-Battery-9"
TRUST = trusting_account(MANAGEMENT)


def seed_member(iam: Any, account: str, users: list[dict[str, Any]]) -> None:
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST)
    guard = seed_document(account)
    arn = iam.create_policy(PolicyName="seed-mfa", PolicyDocument=guard)["Policy"]["Arn"]
    iam.create_group(GroupName="mfa-users")
    iam.attach_group_policy(GroupName="mfa-users", PolicyArn=arn)
    for user in users:
        name = user["user"]
        iam.create_user(UserName=name)
        if user.get("keys_only"):
            iam.create_access_key(UserName=name)
        else:
            iam.create_login_profile(UserName=name, Password=PASSWORD)
        if user.get("group"):
            iam.add_user_to_group(GroupName=user["group"], UserName=name)
        if user.get("mfa"):
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]["SerialNumber"]
            iam.enable_mfa_device(
                UserName=name, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
            )


@pytest.fixture(scope="module")
def members(localstack: str) -> dict[str, list[dict[str, Any]]]:
    for account, users in ACCOUNTS.items():
        seed_member(account_session(account).client("iam", endpoint_url=localstack), account, users)
    return ACCOUNTS


def refuse_assume_role(session: boto3.Session, account: str) -> None:
    """Answer AssumeRole into `account` as AWS does when the role's trust policy does not allow the caller."""

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["role_arn"] = params.get("RoleArn", "")

    def deny(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if f"::{account}:" not in context.get("role_arn", ""):
            return None
        error = {
            "Code": "AccessDenied",
            "Message": f"User: arn:aws:iam::{MANAGEMENT}:user/auditor is not authorized to perform: "
            f"sts:AssumeRole on resource: {context['role_arn']}",
        }
        return AWSResponse("https://sts.amazonaws.com/", 403, {}, None), {"Error": error, "ResponseMetadata": {}}

    session.events.register("provide-client-params.sts.AssumeRole", remember)
    session.events.register("before-call.sts.AssumeRole", deny)


def expected_counts(users: list[dict[str, Any]]) -> dict[str, int]:
    return {c: sum(1 for u in users if u["class"] == c) for c in audit.CLASSES}


def test_three_accounts_through_the_command_line(localstack: str, members: dict[str, Any]) -> None:
    arguments = ["audit", "--endpoint-url", localstack, "--format", "json"]
    arguments += ["--role-arn", TEMPLATE, "--accounts", ",".join(members), "--concurrency", "3"]
    done = run_in_process(arguments, aws_env(MANAGEMENT))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["mode"] == "accounts"
    assert [a["account"] for a in report["accounts"]] == list(members)
    for account in report["accounts"]:
        assert account["status"] == "ok", account
        assert account["counts"] == expected_counts(members[account["account"]])
        assert account["api_calls_by_operation"]["sts:AssumeRole"] == 1
    got = {(u["account"], u["user"]): u["class"] for u in report["users"]}
    assert got == {(a, u["user"]): u["class"] for a, users in members.items() for u in users}
    assert report["totals"] == expected_counts([u for users in members.values() for u in users])
    # and nothing was read from the management account itself
    assert all(u["account"] in members for u in report["users"])


def test_an_account_whose_role_cannot_be_assumed_is_reported_and_fails_the_run(
    localstack: str, members: dict[str, Any], tmp_path: Path
) -> None:
    listing = tmp_path / "accounts.txt"
    listing.write_text("\n".join([*members, UNASSUMABLE]) + "\n")
    session = account_session(MANAGEMENT)
    refuse_assume_role(session, UNASSUMABLE)
    options = audit.Options(
        endpoint_url=localstack, fmt="markdown", fail_on="exposed", role_arn=TEMPLATE, accounts=f"@{listing}"
    )
    reports, multi = audit.run(options, session=session)
    assert multi
    by_account = {r.account: r for r in reports}
    failed = by_account[UNASSUMABLE]
    assert failed.status == "error" and failed.users == []
    assert failed.error is not None
    assert f"cannot assume arn:aws:iam::{UNASSUMABLE}:role/{ROLE}" in failed.error and "access denied" in failed.error
    for account, users in members.items():  # the others still report
        assert by_account[account].status == "ok"
        assert by_account[account].counts == expected_counts(users)
    assert audit.exit_status(reports, "exposed") == 1
    assert audit.exit_status(reports, "never") == 0
    healthy = [r for r in reports if r.status == "ok" and not any(u.class_ == "exposed" for u in r.users)]
    assert audit.exit_status(healthy, "exposed") == 0  # it is the failed account that fails the run
    document = json.loads(audit.render_json(reports, multi))
    assert {a["account"]: a["status"] for a in document["accounts"]}[UNASSUMABLE] == "error"
    markdown = audit.render_markdown(reports, multi)
    assert f"| {UNASSUMABLE} | **error**: cannot assume" in markdown


def test_member_roles_as_security_teams_run_them(localstack: str, members: dict[str, Any]) -> None:
    """--external-id, --session-name and --duration reach every AssumeRole; with --mfa-serial and --token-code the
    roles are assumed from one GetSessionToken session with MFA (one code for every account)."""
    accounts = ",".join(members)
    sent: dict[str, list[dict[str, Any]]] = {"AssumeRole": [], "GetSessionToken": []}

    def remember(params: dict[str, Any], model: Any, **_: Any) -> None:
        sent[model.name].append(dict(params))

    session = account_session(MANAGEMENT)
    session.events.register("before-parameter-build.sts.AssumeRole", remember)
    session.events.register("before-parameter-build.sts.GetSessionToken", remember)
    options = audit.Options(
        endpoint_url=localstack,
        role_arn=TEMPLATE,
        accounts=accounts,
        external_id="audit-7f3c",
        session_name="nightly-audit",
        duration=3600,
    )
    reports, _ = audit.run(options, session=session)
    assert all(r.status == "ok" for r in reports), [r.error for r in reports]
    assert {(p["ExternalId"], p["RoleSessionName"], p["DurationSeconds"]) for p in sent["AssumeRole"]} == {
        ("audit-7f3c", "nightly-audit", 3600)
    }
    assert len(sent["AssumeRole"]) == len(members)

    prompted: list[str] = []
    mfa = audit.Options(
        endpoint_url=localstack,
        role_arn=TEMPLATE,
        accounts=accounts,
        mfa_serial=f"arn:aws:iam::{MANAGEMENT}:mfa/auditor",
    )

    def prompt(text: str) -> str:
        prompted.append(text)
        return "123456"

    reports, _ = audit.run(mfa, session=session, prompt=prompt)
    assert all(r.status == "ok" for r in reports), [r.error for r in reports]
    assert prompted == [f"MFA code for arn:aws:iam::{MANAGEMENT}:mfa/auditor: "]
    assert [(p["SerialNumber"], p["TokenCode"]) for p in sent["GetSessionToken"]] == [
        (f"arn:aws:iam::{MANAGEMENT}:mfa/auditor", "123456")
    ]
    with pytest.raises(audit.AuditError, match="--token-code"):
        audit.run(mfa, session=session)  # no terminal to ask
