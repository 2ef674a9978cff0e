"""`mfa-required audit`: which IAM users of an account a policy requiring MFA protects, who must still enrol, who is
left exposed — proved from what their policies decide over the whole action catalogue and every context an
attacker chooses (the project's evaluator), not from a policy's name or a few probes.

The flow, one module each: `collect` reads the account (the only module that talks to AWS), `facts` holds what it
read, `judge` decides (verdicts, attacker contexts, a leaked key's reach), `report` makes user and account reports
(the JSON contract), `formats` renders them (table, markdown, JSON), `run` is the command (options, accounts,
concurrency, time budget).
"""

from __future__ import annotations

from mfa_required.audit.collect import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_REPORT_TIMEOUT,
    ORGANIZATION_ACTIONS,
    REQUIRED_ACTIONS,
    Organization,
    explain,
    read_account,
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
from mfa_required.audit.formats import render, render_json, render_markdown, render_table
from mfa_required.audit.judge import Decision, GuardKind, Judgement, Principal, judge_policies, key_escalations
from mfa_required.audit.report import (
    CLASSES,
    FAIL_ON,
    SCHEMA,
    AccountReport,
    UserClass,
    UserReport,
    classify,
    exit_status,
    judge_account,
)
from mfa_required.audit.run import (
    DEFAULT_ACCOUNT_TIMEOUT,
    Options,
    audit_account,
    audit_accounts,
    least_privilege_policy,
    parse_accounts,
    role_arn_for,
    run,
)

__all__ = [
    "CLASSES",
    "DEFAULT_ACCOUNT_TIMEOUT",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_REPORT_TIMEOUT",
    "FAIL_ON",
    "ORGANIZATION_ACTIONS",
    "REQUIRED_ACTIONS",
    "SCHEMA",
    "AccessKey",
    "AccountFacts",
    "AccountReport",
    "AuditError",
    "Decision",
    "GuardKind",
    "Judgement",
    "Options",
    "Organization",
    "PolicyRef",
    "Principal",
    "ScpLevel",
    "ScpRef",
    "UserClass",
    "UserFacts",
    "UserReport",
    "audit_account",
    "audit_accounts",
    "classify",
    "decode_policy_document",
    "exit_status",
    "explain",
    "judge_account",
    "judge_policies",
    "key_escalations",
    "least_privilege_policy",
    "parse_accounts",
    "read_account",
    "render",
    "render_json",
    "render_markdown",
    "render_table",
    "role_arn_for",
    "run",
]
