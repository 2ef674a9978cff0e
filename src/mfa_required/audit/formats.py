"""The reports as a rich table, as markdown and as JSON. Everything read from an account is hostile data: user names,
paths (any printable ASCII: ``[``, ``]``, ``|``, backticks, ``<``), policy and group names reach a terminal or a
markdown renderer only escaped — rich cells are ``Text`` (never parsed as markup), markdown cells escape every
character that markdown or HTML gives a meaning, JSON is ``json.dumps``."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from mfa_required.audit.report import CLASSES, SCHEMA, AccountReport, UserClass, UserReport

__all__ = ["markdown_cell", "render", "render_json", "render_markdown", "render_table", "terminal_text"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|&!~])")


def terminal_text(value: object) -> str:
    """Control characters (escape sequences a terminal would obey) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", str(value))


def markdown_cell(value: object) -> str:
    """Text that a markdown renderer shows as it is, inside a table cell: every character that could start
    emphasis, code, a link or image, HTML or an entity, or close the cell is backslash-escaped (CommonMark: any
    ASCII punctuation may be; GFM tables: a backslash before a bar); line breaks become spaces."""
    text = terminal_text(str(value).replace("\n", " ").replace("\r", " "))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _totals(reports: Sequence[AccountReport]) -> dict[str, int]:
    totals = dict.fromkeys(CLASSES, 0)
    for report in reports:
        for name, n in report.counts.items():
            totals[name] += n
    return totals


def render_json(reports: Sequence[AccountReport], multi: bool) -> str:
    doc = {
        "schema": SCHEMA,
        "mode": "accounts" if multi else "account",
        "classes": CLASSES,
        "totals": _totals(reports),
        "accounts": [r.as_json() for r in reports],
        "users": [u.as_json() for r in reports for u in r.users],
    }
    return json.dumps(doc, indent=2) + "\n"


def _yes_no(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def why(user: UserReport) -> str:
    """The reason column: what covers the user, or what is open and the fix; then warnings and errors."""
    if user.class_ in (UserClass.PROTECTED, UserClass.MUST_ENROL):
        text = "covered by " + ", ".join(user.covering_policies)
    elif user.class_ is UserClass.KEYS_ONLY:
        text = user.reasons[1] if len(user.reasons) > 1 else ""
        if user.keys_unused_90_days:
            text += "; unused 90+ days: " + "; ".join(user.keys_unused_90_days)
    else:
        text = user.reasons[1] if len(user.reasons) > 1 else ""
        if user.fix:
            text += f". Fix: {user.fix}"
    extra = [r for r in user.reasons if r.startswith("console password unknown")]
    extra += [f"warning: {w}" for w in user.warnings]
    extra += [f"error: {e}" for e in user.errors]
    return "; ".join([text, *extra]) if extra else text


def render_markdown(reports: Sequence[AccountReport], multi: bool) -> str:
    lines = ["## MFA audit", ""]
    totals = _totals(reports)
    if multi:
        lines += ["| Account | Status | " + " | ".join(CLASSES) + " |", "| --- | --- |" + " ---: |" * len(CLASSES)]
        for r in reports:
            status = "ok" if r.status == "ok" else f"**error**: {markdown_cell(r.error)}"
            counts = " | ".join(str(r.counts[c]) for c in CLASSES)
            lines.append(f"| {markdown_cell(r.account)} | {status} | {counts} |")
        lines.append("| **total** | | " + " | ".join(f"**{totals[c]}**" for c in CLASSES) + " |")
    else:
        lines += ["| Class | Users | Meaning |", "| --- | ---: | --- |"]
        lines += [f"| {c} | {totals[c]} | {markdown_cell(CLASSES[c])} |" for c in CLASSES]
        lines += [f"\n**error**: {markdown_cell(r.error)}" for r in reports if r.status != "ok"]
    lines += ["", "| " + ("Account | " if multi else "") + "User | Path | Class | Password | MFA | Why |"]
    lines.append("| " + ("--- | " if multi else "") + "--- | --- | --- | :-: | :-: | --- |")
    for r in reports:
        for u in r.users:
            account = f"{markdown_cell(u.account)} | " if multi else ""
            lines.append(
                f"| {account}{markdown_cell(u.user)} | {markdown_cell(u.path)} | **{u.class_.value}** | "
                f"{_yes_no(u.console_password)} | {_yes_no(u.mfa_active)} | {markdown_cell(why(u))} |"
            )
    warnings = [f"{r.account}: {w}" for r in reports for w in r.warnings]
    if warnings:
        lines += ["", *(f"* {markdown_cell(w)}" for w in warnings)]
    return "\n".join(lines) + "\n"


def render_table(reports: Sequence[AccountReport], multi: bool, file: Any, width: int | None = None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def cell(value: object, style: str = "") -> Text:
        return Text(terminal_text(value), style=style, overflow="fold")

    console = Console(file=file, width=width, soft_wrap=False, highlight=False, emoji=False, markup=False)
    totals = _totals(reports)
    summary = Table(title="MFA audit", title_justify="left", show_edge=False)
    if multi:
        summary.add_column("Account", overflow="fold")
        summary.add_column("Status", overflow="fold")
        for c in UserClass:
            summary.add_column(c.value, justify="right", style=c.style, overflow="fold")
        for r in reports:
            status = cell("ok", "green") if r.status == "ok" else cell("error", "bold red")
            summary.add_row(cell(r.account), status, *(cell(r.counts[c]) for c in CLASSES))
        summary.add_row(cell("total", "bold"), cell(""), *(cell(totals[c], "bold") for c in CLASSES))
    else:
        summary.add_column("Class", overflow="fold")
        summary.add_column("Users", justify="right")
        summary.add_column("Meaning", overflow="fold", ratio=1)
        for c in UserClass:
            summary.add_row(cell(c.value, c.style), cell(totals[c.value]), cell(c.meaning))
    console.print(summary)
    for r in reports:
        if r.status != "ok":
            console.print(cell(f"{r.account}: {r.error}", "bold red"))
    rows = Table(show_edge=False, show_lines=False)
    if multi:
        rows.add_column("Account", overflow="fold")
    rows.add_column("User", overflow="fold", max_width=32)
    rows.add_column("Path", overflow="fold", max_width=32)
    rows.add_column("Class", overflow="fold")
    rows.add_column("Password", justify="center", overflow="fold")
    rows.add_column("MFA", justify="center", overflow="fold")
    rows.add_column("Why", ratio=1, overflow="fold")
    for r in reports:
        for u in r.users:
            cells = [
                cell(u.user),
                cell(u.path),
                cell(u.class_.value, u.class_.style),
                cell(_yes_no(u.console_password)),
                cell(_yes_no(u.mfa_active)),
                cell(why(u)),
            ]
            rows.add_row(*([cell(u.account)] if multi else []), *cells)
    console.print()
    console.print(rows)
    for r in reports:
        for w in r.warnings:
            console.print(cell(f"{r.account}: {w}", "yellow"))


def render(reports: Sequence[AccountReport], fmt: str, multi: bool, file: Any, width: int | None = None) -> None:
    if fmt == "json":
        file.write(render_json(reports, multi))
    elif fmt == "markdown":
        file.write(render_markdown(reports, multi))
    else:
        render_table(reports, multi, file, width)
