"""`mfa-required matrix`'s table format fits the terminal: no line wider than the console at 80, 120 and 160 columns,
every persona column there in full (split over more tables when they do not fit in one), and `--personas` chooses
the columns."""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from mfa_required import cli, matrix
from mfa_required.matrix import MODES, PERSONAS, ROWS, compute, render_table, select_personas

POLICY = Path(__file__).resolve().parents[1] / "data" / "policies" / "default.json"
MATRIX = compute(json.loads(POLICY.read_text()))


@cache
def rendered(width: int, personas: tuple[matrix.Persona, ...] = PERSONAS) -> list[str]:
    """The table format's lines (rendering is the slow part: each width once)."""
    console = Console(width=width, file=io.StringIO())
    render_table(MATRIX, console.file, width=console.width, personas=personas)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return str(text).splitlines()


def header_cells(lines: list[str]) -> list[str]:
    """The column headings of every table, in order (a heading wrapped over lines is joined)."""
    cells: list[str] = []
    block: list[list[str]] = []
    for line in [*lines, ""]:
        if line.startswith("┃"):
            block.append([cell.strip() for cell in line.strip("┃").split("┃")])
        elif block:
            cells += [" ".join(part for part in column if part) for column in zip(*block, strict=True)]
            block = []
    return cells


@pytest.mark.parametrize("width", [80, 120, 160])
def test_no_line_is_wider_than_the_terminal(width: int) -> None:
    lines = rendered(width)
    assert max(cell_len(line.rstrip()) for line in lines) <= width
    assert not any("…" in line for line in lines), "a cell was cut"


@pytest.mark.parametrize("width", [80, 120, 160])
def test_every_persona_column_is_there_for_each_mode(width: int) -> None:
    headings = header_cells(rendered(width))
    personas = [cell for cell in headings if cell in {p.key for p in PERSONAS}]
    assert personas == [p.key for p in PERSONAS] * len(MODES)
    # every table repeats the request and resource columns, and lists every request
    tables = headings.count("Request")
    assert tables == headings.count("Resource (alice)") >= len(MODES)
    last = ROWS[-1].action  # a request of one row only
    assert sum(line.startswith(f"│ {last} ") for line in rendered(width)) == tables


def test_the_widest_terminal_shows_one_table_per_mode_the_narrowest_more() -> None:
    assert header_cells(rendered(160)).count("Request") == len(MODES)
    assert header_cells(rendered(80)).count("Request") > len(MODES)


@pytest.mark.parametrize("width", [80, 120, 160])
def test_legend_names_every_column(width: int) -> None:
    lines = rendered(width)
    for persona in PERSONAS:
        assert any(line.split() == [persona.key, *persona.title.split()] for line in lines), persona.key


def test_chosen_personas_only_in_the_matrix_order() -> None:
    chosen = select_personas(["role", "access-key"])
    assert [p.key for p in chosen] == ["access-key", "role"]
    headings = header_cells(rendered(80, chosen))
    assert [h for h in headings if h in {p.key for p in PERSONAS}] == ["access-key", "role"] * len(MODES)


def test_select_personas_rejects_unknown_names() -> None:
    assert select_personas(None) == select_personas([]) == PERSONAS
    with pytest.raises(ValueError, match="unknown persona 'admin': choose from access-key, console"):
        select_personas(["console", "admin"])


def test_cli_personas_choose_the_columns_of_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["matrix", str(POLICY), "--format", "json", "--personas", "sts, console"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [p["key"] for p in document["personas"]] == ["console", "sts"]
    assert {cell["persona"] for cell in document["cells"]} == {"console", "sts"}
    assert cli.main(["matrix", str(POLICY), "--format", "markdown", "--personas", "sts"]) == 0
    markdown = capsys.readouterr().out
    assert "| Request | Resource (alice) | STS session, no MFA |" in markdown
    assert "Console, no MFA" not in markdown
