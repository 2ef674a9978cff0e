"""`mfa-required audit`: which IAM users of an account a policy requiring MFA protects, who must still enrol, who is
left exposed — judged by what their policies decide (the project's evaluator), not by a policy's name.

Reading costs O(1) API pages per account, not O(users): ``GetAccountAuthorizationDetails`` (users, groups,
memberships, inline policies and customer managed policies with their documents; paginated) and the credential
report (``GenerateCredentialReport`` until COMPLETE, then ``GetCredentialReport``). Per-object calls happen only
where those cannot answer: the document of an attached AWS managed policy (``GetPolicy``/``GetPolicyVersion``,
once per policy) and the sign-in facts of a user created after the report (IAM regenerates a report at most every
four hours: ``GetLoginProfile``, ``ListMFADevices``, ``ListAccessKeys``).

Each user's identity policies (managed and inline, direct and through groups) are evaluated beside ``Allow *``
(the question is what the guard takes away, whatever else the user has) for a few probe requests and personas
(personas.py): a session without MFA calling non-exempt actions and ``iam:CreateAccessKey`` on another user, the
same with MFA, a long-term access key. Every probe is asked twice: with ``aws:ViaAWSService`` "false" and with it
absent (AWS does not send it for some services): a guard that stops denying when that key is missing fails open.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Any

from mfa_required.evaluator import PolicyError, PolicySet, Request, Result
from mfa_required.matrix import ALLOW_ALL, CAROLS, NONE, OWN, Row
from mfa_required.personas import ALICE, CAROL, PERSONAS, Persona, User

__all__ = [
    "CLASSES",
    "REQUIRED_ACTIONS",
    "AccountFacts",
    "AccountReport",
    "AuditError",
    "Guard",
    "PolicyRef",
    "UserFacts",
    "UserReport",
    "audit_account",
    "audit_accounts",
    "classify",
    "exit_status",
    "judge_account",
    "judge_guard",
    "least_privilege_policy",
    "parse_accounts",
    "read_account",
    "render",
]

CLASSES = {
    "protected": "console password, a session without MFA is denied, MFA enrolled",
    "must-enrol": "console password, a session without MFA is denied, no MFA device yet: sent to enrol at next sign-in",
    "exposed": "console password and a session without MFA is NOT denied: no MFA requirement covers this user",
    "mfa-optional": "MFA enrolled, but nothing requires it: the user could remove the device and keep working",
    "keys-only": "no console password: access keys only",
}
FAIL_ON = {
    "exposed": frozenset({"exposed"}),
    "unenrolled": frozenset({"exposed", "must-enrol"}),
    "never": frozenset(),
}
# Every call the audit can make; least_privilege_policy() grants exactly these (README: "Auditing an account").
REQUIRED_ACTIONS = (
    "iam:GenerateCredentialReport",
    "iam:GetAccountAuthorizationDetails",
    "iam:GetCredentialReport",
    "iam:GetLoginProfile",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListAccessKeys",
    "iam:ListMFADevices",
)
POLICY_RESOURCE = "audit-policy.json"
DEFAULT_PAGE_SIZE = 1000  # GetAccountAuthorizationDetails' largest MaxItems
DEFAULT_REPORT_TIMEOUT = 60.0
UNUSED_KEY_DAYS = 90
FALLBACK_WORKERS = 8
ACCOUNT_ID = re.compile(r"\d{12}")
ACCOUNT_PLACEHOLDER = "{account}"


class AuditError(Exception):
    """The account could not be audited; the message says why and what to do."""


# --- facts read from the account -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyRef:
    """One identity policy that applies to a user, and how it gets there."""

    name: str
    kind: str  # "managed" | "inline"
    via: str  # "user" or the group's name
    arn: str | None = None  # managed policies
    document: Mapping[str, Any] | None = None
    error: str | None = None  # the document could not be read or parsed

    @property
    def label(self) -> str:
        where = "attached to the user" if self.via == "user" else f"via group {self.via}"
        kind = "managed" if self.kind == "managed" else "inline"
        return f"{self.name} ({kind}, {where})"


@dataclass(frozen=True)
class AccessKey:
    number: int  # 1 or 2: the credential report's access_key_1 / access_key_2
    active: bool
    last_used: datetime | None
    created: datetime | None


@dataclass
class UserFacts:
    name: str
    path: str
    arn: str
    user_id: str
    groups: tuple[str, ...] = ()
    policies: list[PolicyRef] = field(default_factory=list)
    console_password: bool | None = None  # None: unknown
    mfa_active: bool | None = None
    access_keys: list[AccessKey] = field(default_factory=list)
    permissions_boundary: str | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class AccountFacts:
    account: str
    partition: str
    users: list[UserFacts]
    groups: dict[str, list[PolicyRef]]  # group name -> its policies
    managed_guards: dict[str, PolicyRef]  # customer managed policies by ARN (candidates for a fix)
    report_generated: datetime | None = None
    warnings: list[str] = field(default_factory=list)
    api_calls: Counter[str] = field(default_factory=Counter)
    pages: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds by step


def decode_policy_document(raw: object) -> dict[str, Any]:
    """A policy document as IAM or a client gives it: a dict (boto3 decodes), JSON text, or URL-encoded JSON text."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if not isinstance(raw, str):
        raise PolicyError(f"policy document is a {type(raw).__name__}, not JSON")
    text = raw.strip()
    if not text.startswith("{"):
        text = urllib.parse.unquote(text)  # IAM's wire form: urlencode(json)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise PolicyError(f"policy document is not valid JSON: {e}") from None
    if not isinstance(document, dict):
        raise PolicyError("policy document is not a JSON object")
    return document


# --- the API -------------------------------------------------------------------------------------------------------


class _Calls:
    """Counts API calls by operation (botocore's before-call event: once per call, retries not counted again)."""

    def __init__(self, counter: Counter[str]) -> None:
        self.counter = counter
        self.lock = threading.Lock()

    def __call__(self, model: Any, **kwargs: Any) -> None:
        prefix = model.service_model.endpoint_prefix
        with self.lock:
            self.counter[f"{prefix}:{model.name}"] += 1


def _config(service: str = "iam") -> Any:
    from botocore.config import Config

    # "adaptive": standard retries (throttling, transient errors, with exponential backoff and jitter) plus a
    # client-side rate limiter that slows down when IAM throttles. STS is called first and once per account:
    # fewer attempts, so that an unreachable endpoint is reported in seconds.
    return Config(
        retries={"mode": "adaptive", "max_attempts": 10 if service == "iam" else 4},
        connect_timeout=10,
        read_timeout=60,
        user_agent_extra="mfa-required-audit",
    )


def _clients(session: Any, endpoint_url: str | None, counter: Counter[str]) -> tuple[Any, Any]:
    calls = _Calls(counter)
    out = []
    for service in ("iam", "sts"):
        client = session.client(service, endpoint_url=endpoint_url, config=_config(service))
        client.meta.events.register("before-call", calls)
        out.append(client)
    return out[0], out[1]


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}
THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}


def explain(error: Exception, operation: str, endpoint_url: str | None = None) -> str:
    """A sentence for an error from boto3, naming what to do; never a traceback."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return (
            "no AWS credentials found: set a profile (--profile or AWS_PROFILE), or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run where an instance/container role provides them"
        )
    if isinstance(error, ProfileNotFound):
        return f"{error}: check --profile / AWS_PROFILE against your AWS config file"
    if isinstance(error, NoRegionError):
        return "no AWS region: pass --region or set AWS_REGION"
    if isinstance(error, EndpointConnectionError):
        where = endpoint_url or "the AWS endpoint"
        return f"cannot reach {where} ({error}): check --endpoint-url and the network"
    if isinstance(error, ClientError):
        code = _error_code(error)
        message = error.response.get("Error", {}).get("Message", "")
        if code in ACCESS_DENIED:
            return (
                f"access denied calling {operation} ({message}). The audit needs {', '.join(REQUIRED_ACTIONS)} "
                "(the least-privilege policy: `mfa-required audit --print-policy`)"
            )
        if code in THROTTLED:
            return f"{operation} was throttled and retries ran out ({message}): run again later or lower --concurrency"
        if code in ("InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException"):
            return f"the credentials were rejected calling {operation} ({code}: {message})"
        return f"{operation} failed: {code}: {message}"
    return f"{operation} failed: {type(error).__name__}: {error}"


_AWS_MANAGED_CACHE: dict[str, dict[str, Any]] = {}  # ARN -> document; AWS managed policies are the same everywhere
_AWS_MANAGED_LOCK = threading.Lock()


def _aws_managed_document(iam: Any, arn: str) -> dict[str, Any]:
    with _AWS_MANAGED_LOCK:
        cached = _AWS_MANAGED_CACHE.get(arn)
    if cached is None:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        raw = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
        cached = decode_policy_document(raw)
        with _AWS_MANAGED_LOCK:
            _AWS_MANAGED_CACHE[arn] = cached
    return cached


def _default_document(policy: Mapping[str, Any]) -> Any:
    for version in policy.get("PolicyVersionList", []):
        if version.get("IsDefaultVersion") or version.get("VersionId") == policy.get("DefaultVersionId"):
            return version.get("Document")
    return None


def _parse_time(value: str) -> datetime | None:
    if not value or value in ("N/A", "no_information", "not_supported"):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _report_flag(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value)


def _credential_report(iam: Any, timeout: float, sleep: Callable[[float], None]) -> tuple[str, datetime | None]:
    """The report's CSV text, generating one if needed; AuditError when it is not ready within `timeout`."""
    from botocore.exceptions import ClientError

    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        state = iam.generate_credential_report().get("State")
        if state == "COMPLETE":
            try:
                report = iam.get_credential_report()
            except ClientError as e:  # expired or regenerated between the two calls: ask again
                if _error_code(e) not in ("ReportInProgress", "ReportExpired", "ReportNotPresent"):
                    raise
            else:
                content = report["Content"]
                text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
                generated = report.get("GeneratedTime")
                return text, generated if isinstance(generated, datetime) else None
        if time.monotonic() + delay > deadline:
            raise AuditError(f"the credential report was still generating after {timeout:.0f} s")
        sleep(delay)
        delay = min(delay * 2, 5.0)


def _apply_report(users: dict[str, UserFacts], text: str) -> set[str]:
    """Fill sign-in facts from the report's rows; the names of the users it has."""
    seen = set()
    for row in csv.DictReader(io.StringIO(text)):
        user = users.get(row.get("user", ""))
        if user is None or (row.get("arn") and row["arn"] != user.arn):
            continue  # the root account, or a user deleted (or re-created) since the report
        seen.add(user.name)
        user.console_password = _report_flag(row.get("password_enabled", ""))
        user.mfa_active = _report_flag(row.get("mfa_active", ""))
        for number in (1, 2):
            prefix = f"access_key_{number}_"
            if _report_flag(row.get(prefix + "active", "")) is None:
                continue
            key_active = row[prefix + "active"] == "true"
            last_rotated = _parse_time(row.get(prefix + "last_rotated", ""))
            if key_active or last_rotated:
                last_used = _parse_time(row.get(prefix + "last_used_date", ""))
                user.access_keys.append(AccessKey(number, key_active, last_used, last_rotated))
    return seen


def _read_user_directly(iam: Any, user: UserFacts) -> bool:
    """Sign-in facts of one user by per-user calls; False if the user no longer exists. MFA devices are read only
    for a user with a console password: without one, MFA does not change the class (keys-only)."""
    from botocore.exceptions import ClientError

    try:
        keys = iam.list_access_keys(UserName=user.name)["AccessKeyMetadata"]
    except ClientError as e:
        if _error_code(e) == "NoSuchEntity":
            return False
        raise
    for number, key in enumerate(keys, 1):
        created = key.get("CreateDate")
        user.access_keys.append(
            AccessKey(number, key.get("Status") == "Active", None, created if isinstance(created, datetime) else None)
        )
    try:
        iam.get_login_profile(UserName=user.name)
        user.console_password = True
    except ClientError as e:
        if _error_code(e) != "NoSuchEntity":
            raise
        user.console_password = False
        return True
    try:
        user.mfa_active = bool(iam.list_mfa_devices(UserName=user.name)["MFADevices"])
    except ClientError as e:
        if _error_code(e) == "NoSuchEntity":
            return False
        raise
    return True


def _policy_refs(
    owner: str, attached: Iterable[Mapping[str, Any]], inline: Iterable[Mapping[str, Any]], managed: Mapping[str, Any]
) -> list[PolicyRef]:
    refs = []
    for policy in attached:
        arn = policy["PolicyArn"]
        document = managed.get(arn)
        if isinstance(document, Mapping):
            refs.append(PolicyRef(policy["PolicyName"], "managed", owner, arn, document))
        else:
            refs.append(PolicyRef(policy["PolicyName"], "managed", owner, arn, None, str(document)))
    for policy in inline:
        try:
            refs.append(
                PolicyRef(policy["PolicyName"], "inline", owner, None, decode_policy_document(policy["PolicyDocument"]))
            )
        except PolicyError as e:
            refs.append(PolicyRef(policy["PolicyName"], "inline", owner, None, None, str(e)))
    return refs


def read_account(
    session: Any,
    *,
    endpoint_url: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    report_timeout: float = DEFAULT_REPORT_TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
) -> AccountFacts:
    """Everything the judgement needs from one account, in O(1) pages; raises botocore errors and AuditError."""
    from botocore.exceptions import ClientError

    calls: Counter[str] = Counter()
    started = time.perf_counter()
    iam, sts = _clients(session, endpoint_url, calls)
    identity = sts.get_caller_identity()  # needs no permission: checks credentials and endpoint first
    account = identity["Account"]
    partition = identity["Arn"].split(":")[1]

    raw_users: list[dict[str, Any]] = []
    raw_groups: list[dict[str, Any]] = []
    raw_policies: list[dict[str, Any]] = []
    pages = 0
    paginator = iam.get_paginator("get_account_authorization_details")
    # AWS managed policies are left out of the listing (every one of them, in some implementations): the few that
    # users or groups have attached are read one by one below.
    for page in paginator.paginate(
        Filter=["User", "Group", "LocalManagedPolicy"], PaginationConfig={"PageSize": page_size}
    ):
        pages += 1
        raw_users += page.get("UserDetailList", [])
        raw_groups += page.get("GroupDetailList", [])
        raw_policies += page.get("Policies", [])

    warnings: list[str] = []
    managed: dict[str, Any] = {}
    for policy in raw_policies:
        try:
            managed[policy["Arn"]] = decode_policy_document(_default_document(policy))
        except PolicyError as e:
            managed[policy["Arn"]] = f"document of {policy['PolicyName']} could not be read: {e}"
    attached_arns = {
        p["PolicyArn"]
        for entity in raw_users + raw_groups
        for p in entity.get("AttachedManagedPolicies", [])
        if p["PolicyArn"] not in managed
    }
    for arn in sorted(attached_arns):
        try:
            managed[arn] = _aws_managed_document(iam, arn)
        except PolicyError as e:
            managed[arn] = f"document of {arn} could not be read: {e}"
        except Exception as e:  # noqa: BLE001 - deleted since the listing, or not allowed: that policy only
            managed[arn] = f"document of {arn} could not be read: {explain(e, 'iam:GetPolicy')}"

    groups = {
        g["GroupName"]: _policy_refs(
            g["GroupName"], g.get("AttachedManagedPolicies", []), g.get("GroupPolicyList", []), managed
        )
        for g in raw_groups
    }
    users: dict[str, UserFacts] = {}
    for u in raw_users:
        user = UserFacts(
            u["UserName"],
            u.get("Path", "/"),
            u["Arn"],
            u.get("UserId", ""),
            tuple(sorted(u.get("GroupList", []))),
            _policy_refs("user", u.get("AttachedManagedPolicies", []), u.get("UserPolicyList", []), managed),
        )
        if boundary := u.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn"):
            user.permissions_boundary = boundary
        for group in user.groups:
            if group in groups:
                user.policies += groups[group]
            else:  # a group deleted between pages
                user.errors.append(f"group {group} was not in the listing: its policies are not judged")
        users[user.name] = user

    generated = None
    in_report: set[str] = set()
    try:
        text, generated = _credential_report(iam, report_timeout, sleep)
        in_report = _apply_report(users, text)
    except AuditError as e:
        warnings.append(f"{e}: sign-in facts were read user by user instead")
    except ClientError as e:
        if _error_code(e) in ACCESS_DENIED:
            raise
        warnings.append(f"{explain(e, 'iam:GenerateCredentialReport')}: sign-in facts were read user by user instead")
    read_account_seconds = time.perf_counter() - started
    missing = [users[name] for name in users if name not in in_report]
    if in_report:
        when = f" (generated {generated:%Y-%m-%d %H:%M} UTC)" if generated else ""
        for user in missing:
            user.notes.append(
                f"not in the credential report{when}, which IAM refreshes at most every 4 hours: "
                "sign-in facts read directly"
            )
    # Independent per-user reads: a few at a time (botocore clients are thread-safe; adaptive retries pace them).
    with ThreadPoolExecutor(max_workers=FALLBACK_WORKERS, thread_name_prefix="audit-user") as pool:
        exists = list(pool.map(lambda u: _read_user_directly(iam, u), missing))
    for user, found in zip(missing, exists, strict=True):
        if not found:
            warnings.append(f"user {user.name} was deleted during the audit: left out")
            del users[user.name]

    managed_refs = {
        p["Arn"]: PolicyRef(p["PolicyName"], "managed", "user", p["Arn"], managed[p["Arn"]])
        for p in raw_policies
        if isinstance(managed.get(p["Arn"]), Mapping)
    }
    timings = {
        "account_reads": read_account_seconds,
        "per_user_reads": time.perf_counter() - started - read_account_seconds,
    }
    return AccountFacts(
        account,
        partition,
        sorted(users.values(), key=lambda u: (u.path, u.name)),
        groups,
        managed_refs,
        generated,
        warnings,
        calls,
        pages,
        timings,
    )


# --- the judgement -------------------------------------------------------------------------------------------------

_PERSONAS = {p.key: p for p in PERSONAS}
CONSOLE, CONSOLE_MFA, ACCESS_KEY = _PERSONAS["console"], _PERSONAS["console-mfa"], _PERSONAS["access-key"]
VIA_SERVICE_KEY = "aws:ViaAWSService"
# Each probe context comes in both forms AWS sends: aws:ViaAWSService "false", and aws:ViaAWSService absent.
VARIANTS = ("aws:ViaAWSService false", "aws:ViaAWSService absent")
PROBE_ROWS = (
    Row("probe", "s3:GetObject", NONE),
    Row("probe", "ec2:DescribeInstances", NONE),
    Row("probe", "ec2:RunInstances", NONE, kind=":instance/"),
    Row("probe", "iam:CreateAccessKey", CAROLS),
)
ENROL_ROWS = (Row("enrol", "iam:CreateVirtualMFADevice", OWN), Row("enrol", "iam:EnableMFADevice", OWN))


def _probe_resource(row: Row, user: User, account: str, partition: str) -> str:
    """The matrix's resource for the row; "another user" is carol, or alice when the audited user is a carol."""
    other = CAROL if user.name != CAROL.name else ALICE
    return row.resource(user, account, partition, other=other)


def probe_context(persona: Persona, user: User, account: str, partition: str, variant: str) -> dict[str, Any]:
    context: dict[str, Any] = dict(persona.context(user, account, partition))
    if variant.endswith("absent"):
        context.pop(VIA_SERVICE_KEY, None)
    return context


@dataclass(frozen=True)
class Guard:
    """What a user's policies (beside Allow *) decide for the probes; policy labels name who decided."""

    denied_without_mfa: bool  # every probe, in every variant, explicitly denied to a session without MFA
    denied_when_key_present: bool  # every probe denied with aws:ViaAWSService "false"
    fails_open: tuple[str, ...]  # policies that deny with the key "false" but not when it is absent
    partly_denied: tuple[str, ...]  # probes a session without MFA may still make (when some others are denied)
    covering: tuple[str, ...]  # policies whose Deny statements decided the no-MFA probes
    denied_with_mfa: tuple[str, ...]  # policies that deny the probes even with MFA (not an MFA requirement)
    keys_affected: bool  # long-term access keys are denied too
    keys_denied_by: tuple[str, ...]
    enrol_denied_by: tuple[str, ...]  # policies that deny a session without MFA enrolling its own device

    @property
    def guarded(self) -> bool:
        return self.denied_without_mfa


def _deny_labels(result: Result, labels: Sequence[str]) -> set[str]:
    return {labels[m.policy_index] for m in result.matched if m.effect == "Deny" and m.policy_index < len(labels)}


def judge_guard(policy_set: PolicySet, labels: Sequence[str], user: User, account: str, partition: str) -> Guard:
    """Evaluate the probes for one user; `policy_set` holds the user's policies and, last, Allow *."""

    resources = {row: _probe_resource(row, user, account, partition) for row in PROBE_ROWS + ENROL_ROWS}
    principal = user.arn(partition, account)

    def ask(persona: Persona, rows: Sequence[Row], variant: str) -> list[tuple[Row, Result]]:
        context = probe_context(persona, user, account, partition, variant)
        return [(row, policy_set.evaluate(Request(row.action, resources[row], context, principal))) for row in rows]

    present, absent = (ask(CONSOLE, PROBE_ROWS, v) for v in VARIANTS)
    denied_present = [r.decision == "ExplicitlyDenied" for _, r in present]
    denied_absent = [r.decision == "ExplicitlyDenied" for _, r in absent]
    covering: set[str] = set()
    for _, result in present + absent:
        covering |= _deny_labels(result, labels)
    fails_open: set[str] = set()
    for (_, with_key), (_, without_key) in zip(present, absent, strict=True):
        fails_open |= _deny_labels(with_key, labels) - _deny_labels(without_key, labels)
    allowed_rows = [
        f"{row.action} ({variant})"
        for variant, answers in zip(VARIANTS, (present, absent), strict=True)
        for row, result in answers
        if result.decision != "ExplicitlyDenied"
    ]
    with_mfa: set[str] = set()
    for variant in VARIANTS:
        for _, result in ask(CONSOLE_MFA, PROBE_ROWS, variant):
            with_mfa |= _deny_labels(result, labels)
    keys_denied: set[str] = set()
    keys_all_denied = True
    for variant in VARIANTS:
        for _, result in ask(ACCESS_KEY, PROBE_ROWS, variant):
            keys_denied |= _deny_labels(result, labels)
            keys_all_denied &= result.decision == "ExplicitlyDenied"
    enrol_denied: set[str] = set()
    for variant in VARIANTS:
        for _, result in ask(CONSOLE, ENROL_ROWS, variant):
            enrol_denied |= _deny_labels(result, labels)
    denied_all = all(denied_present) and all(denied_absent)
    return Guard(
        denied_without_mfa=denied_all,
        denied_when_key_present=all(denied_present),
        fails_open=tuple(sorted(fails_open)),
        partly_denied=tuple(allowed_rows) if any(denied_present + denied_absent) and not denied_all else (),
        covering=tuple(sorted(covering)),
        denied_with_mfa=tuple(sorted(with_mfa)),
        keys_affected=keys_all_denied,
        keys_denied_by=tuple(sorted(keys_denied)),
        enrol_denied_by=tuple(sorted(enrol_denied)),
    )


def classify(console_password: bool, mfa_active: bool, guard: Guard) -> tuple[str, list[str]]:
    """The user's class and the reasons for it, in words (issue 10's definitions)."""
    reasons: list[str] = []
    covered_by = ", ".join(guard.covering)
    if not console_password:
        reasons.append("no console password")
        if guard.keys_affected:
            reasons.append(
                f"long-term access keys are denied without MFA too ({', '.join(guard.keys_denied_by)}): "
                "the user needs an MFA session (sts get-session-token) to work"
            )
        else:
            reasons.append("long-term access keys keep working (the MFA requirement applies to sessions)")
        return "keys-only", reasons
    reasons.append("console password set")
    if guard.guarded:
        reasons.append(f"a session without MFA is denied by {covered_by}")
        if mfa_active:
            return "protected", [*reasons, "MFA device enrolled"]
        return "must-enrol", [*reasons, "no MFA device yet: the console will only let the user set one up"]
    if guard.fails_open:
        reasons.append(
            f"{', '.join(guard.fails_open)} denies a session without MFA only while aws:ViaAWSService is present: "
            "AWS does not send that key for some services, and then the Deny does not apply (it fails open; "
            "BoolIfExists instead of Bool on aws:ViaAWSService fails closed)"
        )
    elif guard.partly_denied:
        reasons.append(
            f"{covered_by} denies only part of what a session without MFA can do; still allowed: "
            + ", ".join(guard.partly_denied)
        )
    else:
        reasons.append("no policy denies a session without MFA")
    if mfa_active:
        return "mfa-optional", [*reasons, "MFA device enrolled, but nothing requires it"]
    return "exposed", [*reasons, "no MFA device"]


# --- reports -------------------------------------------------------------------------------------------------------


@dataclass
class UserReport:
    account: str
    user: str
    path: str
    arn: str
    class_: str
    reasons: list[str]
    covering_policies: list[str]
    fix: str | None
    console_password: bool | None
    mfa_active: bool | None
    groups: list[str]
    access_keys_active: int
    keys_affected: bool
    keys_unused_90_days: list[str]
    notes: list[str]
    errors: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "user": self.user,
            "path": self.path,
            "arn": self.arn,
            "class": self.class_,
            "reasons": self.reasons,
            "covering_policies": self.covering_policies,
            "fix": self.fix,
            "console_password": self.console_password,
            "mfa_active": self.mfa_active,
            "groups": self.groups,
            "access_keys_active": self.access_keys_active,
            "keys_affected": self.keys_affected,
            "keys_unused_90_days": self.keys_unused_90_days,
            "notes": self.notes,
            "errors": self.errors,
        }


@dataclass
class AccountReport:
    account: str
    status: str  # "ok" | "error"
    users: list[UserReport] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds by step: reads, per-user reads, judgement

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(CLASSES, 0)
        for user in self.users:
            counts[user.class_] += 1
        return counts

    def as_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "status": self.status,
            "error": self.error,
            "counts": self.counts,
            "warnings": self.warnings,
            "api_calls": sum(self.api_calls.values()),
            "api_calls_by_operation": self.api_calls,
            "pages": self.pages,
            "seconds": round(self.seconds, 3),
            "seconds_by_step": {k: round(v, 3) for k, v in self.timings.items()},
        }


def _user_of(facts: UserFacts) -> User:
    return User(facts.name, facts.path, facts.user_id or "AIDAUNKNOWN")


def _unused_keys(keys: Sequence[AccessKey], now: datetime) -> list[str]:
    out = []
    limit = now - timedelta(days=UNUSED_KEY_DAYS)
    for key in keys:
        if not key.active:
            continue
        if key.last_used is not None:
            if key.last_used < limit:
                out.append(f"access key {key.number}: last used {key.last_used:%Y-%m-%d}")
        elif key.created is not None and key.created < limit:
            out.append(f"access key {key.number}: never used, created {key.created:%Y-%m-%d}")
    return out


class _Judge:
    """Judges the users of one account; compiled policy sets shared by users with the same policies."""

    def __init__(self, facts: AccountFacts) -> None:
        self.facts = facts
        self.sets: dict[tuple[int, ...], PolicySet] = {}
        self.carriers: list[tuple[str, str]] | None = None

    def policy_set(self, refs: Sequence[PolicyRef]) -> PolicySet:
        key = tuple(id(r.document) for r in refs)
        found = self.sets.get(key)
        if found is None:
            found = PolicySet([*(r.document for r in refs if r.document is not None), ALLOW_ALL])
            self.sets[key] = found
        return found

    def guard(self, refs: Sequence[PolicyRef], user: User) -> Guard:
        usable = [r for r in refs if r.document is not None]
        labels = [r.label for r in usable] + ["Allow *"]
        return judge_guard(self.policy_set(usable), labels, user, self.facts.account, self.facts.partition)

    def guard_carriers(self) -> list[tuple[str, str]]:
        """Groups, then customer managed policies, that by themselves deny a session without MFA (fail-closed)."""
        if self.carriers is None:
            probe = User("mfa-required-probe", "/", "AIDAMFAREQUIREDPROBE0")
            self.carriers = []
            for group, refs in sorted(self.facts.groups.items()):
                try:
                    if refs and self.guard(refs, probe).guarded:
                        self.carriers.append(("group", group))
                except PolicyError:
                    continue
            for ref in sorted(self.facts.managed_guards.values(), key=lambda r: r.name):
                try:
                    if self.guard([ref], probe).guarded:
                        self.carriers.append(("policy", ref.name))
                except PolicyError:
                    continue
        return self.carriers

    def fix(self, user: UserFacts, guard: Guard) -> str:
        carriers = self.guard_carriers()
        groups = [name for kind, name in carriers if kind == "group" and name not in user.groups]
        policies = [name for kind, name in carriers if kind == "policy"]
        prefix = ""
        if guard.fails_open:
            prefix = (
                f"make {', '.join(guard.fails_open)} fail closed (BoolIfExists on aws:ViaAWSService, as the "
                "mfa_required module does), or "
            )
        if groups:
            return f"{prefix}add {user.name} to group {' or '.join(groups)}, which requires MFA"
        if policies:
            return (
                f"{prefix}attach {policies[0]} to {user.name}: with the mfa_required module, add "
                f'"{user.name}" to its `users`'
            )
        return f'{prefix}apply the mfa_required module and add "{user.name}" to its `users` (or to its group)'

    def user(self, facts: UserFacts, now: datetime) -> UserReport:
        errors = list(facts.errors) + [f"{r.label}: {r.error}" for r in facts.policies if r.error]
        notes = list(facts.notes)  # the facts stay as read: judging twice must not add notes twice
        user = _user_of(facts)
        usable = [r for r in facts.policies if r.document is not None]
        try:
            guard = self.guard(usable, user)
        except PolicyError as e:
            # which document: judge each alone, name the ones that fail, and judge the rest
            bad = []
            for ref in usable:
                try:
                    PolicySet([ref.document])  # type: ignore[list-item]
                except PolicyError as one:
                    bad.append(ref)
                    errors.append(f"{ref.label}: not understood by the evaluator: {one}")
            if not bad:
                errors.append(f"the policies could not be evaluated together: {e}")
            usable = [r for r in usable if r not in bad]
            guard = self.guard(usable, user) if bad else self.guard([], user)
        if errors:
            notes.append(
                "judged without the policies listed in errors: they could only deny more, so a user judged "
                "protected stays protected, and one judged exposed may not be"
            )
        password = bool(facts.console_password)
        mfa = bool(facts.mfa_active)
        class_, reasons = classify(password, mfa, guard)
        if facts.console_password is None:
            reasons.append("console password unknown (not in the credential report): judged as none")
        if class_ == "must-enrol" and guard.enrol_denied_by:
            reasons.append(
                f"warning: {', '.join(guard.enrol_denied_by)} also denies enrolling an MFA device without MFA: "
                "the user will be locked out"
            )
        if guard.denied_with_mfa and class_ in ("protected", "must-enrol"):
            reasons.append(
                f"note: {', '.join(guard.denied_with_mfa)} denies the same requests with MFA too: a Deny, "
                "not only an MFA requirement"
            )
        if facts.permissions_boundary:
            notes.append(f"has permissions boundary {facts.permissions_boundary} (not evaluated)")
        fix = self.fix(facts, guard) if class_ in ("exposed", "mfa-optional") else None
        covering = list(guard.covering) if guard.guarded or guard.fails_open else []
        return UserReport(
            account=self.facts.account,
            user=facts.name,
            path=facts.path,
            arn=facts.arn,
            class_=class_,
            reasons=reasons,
            covering_policies=covering,
            fix=fix,
            console_password=facts.console_password,
            mfa_active=facts.mfa_active,
            groups=list(facts.groups),
            access_keys_active=sum(k.active for k in facts.access_keys),
            keys_affected=guard.keys_affected,
            keys_unused_90_days=_unused_keys(facts.access_keys, now),
            notes=notes,
            errors=errors,
        )


def judge_account(facts: AccountFacts, now: datetime | None = None) -> AccountReport:
    now = now or datetime.now(timezone.utc)
    started = time.perf_counter()
    judge = _Judge(facts)
    users = [judge.user(u, now) for u in facts.users]
    timings = {**facts.timings, "judgement": time.perf_counter() - started}
    return AccountReport(
        facts.account, "ok", users, None, facts.warnings, dict(facts.api_calls), facts.pages, timings=timings
    )


def _session(profile: str | None, region: str | None, **credentials: str) -> Any:
    import boto3

    session = boto3.Session(profile_name=profile, region_name=region, **credentials)
    if session.region_name is None:  # neither --region nor the profile/environment name one: IAM is global
        session = boto3.Session(profile_name=profile, region_name="us-east-1", **credentials)
    return session


def audit_account(
    session: Any,
    *,
    account: str | None = None,
    endpoint_url: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    report_timeout: float = DEFAULT_REPORT_TIMEOUT,
) -> AccountReport:
    """Read and judge one account; any failure becomes an AccountReport with status "error" (never raises)."""
    started = time.perf_counter()
    try:
        facts = read_account(session, endpoint_url=endpoint_url, page_size=page_size, report_timeout=report_timeout)
    except AuditError as e:
        return AccountReport(account or "unknown", "error", error=str(e), seconds=time.perf_counter() - started)
    except Exception as e:  # noqa: BLE001 - botocore errors, explained in words
        operation = _operation_of(e)
        return AccountReport(
            account or "unknown",
            "error",
            error=explain(e, operation, endpoint_url),
            seconds=time.perf_counter() - started,
        )
    report = judge_account(facts)
    report.seconds = time.perf_counter() - started
    return report


def _operation_of(error: Exception) -> str:
    name = getattr(error, "operation_name", None)
    prefix = {"GetCallerIdentity": "sts", "AssumeRole": "sts"}.get(str(name), "iam")
    return f"{prefix}:{name}" if name else "the AWS API"


def parse_accounts(value: str, read_file: Callable[[str], str] | None = None) -> list[str]:
    """Account IDs from "111111111111,222222222222" or "@FILE" (one or more per line, # comments)."""
    if value.startswith("@"):
        reader = read_file or (lambda p: open(p, encoding="utf-8").read())  # noqa: SIM115
        try:
            text = reader(value[1:])
        except OSError as e:
            raise AuditError(f"cannot read the accounts file {value[1:]}: {e.strerror or e}") from None
        text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    else:
        text = value
    accounts = [a for a in re.split(r"[\s,]+", text) if a]
    bad = [a for a in accounts if not ACCOUNT_ID.fullmatch(a)]
    if bad:
        raise AuditError(f"not 12-digit account IDs: {', '.join(bad)}")
    if not accounts:
        raise AuditError("--accounts names no account")
    return list(dict.fromkeys(accounts))


def role_arn_for(template: str, account: str) -> str:
    if ACCOUNT_PLACEHOLDER not in template:
        raise AuditError(f"--role-arn must contain {ACCOUNT_PLACEHOLDER}, e.g. arn:aws:iam::{{account}}:role/Audit")
    arn = template.replace(ACCOUNT_PLACEHOLDER, account)
    if not re.fullmatch(r"arn:[\w-]+:iam::\d{12}:role/[\w+=,.@/-]+", arn):
        raise AuditError(f"--role-arn {template!r} does not give a role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)")
    return arn


def audit_accounts(
    base_session: Any,
    role_template: str,
    accounts: Sequence[str],
    *,
    concurrency: int = 4,
    endpoint_url: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    report_timeout: float = DEFAULT_REPORT_TIMEOUT,
    session_name: str = "mfa-required-audit",
) -> list[AccountReport]:
    """Assume the role in each account and audit them on a bounded thread pool; results in the accounts' order."""
    arns = {account: role_arn_for(role_template, account) for account in accounts}
    base_lock = threading.Lock()

    def one(account: str) -> AccountReport:
        started = time.perf_counter()
        calls: Counter[str] = Counter()
        try:
            with base_lock:  # a boto3 Session is not thread-safe: clients are made from it one at a time
                sts = base_session.client("sts", endpoint_url=endpoint_url, config=_config("sts"))
            sts.meta.events.register("before-call", _Calls(calls))
            credentials = sts.assume_role(RoleArn=arns[account], RoleSessionName=session_name)["Credentials"]
        except Exception as e:  # noqa: BLE001
            message = f"cannot assume {arns[account]}: {explain(e, 'sts:AssumeRole', endpoint_url)}"
            return AccountReport(
                account, "error", error=message, api_calls=dict(calls), seconds=time.perf_counter() - started
            )
        session = _session(
            None,
            base_session.region_name,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        report = audit_account(
            session, account=account, endpoint_url=endpoint_url, page_size=page_size, report_timeout=report_timeout
        )
        if report.status == "ok" and report.account != account:
            report.warnings.append(f"the role's credentials belong to account {report.account}, not {account}")
        report.account = account
        for user in report.users:
            user.account = account
        for operation, n in calls.items():
            report.api_calls[operation] = report.api_calls.get(operation, 0) + n
        report.seconds = time.perf_counter() - started
        return report

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="audit") as pool:
        return list(pool.map(one, accounts))


def exit_status(reports: Sequence[AccountReport], fail_on: str) -> int:
    """0, or 1 when --fail-on finds a user of its classes, or an account could not be audited (unless "never")."""
    classes = FAIL_ON[fail_on]
    if fail_on == "never":
        return 0
    if any(r.status != "ok" for r in reports):
        return 1
    return 1 if any(u.class_ in classes for r in reports for u in r.users) else 0


def least_privilege_policy() -> dict[str, Any]:
    text = resources.files("mfa_required").joinpath(POLICY_RESOURCE).read_text(encoding="utf-8")
    return dict(json.loads(text))


# --- rendering -----------------------------------------------------------------------------------------------------

STYLES = {
    "protected": "green",
    "must-enrol": "yellow",
    "exposed": "bold red",
    "mfa-optional": "magenta",
    "keys-only": "cyan",
}


def _totals(reports: Sequence[AccountReport]) -> dict[str, int]:
    totals = dict.fromkeys(CLASSES, 0)
    for report in reports:
        for name, n in report.counts.items():
            totals[name] += n
    return totals


def render_json(reports: Sequence[AccountReport], multi: bool) -> str:
    doc = {
        "schema": "mfa-required-audit/1",
        "mode": "accounts" if multi else "account",
        "classes": CLASSES,
        "totals": _totals(reports),
        "accounts": [r.as_json() for r in reports],
        "users": [u.as_json() for r in reports for u in r.users],
    }
    return json.dumps(doc, indent=2) + "\n"


def _yes_no(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def _why(user: UserReport) -> str:
    if user.class_ in ("protected", "must-enrol"):
        text = "covered by " + ", ".join(user.covering_policies)
    elif user.class_ == "keys-only":
        text = user.reasons[1] if len(user.reasons) > 1 else ""
        if user.keys_unused_90_days:
            text += "; unused 90+ days: " + "; ".join(user.keys_unused_90_days)
    else:
        text = user.reasons[1] if len(user.reasons) > 1 else ""
        if user.fix:
            text += f". Fix: {user.fix}"
    extra = [r for r in user.reasons if r.startswith(("warning:", "console password unknown"))]
    extra += [f"error: {e}" for e in user.errors]
    return "; ".join([text, *extra]) if extra else text


def render_markdown(reports: Sequence[AccountReport], multi: bool) -> str:
    lines = ["## MFA audit", ""]
    totals = _totals(reports)
    if multi:
        lines += ["| Account | Status | " + " | ".join(CLASSES) + " |", "| --- | --- |" + " ---: |" * len(CLASSES)]
        for r in reports:
            status = "ok" if r.status == "ok" else f"**error**: {r.error}"
            lines.append(f"| {r.account} | {status} | " + " | ".join(str(r.counts[c]) for c in CLASSES) + " |")
        lines.append("| **total** | | " + " | ".join(f"**{totals[c]}**" for c in CLASSES) + " |")
    else:
        lines += ["| Class | Users | Meaning |", "| --- | ---: | --- |"]
        lines += [f"| {c} | {totals[c]} | {CLASSES[c]} |" for c in CLASSES]
        lines += [f"\n**error**: {r.error}" for r in reports if r.status != "ok"]
    lines += ["", "| " + ("Account | " if multi else "") + "User | Path | Class | Password | MFA | Why |"]
    lines.append("| " + ("--- | " if multi else "") + "--- | --- | --- | :-: | :-: | --- |")
    for r in reports:
        for u in r.users:
            why = _why(u).replace("|", "\\|")
            account = f"{u.account} | " if multi else ""
            lines.append(
                f"| {account}{u.user} | `{u.path}` | **{u.class_}** | {_yes_no(u.console_password)} | "
                f"{_yes_no(u.mfa_active)} | {why} |"
            )
    warnings = [f"{r.account}: {w}" for r in reports for w in r.warnings]
    if warnings:
        lines += ["", *(f"* {w}" for w in warnings)]
    return "\n".join(lines) + "\n"


def render_table(reports: Sequence[AccountReport], multi: bool, file: Any, width: int | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file, width=width, soft_wrap=False)
    totals = _totals(reports)
    summary = Table(title="MFA audit", title_justify="left", show_edge=False)
    if multi:
        summary.add_column("Account")
        summary.add_column("Status")
        for c in CLASSES:
            summary.add_column(c, justify="right", style=STYLES[c])
        for r in reports:
            status = "[green]ok[/]" if r.status == "ok" else "[bold red]error[/]"
            summary.add_row(r.account, status, *(str(r.counts[c]) for c in CLASSES))
        summary.add_row("[bold]total[/]", "", *(f"[bold]{totals[c]}[/]" for c in CLASSES))
    else:
        summary.add_column("Class")
        summary.add_column("Users", justify="right")
        summary.add_column("Meaning")
        for c in CLASSES:
            summary.add_row(f"[{STYLES[c]}]{c}[/]", str(totals[c]), CLASSES[c])
    console.print(summary)
    for r in reports:
        if r.status != "ok":
            console.print(f"[bold red]{r.account}: {r.error}[/]", highlight=False)
    rows = Table(show_edge=False, show_lines=False)
    if multi:
        rows.add_column("Account", no_wrap=True)
    rows.add_column("User", no_wrap=True)
    rows.add_column("Path", no_wrap=True)
    rows.add_column("Class", no_wrap=True)
    rows.add_column("Password", justify="center")
    rows.add_column("MFA", justify="center")
    rows.add_column("Why", ratio=1)
    for r in reports:
        for u in r.users:
            cells = [
                u.user,
                u.path,
                f"[{STYLES[u.class_]}]{u.class_}[/]",
                _yes_no(u.console_password),
                _yes_no(u.mfa_active),
                _why(u),
            ]
            rows.add_row(*([u.account] if multi else []), *cells)
    console.print()
    console.print(rows)
    for r in reports:
        for w in r.warnings:
            console.print(f"[yellow]{r.account}: {w}[/]", highlight=False)


def render(reports: Sequence[AccountReport], fmt: str, multi: bool, file: Any) -> None:
    if fmt == "json":
        file.write(render_json(reports, multi))
    elif fmt == "markdown":
        file.write(render_markdown(reports, multi))
    else:
        render_table(reports, multi, file)


# --- the command ---------------------------------------------------------------------------------------------------


@dataclass
class Options:
    endpoint_url: str | None = None
    profile: str | None = None
    region: str | None = None
    fmt: str = "table"
    fail_on: str = "never"
    role_arn: str | None = None
    accounts: str | None = None
    concurrency: int = 4
    page_size: int = DEFAULT_PAGE_SIZE
    report_timeout: float = DEFAULT_REPORT_TIMEOUT


def run(options: Options, session: Any | None = None) -> tuple[list[AccountReport], bool]:
    """The reports of the account (or accounts), and whether this was a multi-account run; AuditError on bad input."""
    multi = options.role_arn is not None or options.accounts is not None
    if multi and not (options.role_arn and options.accounts):
        raise AuditError("--role-arn and --accounts go together")
    if options.page_size < 1 or options.concurrency < 1:
        raise AuditError("--page-size and --concurrency must be at least 1")
    if session is None:
        try:
            session = _session(options.profile, options.region)
        except Exception as e:  # noqa: BLE001 - ProfileNotFound and friends
            raise AuditError(explain(e, "starting a session")) from None
    if multi:
        accounts = parse_accounts(options.accounts or "")
        reports = audit_accounts(
            session,
            options.role_arn or "",
            accounts,
            concurrency=options.concurrency,
            endpoint_url=options.endpoint_url,
            page_size=options.page_size,
            report_timeout=options.report_timeout,
        )
        if all(r.status != "ok" for r in reports) and len(reports) == 1:
            raise AuditError(f"{reports[0].account}: {reports[0].error}")
        return reports, True
    report = audit_account(
        session, endpoint_url=options.endpoint_url, page_size=options.page_size, report_timeout=options.report_timeout
    )
    if report.status != "ok":
        raise AuditError(report.error or "the account could not be audited")
    return [report], False
