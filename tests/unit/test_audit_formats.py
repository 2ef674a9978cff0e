"""The audit's formats on hostile data: names and paths from an account (any printable ASCII) never become markup
in a terminal, never forge a markdown cell, and survive JSON unchanged; tables never wider than the terminal."""

from __future__ import annotations

import io
import json

import pytest
from rich.cells import cell_len

from mfa_required import audit
from mfa_required.audit import AccountFacts, PolicyRef, UserFacts
from mfa_required.audit.formats import markdown_cell, render_markdown, render_table

ACCOUNT = "123456789012"
HOSTILE_PATHS = [
    "/[/]/",
    "/[link=https://x.io]x[/link]/",
    "/a|**protected**|b/",
    "/`code`<script>/",
    "/[bold red]protected[/]/",
    "/" + "long-" * 30 + "/",
]
GUARD = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "NotAction": ["iam:ChangePassword", "iam:EnableMFADevice", "iam:CreateVirtualMFADevice", "iam:GetUser"],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }
    ],
}


def report() -> audit.AccountReport:
    users = []
    for i, path in enumerate(HOSTILE_PATHS):
        policies = [PolicyRef("guard|[x]", "inline", "user", None, GUARD)] if i % 2 else []
        users.append(
            UserFacts(
                f"u{i}<b>",
                path,
                f"arn:aws:iam::{ACCOUNT}:user{path}u{i}",
                f"AIDA{i:017d}",
                policies=policies,
                console_password=True,
                mfa_active=bool(i % 3),
            )
        )
    return audit.judge_account(AccountFacts(ACCOUNT, "aws", users, {}, {}))


def test_markdown_cells_escape_what_could_forge_a_row_or_markup() -> None:
    assert markdown_cell("/a|**protected**|b/") == r"/a\|\*\*protected\*\*\|b/"
    assert markdown_cell("/[link=x]`c`<s>&amp;/") == r"/\[link=x\]\`c\`\<s\>\&amp;/"
    assert markdown_cell("a\x1b[31mred\nb") == r"a\\x1b\[31mred b"  # the escape shown, not sent


def test_a_hostile_path_stays_in_its_markdown_cell() -> None:
    lines = render_markdown([report()], False).splitlines()
    rows = [line for line in lines if line.startswith("| u")]
    assert len(rows) == len(HOSTILE_PATHS)
    for row in rows:
        unescaped_bars = row.replace("\\|", "").count("|")
        assert unescaped_bars == 7, row  # 6 cells: the class stays in the third
    assert rows[2].startswith(r"| u2\<b\> | /a\|\*\*protected\*\*\|b/ | **mfa-optional** | yes | yes | ")


@pytest.mark.parametrize("width", [80, 120, 160])
def test_the_table_never_overflows_the_terminal_and_interprets_no_markup(width: int) -> None:
    out = io.StringIO()
    render_table([report()], False, out, width=width)
    text = out.getvalue()
    assert max(cell_len(line) for line in text.splitlines()) <= width
    assert "\x1b]8;" not in text  # no hyperlink escape: the [link=...] path was not markup
    wide = io.StringIO()
    render_table([report()], False, wide, width=400)
    assert "/[link=https://x.io]x[/link]/" in wide.getvalue() and "/[/]/" in wide.getvalue()


@pytest.mark.parametrize("width", [80, 120, 160])
def test_the_accounts_table_fits_too(width: int) -> None:
    reports = [report(), audit.AccountReport("222222222222", "error", error="cannot assume [role] | x")]
    out = io.StringIO()
    render_table(reports, True, out, width=width)
    assert max(cell_len(line) for line in out.getvalue().splitlines()) <= width


def test_json_keeps_hostile_values_exactly() -> None:
    document = json.loads(audit.render_json([report()], False))
    assert [u["path"] for u in document["users"]] == HOSTILE_PATHS
    assert all(u["user"].endswith("<b>") for u in document["users"])
