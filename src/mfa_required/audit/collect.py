"""Reading an account: the only module of the audit that talks to AWS (boto3, botocore).

Reading costs O(1) API pages per account, not O(users): ``GetAccountAuthorizationDetails`` (users, groups, roles
with their trust policies, memberships, inline policies and customer managed policies with their documents;
paginated) and the credential report (``GenerateCredentialReport`` until COMPLETE, then ``GetCredentialReport``).
Per-object calls happen only where those cannot answer: the document of an attached AWS managed policy
(``GetPolicy``/``GetPolicyVersion``, once per policy); the sign-in facts of a user created after the report
(``GetLoginProfile``, ``ListMFADevices``, ``ListAccessKeys``); and ``GetLoginProfile`` for every user the report
shows without a password, because IAM hands out a report up to four hours old (a user given a password since
would be judged keys-only) — ``--no-verify-passwords`` skips that for very large accounts.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from mfa_required.audit.facts import (
    AccessKey,
    AccountFacts,
    AuditError,
    PolicyRef,
    ScpLevel,
    ScpRef,
    UserFacts,
    decode_policy_document,
)
from mfa_required.evaluator import PolicyError, ServiceControlPolicies

__all__ = [
    "ORGANIZATION_ACTIONS",
    "REQUIRED_ACTIONS",
    "Organization",
    "assume_role",
    "explain",
    "mfa_session",
    "operation_of",
    "read_account",
    "session",
]

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
# With --organization, from the caller's own session (the management account or a delegated administrator).
ORGANIZATION_ACTIONS = (
    "organizations:DescribeOrganization",
    "organizations:DescribePolicy",
    "organizations:ListParents",
    "organizations:ListPoliciesForTarget",
)
DEFAULT_PAGE_SIZE = 1000  # GetAccountAuthorizationDetails' largest MaxItems
DEFAULT_REPORT_TIMEOUT = 60.0
FALLBACK_WORKERS = 8


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
        if code in ACCESS_DENIED and operation.startswith("organizations:"):
            return (
                f"access denied calling {operation} ({message}). --organization reads the SCPs with "
                f"{', '.join(ORGANIZATION_ACTIONS)}, from the organization's management account or a delegated "
                "administrator (the least-privilege policy: `mfa-required audit --print-policy`)"
            )
        if code == "AWSOrganizationsNotInUseException":
            return (
                "the caller's account is not in an organization (AWSOrganizationsNotInUseException): run "
                "--organization with credentials of the management account or a delegated administrator, or leave "
                "it out"
            )
        if code in ("AccountNotFoundException", "ChildNotFoundException"):
            return f"the account is not in the caller's organization ({operation}: {code}): its SCPs cannot be read"
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
        if user.console_password:
            user.password_since = _parse_time(row.get("password_last_changed", "")) or _parse_time(
                row.get("user_creation_time", "")
            )
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
        created = iam.get_login_profile(UserName=user.name)["LoginProfile"].get("CreateDate")
        user.console_password = True
        user.password_since = created if isinstance(created, datetime) else None
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
    verify_passwords: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> AccountFacts:
    """Everything the judgement needs from one account, in O(1) pages; raises botocore errors and AuditError."""
    calls: Counter[str] = Counter()
    started = time.perf_counter()
    iam, sts = _clients(session, endpoint_url, calls)
    identity = sts.get_caller_identity()  # needs no permission: checks credentials and endpoint first
    account = identity["Account"]
    partition = identity["Arn"].split(":")[1]

    raw_users: list[dict[str, Any]] = []
    raw_groups: list[dict[str, Any]] = []
    raw_policies: list[dict[str, Any]] = []
    raw_roles: list[dict[str, Any]] = []
    pages = 0
    paginator = iam.get_paginator("get_account_authorization_details")
    # AWS managed policies are left out of the listing (every one of them, in some implementations): the few that
    # users or groups have attached are read one by one below.
    for page in paginator.paginate(
        Filter=["User", "Group", "Role", "LocalManagedPolicy"], PaginationConfig={"PageSize": page_size}
    ):
        pages += 1
        raw_users += page.get("UserDetailList", [])
        raw_groups += page.get("GroupDetailList", [])
        raw_policies += page.get("Policies", [])
        raw_roles += page.get("RoleDetailList", [])

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
        user.tags = {t["Key"]: t.get("Value", "") for t in u.get("Tags", []) if "Key" in t}
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
        if users:  # an account without users has nothing to read from a report: no report is generated for it
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

    if verify_passwords and in_report:
        without = [u for u in users.values() if u.name in in_report and u.console_password is False]
        with ThreadPoolExecutor(max_workers=FALLBACK_WORKERS, thread_name_prefix="audit-password") as pool:
            passwords = list(pool.map(lambda u: _has_login_profile(iam, u.name), without))
        for user, has_password in zip(without, passwords, strict=True):
            user.password_verified = True
            if has_password:
                user.console_password = True
                user.notes.append(
                    "the credential report shows no password, but the user has one now (GetLoginProfile): "
                    "IAM reuses a report up to 4 hours old"
                )
    roles: dict[str, Mapping[str, Any]] = {}
    for role in raw_roles:
        try:
            roles[role["Arn"]] = decode_policy_document(role.get("AssumeRolePolicyDocument") or {"Statement": []})
        except PolicyError as e:
            warnings.append(f"trust policy of role {role.get('RoleName')} could not be read: {e}")
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
        roles,
    )


def _has_login_profile(iam: Any, name: str) -> bool | None:
    """Whether the user has a console password now; None when the user is gone."""
    try:
        iam.get_login_profile(UserName=name)
    except ClientError as e:
        if _error_code(e) == "NoSuchEntity":
            return False
        raise
    return True


def session(profile: str | None, region: str | None, **credentials: str) -> Any:
    made = boto3.Session(profile_name=profile, region_name=region, **credentials)
    if made.region_name is None:  # neither --region nor the profile/environment name one: IAM is global
        made = boto3.Session(profile_name=profile, region_name="us-east-1", **credentials)
    return made


def operation_of(error: Exception) -> str:
    name = getattr(error, "operation_name", None)
    prefix = {"GetCallerIdentity": "sts", "AssumeRole": "sts", "GetSessionToken": "sts"}.get(str(name), "iam")
    if f"organizations:{name}" in ORGANIZATION_ACTIONS:
        prefix = "organizations"
    return f"{prefix}:{name}" if name else "the AWS API"


def sts_client(base: Any, endpoint_url: str | None, counter: Counter[str] | None = None) -> Any:
    client = base.client("sts", endpoint_url=endpoint_url, config=_config("sts"))
    if counter is not None:
        client.meta.events.register("before-call", _Calls(counter))
    return client


def mfa_session(base: Any, endpoint_url: str | None, serial: str, token_code: str, duration: int | None) -> Any:
    """A session with MFA (sts:GetSessionToken with the device's code) from which the member roles are assumed:
    one code for every account, and member trust policies that require MFA admit it (STS API reference,
    GetSessionToken; IAM User Guide, id_credentials_mfa_configure-api-require)."""
    arguments: dict[str, Any] = {"SerialNumber": serial, "TokenCode": token_code}
    if duration:
        arguments["DurationSeconds"] = max(900, duration)
    credentials = sts_client(base, endpoint_url).get_session_token(**arguments)["Credentials"]
    return session(
        None,
        base.region_name,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def assume_role(
    base: Any,
    role_arn: str,
    *,
    endpoint_url: str | None,
    session_name: str,
    external_id: str | None,
    duration: int | None,
    counter: Counter[str],
    lock: threading.Lock,
) -> Any:
    """A session of the member account's audit role."""
    with lock:  # a boto3 Session is not thread-safe: clients are made from it one at a time
        sts = sts_client(base, endpoint_url, counter)
    arguments: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name}
    if external_id:
        arguments["ExternalId"] = external_id
    if duration:
        arguments["DurationSeconds"] = duration
    credentials = sts.assume_role(**arguments)["Credentials"]
    with lock:
        return session(
            None,
            base.region_name,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )


# --- service control policies (--organization) ---------------------------------------------------------------------

SCP_FILTER = "SERVICE_CONTROL_POLICY"
# AWS Organizations User Guide, orgs_manage_policies_scps
# (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html): "SCPs don't affect
# users or roles in the management account."
MANAGEMENT_ACCOUNT_NOTE = (
    "this is the organization's management account: SCPs do not apply to its users, so they were judged without "
    "SCPs (AWS Organizations User Guide, orgs_manage_policies_scps)"
)


class Organization:
    """The SCPs on audited accounts' paths, read with the caller's own session (the management account or a
    delegated administrator), while IAM is read through each member role. Shared by the accounts of a run: each
    target's policies and each policy's document are read once (ListPoliciesForTarget, DescribePolicy).

    Its endpoint is botocore's for Organizations: the standard configuration (AWS_ENDPOINT_URL_ORGANIZATIONS,
    AWS_ENDPOINT_URL, or the config file's ``services`` section: AWS SDKs and Tools Reference Guide,
    https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), not --endpoint-url, which is IAM's
    and STS's."""

    def __init__(self, caller: Any) -> None:
        self.client = caller.client("organizations", config=_config("organizations"))
        self.lock = threading.Lock()
        self._management: str | None = None
        self._parent_of: dict[str, tuple[str, str]] = {}  # child -> (parent id, parent type)
        self._attached: dict[str, list[tuple[str, str, bool]]] = {}  # target -> (policy id, name, AWS managed)
        self._documents: dict[str, dict[str, Any]] = {}

    def _count(self, calls: Counter[str], operation: str) -> None:
        with self.lock:
            calls[f"organizations:{operation}"] += 1

    def management_account(self, calls: Counter[str]) -> str:
        """The management account's ID (DescribeOrganization): also checks, before any account is audited, that
        the caller is in an organization and may read it."""
        if self._management is None:
            self._count(calls, "DescribeOrganization")
            organization = self.client.describe_organization()["Organization"]
            self._management = str(organization.get("MasterAccountId", ""))
        return self._management

    def _parent(self, child: str, calls: Counter[str]) -> tuple[str, str]:
        with self.lock:
            found = self._parent_of.get(child)
        if found is None:
            listed = []
            for page in self.client.get_paginator("list_parents").paginate(ChildId=child):
                self._count(calls, "ListParents")
                listed += page.get("Parents", [])
            if len(listed) != 1:
                raise AuditError(f"ListParents gave {len(listed)} parents for {child}, not one")
            found = (listed[0]["Id"], listed[0]["Type"])
            with self.lock:
                self._parent_of[child] = found
        return found

    def _policies(self, target: str, calls: Counter[str]) -> list[tuple[str, str, bool]]:
        with self.lock:
            found = self._attached.get(target)
        if found is None:
            found = []
            pages = self.client.get_paginator("list_policies_for_target").paginate(TargetId=target, Filter=SCP_FILTER)
            for page in pages:
                self._count(calls, "ListPoliciesForTarget")
                found += [
                    (p["Id"], p.get("Name", p["Id"]), bool(p.get("AwsManaged"))) for p in page.get("Policies", [])
                ]
            with self.lock:
                self._attached[target] = found
        return found

    def _document(self, policy_id: str, name: str, calls: Counter[str]) -> dict[str, Any]:
        with self.lock:
            found = self._documents.get(policy_id)
        if found is None:
            self._count(calls, "DescribePolicy")
            content = self.client.describe_policy(PolicyId=policy_id)["Policy"].get("Content")
            try:
                found = decode_policy_document(content)
            except PolicyError as e:
                raise AuditError(f"SCP {name} ({policy_id}) could not be read: {e}") from None
            with self.lock:
                self._documents[policy_id] = found
        return found

    def scp_levels(self, account: str, calls: Counter[str]) -> tuple[list[ScpLevel] | None, str | None]:
        """The SCP levels of the account's path, root first, account last; or None and why they are not used."""
        if account == self.management_account(calls):
            return None, MANAGEMENT_ACCOUNT_NOTE
        path = [(account, "ACCOUNT")]
        while path[-1][1] != "ROOT":
            if len(path) > 7:  # the root, up to five levels of OUs, the account (Organizations quotas)
                raise AuditError(f"the path of account {account} from the root is deeper than Organizations allows")
            path.append(self._parent(path[-1][0], calls))
        levels = []
        for target, kind in reversed(path):
            attached = self._policies(target, calls)
            refs = tuple(
                ScpRef(name, pid, self._document(pid, name, calls), managed) for pid, name, managed in attached
            )
            levels.append(ScpLevel(target, kind, refs))
        if not any(level.policies for level in levels):
            # SCPs disabled at the root: nothing attached anywhere, and nothing restricts the account
            return None, "no SCP is attached on this account's path (SCPs are not enabled in the organization)"
        if not all(level.policies for level in levels):
            # With SCPs enabled AWS keeps at least one attached to every root, OU and account; judging a level
            # without any would deny everything there: judged without SCPs instead, which can only deny less.
            empty = ", ".join(level.name for level in levels if not level.policies)
            return None, f"no SCP was listed for {empty}: the SCPs were not used in the judgement"
        try:
            ServiceControlPolicies([[p.document for p in level.policies] for level in levels])
        except PolicyError as e:
            raise AuditError(
                f"an SCP on the path of account {account} is not understood by the evaluator: {e}"
            ) from None
        return levels, None
