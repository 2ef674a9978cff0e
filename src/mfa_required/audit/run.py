"""The command: options, one account or many (a member role per account, a bounded pool), and a time budget per
account (``--account-timeout``): an account that does not finish in time is reported as failed, never waited for."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import Any

from mfa_required.audit import collect
from mfa_required.audit.facts import AuditError
from mfa_required.audit.report import AccountReport, judge_account

__all__ = [
    "Options",
    "audit_account",
    "audit_accounts",
    "least_privilege_policy",
    "parse_accounts",
    "role_arn_for",
    "run",
]

POLICY_RESOURCE = "audit-policy.json"
ACCOUNT_ID = re.compile(r"\d{12}")
ACCOUNT_PLACEHOLDER = "{account}"
DEFAULT_ACCOUNT_TIMEOUT = 900.0
DEFAULT_SESSION_NAME = "mfa-required-audit"


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
    page_size: int = collect.DEFAULT_PAGE_SIZE
    report_timeout: float = collect.DEFAULT_REPORT_TIMEOUT
    account_timeout: float = DEFAULT_ACCOUNT_TIMEOUT
    verify_passwords: bool = True
    external_id: str | None = None
    session_name: str = DEFAULT_SESSION_NAME
    duration: int | None = None
    mfa_serial: str | None = None
    token_code: str | None = None
    organization: bool = False  # read the SCPs on each account's path (the caller: management or delegated admin)


def _with_budget(account: str, seconds: float, work: Callable[[], AccountReport]) -> AccountReport:
    """`work` on its own (daemon) thread; an error report if it has not finished within `seconds`."""
    started = time.perf_counter()
    box: list[AccountReport] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            box.append(work())
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            failure.append(e)

    thread = threading.Thread(target=target, name=f"audit-{account}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        return AccountReport(
            account,
            "error",
            error=f"the audit of this account did not finish within --account-timeout {seconds:g} s",
            seconds=time.perf_counter() - started,
        )
    if failure:
        raise failure[0]
    return box[0]


def audit_account(
    session: Any,
    *,
    account: str | None = None,
    endpoint_url: str | None = None,
    page_size: int = collect.DEFAULT_PAGE_SIZE,
    report_timeout: float = collect.DEFAULT_REPORT_TIMEOUT,
    verify_passwords: bool = True,
    organization: collect.Organization | None = None,
) -> AccountReport:
    """Read and judge one account; any failure becomes an AccountReport with status "error" (never raises).
    `organization`: read the SCPs on the account's path there, and judge with them."""
    started = time.perf_counter()
    try:
        facts = collect.read_account(
            session,
            endpoint_url=endpoint_url,
            page_size=page_size,
            report_timeout=report_timeout,
            verify_passwords=verify_passwords,
        )
        if organization is not None:
            facts.scp_levels, why_not = organization.scp_levels(facts.account, facts.api_calls)
            if why_not:
                facts.warnings.append(why_not)
    except AuditError as e:
        return AccountReport(account or "unknown", "error", error=str(e), seconds=time.perf_counter() - started)
    except Exception as e:  # noqa: BLE001 - botocore errors, explained in words
        return AccountReport(
            account or "unknown",
            "error",
            error=collect.explain(e, collect.operation_of(e), endpoint_url),
            seconds=time.perf_counter() - started,
        )
    report = judge_account(facts)
    report.seconds = time.perf_counter() - started
    return report


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
    page_size: int = collect.DEFAULT_PAGE_SIZE,
    report_timeout: float = collect.DEFAULT_REPORT_TIMEOUT,
    account_timeout: float = DEFAULT_ACCOUNT_TIMEOUT,
    verify_passwords: bool = True,
    session_name: str = DEFAULT_SESSION_NAME,
    external_id: str | None = None,
    duration: int | None = None,
    organization: collect.Organization | None = None,
) -> list[AccountReport]:
    """Assume the role in each account and audit them on a bounded pool; results in the accounts' order."""
    arns = {account: role_arn_for(role_template, account) for account in accounts}
    base_lock = threading.Lock()

    def one(account: str) -> AccountReport:
        started = time.perf_counter()
        calls: Counter[str] = Counter()
        try:
            session = collect.assume_role(
                base_session,
                arns[account],
                endpoint_url=endpoint_url,
                session_name=session_name,
                external_id=external_id,
                duration=duration,
                counter=calls,
                lock=base_lock,
            )
        except Exception as e:  # noqa: BLE001
            message = f"cannot assume {arns[account]}: {collect.explain(e, 'sts:AssumeRole', endpoint_url)}"
            return AccountReport(
                account, "error", error=message, api_calls=dict(calls), seconds=time.perf_counter() - started
            )
        report = audit_account(
            session,
            account=account,
            endpoint_url=endpoint_url,
            page_size=page_size,
            report_timeout=report_timeout,
            verify_passwords=verify_passwords,
            organization=organization,
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
        return list(pool.map(lambda a: _with_budget(a, account_timeout, lambda: one(a)), accounts))


def least_privilege_policy() -> dict[str, Any]:
    text = resources.files("mfa_required").joinpath(POLICY_RESOURCE).read_text(encoding="utf-8")
    return dict(json.loads(text))


def _organization(options: Options, caller: Any) -> collect.Organization | None:
    """The caller's organization, checked before any account is read (not in one, or not allowed: AuditError)."""
    if not options.organization:
        return None
    try:
        organization = collect.Organization(caller)
        organization.management_account(Counter())
    except Exception as e:  # noqa: BLE001 - botocore errors, explained in words
        raise AuditError(collect.explain(e, collect.operation_of(e))) from None
    return organization


def run(
    options: Options, session: Any | None = None, prompt: Callable[[str], str] | None = None
) -> tuple[list[AccountReport], bool]:
    """The reports of the account (or accounts), and whether this was a multi-account run; AuditError on bad input.
    `prompt` asks for the MFA code when --mfa-serial is given without --token-code (a terminal's getpass)."""
    multi = options.role_arn is not None or options.accounts is not None
    if multi and not (options.role_arn and options.accounts):
        raise AuditError("--role-arn and --accounts go together")
    if options.page_size < 1 or options.concurrency < 1:
        raise AuditError("--page-size and --concurrency must be at least 1")
    if options.account_timeout <= 0:
        raise AuditError("--account-timeout must be positive")
    if options.duration is not None and not 900 <= options.duration <= 43200:
        raise AuditError("--duration must be between 900 and 43200 seconds")
    if options.token_code and not options.mfa_serial:
        raise AuditError("--token-code needs --mfa-serial")
    if options.token_code and not re.fullmatch(r"\d{6}", options.token_code):
        raise AuditError("--token-code must be the 6 digits the MFA device shows")
    if (options.external_id or options.mfa_serial) and not multi:
        raise AuditError("--external-id and --mfa-serial are for member roles: use them with --role-arn")
    if session is None:
        try:
            session = collect.session(options.profile, options.region)
        except Exception as e:  # noqa: BLE001 - ProfileNotFound and friends
            raise AuditError(collect.explain(e, "starting a session")) from None
    if multi:
        accounts = parse_accounts(options.accounts or "")
        if options.mfa_serial:
            code = options.token_code
            if not code:
                if prompt is None:
                    raise AuditError("--mfa-serial needs --token-code when no terminal can ask for it")
                code = prompt(f"MFA code for {options.mfa_serial}: ").strip()
            try:
                session = collect.mfa_session(session, options.endpoint_url, options.mfa_serial, code, options.duration)
            except Exception as e:  # noqa: BLE001
                raise AuditError(collect.explain(e, "sts:GetSessionToken", options.endpoint_url)) from None
        organization = _organization(options, session)
        reports = audit_accounts(
            session,
            options.role_arn or "",
            accounts,
            concurrency=options.concurrency,
            endpoint_url=options.endpoint_url,
            page_size=options.page_size,
            report_timeout=options.report_timeout,
            account_timeout=options.account_timeout,
            verify_passwords=options.verify_passwords,
            session_name=options.session_name,
            external_id=options.external_id,
            duration=options.duration,
            organization=organization,
        )
        if all(r.status != "ok" for r in reports) and len(reports) == 1:
            raise AuditError(f"{reports[0].account}: {reports[0].error}")
        return reports, True
    organization = _organization(options, session)
    report = _with_budget(
        "account",
        options.account_timeout,
        lambda: audit_account(
            session,
            endpoint_url=options.endpoint_url,
            page_size=options.page_size,
            report_timeout=options.report_timeout,
            verify_passwords=options.verify_passwords,
            organization=organization,
        ),
    )
    if report.status != "ok":
        raise AuditError(report.error or "the account could not be audited")
    return [report], False
