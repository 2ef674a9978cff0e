"""`mfa-required audit --organization` on the emulators: Organizations on moto's server, IAM on LocalStack.

moto serves one account, 123456789012, which is the management account of the organization created here; the
member accounts it creates get random IDs, and LocalStack serves IAM in any 12-digit account. The organization:
an OU `workloads` with the SCP guard of modules/scp attached (tests/data/scp/default.json, which
tests/test_scp_module.py proves the module renders, minified as the module sends it), a member account in the OU
and another left at the root. The audit reaches Organizations through botocore's service-specific endpoint
(AWS_ENDPOINT_URL_ORGANIZATIONS) and IAM through --endpoint-url, as a user with LocalStack and another emulator
would. Any 5xx answer in moto's log fails the test.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from harness.cli import aws_env, run_in_process
from harness.iam import trusting_account
from harness.localstack import account_session
from harness.moto import MotoServer, moto_server, organizations_client
from mfa_required import audit

XDIST_GROUP = "audit-organization"
SCP = Path(__file__).parents[1] / "data" / "scp" / "default.json"
MANAGEMENT = "123456789012"  # moto's account: the organization's management account
ROLE = "OrganizationAccountAccessRole"
TEMPLATE = "arn:aws:iam::{account}:role/" + ROLE
PASSWORD = "Correct-Horse-Battery-9"
TRUST = trusting_account(MANAGEMENT)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


def create_account(client: Any, name: str) -> str:
    status = client.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
    return str(
        client.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    )


def seed_users(iam: Any) -> None:
    """ana: a console password, no MFA, no identity policy at all; bo: the same with an MFA device."""
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=TRUST)
    for name in ("ana", "bo"):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password=PASSWORD)
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="bo")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="bo", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )


@pytest.fixture(scope="module")
def organization(moto: MotoServer, localstack: str) -> dict[str, str]:
    client = organizations_client(moto.endpoint)
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    ou = client.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    member, sandbox = create_account(client, "member"), create_account(client, "sandbox")
    client.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    content = json.dumps(json.loads(SCP.read_text()), separators=(",", ":"))
    policy = client.create_policy(
        Content=content, Description="MFA guard", Name="require-mfa", Type="SERVICE_CONTROL_POLICY"
    )["Policy"]["PolicySummary"]["Id"]
    client.attach_policy(PolicyId=policy, TargetId=ou)
    for account in (member, sandbox):
        seed_users(account_session(account).client("iam", endpoint_url=localstack))
    return {"root": root, "ou": ou, "member": member, "sandbox": sandbox, "policy": policy}


def run_cli(localstack: str, organizations: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = aws_env(MANAGEMENT, AWS_ENDPOINT_URL_ORGANIZATIONS=organizations)
    return run_in_process(["audit", "--endpoint-url", localstack, *arguments], env)


def classes(report: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(u["account"], u["user"]): u["class"] for u in report["users"] if u["user"] in ("ana", "bo")}


def test_the_scp_guard_protects_the_users_of_the_ou_and_is_named(
    localstack: str, moto: MotoServer, organization: dict[str, str]
) -> None:
    member, sandbox = organization["member"], organization["sandbox"]
    accounts = ",".join((member, sandbox, MANAGEMENT))
    done = run_cli(
        localstack, moto.endpoint, "--format", "json", "--role-arn", TEMPLATE, "--accounts", accounts, "--organization"
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    found = classes(report)
    assert found[member, "ana"] == "must-enrol"
    assert found[member, "bo"] == "protected"
    assert found[sandbox, "ana"] == "exposed", "the account at the root is not under the guard"
    assert found[sandbox, "bo"] == "mfa-optional"

    label = f"SCP require-mfa ({organization['policy']}, attached to OU {organization['ou']})"
    for user in report["users"]:
        if user["account"] == member:
            assert user["covering_scps"] == [label] == user["covering_policies"]
            assert label in " ".join(user["reasons"])
    by_account = {a["account"]: a for a in report["accounts"]}
    levels = by_account[member]["scps"]
    assert [(level["type"], level["target"]) for level in levels] == [
        ("ROOT", organization["root"]),
        ("ORGANIZATIONAL_UNIT", organization["ou"]),
        ("ACCOUNT", member),
    ]
    assert [p["name"] for p in levels[1]["policies"]] == ["FullAWSAccess", "require-mfa"]
    assert by_account[sandbox]["scps"][0]["target"] == organization["root"]
    calls = by_account[member]["api_calls_by_operation"]
    assert {op for op in calls if op.startswith("organizations:")} <= set(audit.ORGANIZATION_ACTIONS)
    assert calls["organizations:ListParents"] == 2  # the account's parent (the OU), the OU's (the root)

    management = by_account[MANAGEMENT]
    assert management["status"] == "ok" and management["scps"] is None
    assert any("management account" in w for w in management["warnings"])
    # The management account has no users: no credential report is generated for it (nothing to read from one).
    assert not any(u["account"] == MANAGEMENT for u in report["users"])
    assert "iam:GenerateCredentialReport" not in management["api_calls_by_operation"]
    assert calls["iam:GenerateCredentialReport"] >= 1
    assert moto.server_errors() == []


def test_without_organization_the_same_user_is_exposed(
    localstack: str, moto: MotoServer, organization: dict[str, str]
) -> None:
    member = organization["member"]
    done = run_cli(localstack, moto.endpoint, "--format", "json", "--role-arn", TEMPLATE, "--accounts", member)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert classes(report) == {(member, "ana"): "exposed", (member, "bo"): "mfa-optional"}
    assert report["accounts"][0]["scps"] is None
    assert not any(op.startswith("organizations:") for op in report["accounts"][0]["api_calls_by_operation"])


def test_a_caller_outside_any_organization_gets_one_sentence(localstack: str, tmp_path: Path) -> None:
    with moto_server(tmp_path / "moto-without-organization") as empty:
        done = run_cli(localstack, empty.endpoint, "--format", "json", "--organization")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "not in an organization" in done.stderr, done.stderr


def test_access_denied_on_one_target_fails_that_account_only(
    localstack: str, moto: MotoServer, organization: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto does not enforce IAM: the caller's session answers ListPoliciesForTarget on the OU as AWS does when an
    SCP or the caller's policies refuse it (a botocore event hook on the caller's session)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_ORGANIZATIONS", moto.endpoint)
    caller = boto3.Session(aws_access_key_id=MANAGEMENT, aws_secret_access_key="test", region_name="us-east-1")

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["target"] = params.get("TargetId", "")

    def deny(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if context.get("target") != organization["ou"]:
            return None
        error = {"Code": "AccessDeniedException", "Message": "You don't have permissions to access this resource."}
        return AWSResponse("https://organizations.us-east-1.amazonaws.com/", 400, {}, None), {
            "Error": error,
            "ResponseMetadata": {},
        }

    caller.events.register("provide-client-params.organizations.ListPoliciesForTarget", remember)
    caller.events.register("before-call.organizations.ListPoliciesForTarget", deny)
    options = audit.Options(
        endpoint_url=localstack,
        role_arn=TEMPLATE,
        accounts=f"{organization['member']},{organization['sandbox']}",
        organization=True,
    )
    reports, multi = audit.run(options, session=caller)
    assert multi
    member, sandbox = reports
    assert member.status == "error" and member.error is not None
    assert "access denied calling organizations:ListPoliciesForTarget" in member.error
    assert "\n" not in member.error
    assert sandbox.status == "ok" and sandbox.scps is not None
