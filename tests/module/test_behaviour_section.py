"""The behaviour sections (tools/behaviour.py): docs/behaviour.md's matrix and the README's summary, generated from
the default policy, and up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.paths import REPO_ROOT
from tools import behaviour


def test_behaviour_sections_are_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert behaviour.main(["--check"]) == 0, capsys.readouterr().out


def test_readme_summary_is_the_matrix_in_short() -> None:
    """Every row of the README's short table is the whole matrix's row, decision for decision."""
    readme = (REPO_ROOT / "README.md").read_text()
    summary = readme[readme.index(behaviour.SUMMARY_BEGIN) : readme.index(behaviour.SUMMARY_END)]
    whole = (REPO_ROOT / behaviour.BEHAVIOUR_DOC).read_text()
    rows = [line for line in summary.splitlines() if line.startswith("| `")]
    assert len(rows) == len(behaviour.SUMMARY_ROWS)
    assert all(line.split(" | ")[:2] in [other.split(" | ")[:2] for other in whole.splitlines()] for line in rows)


def test_check_update_and_missing_markers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nintro\n\n{behaviour.BEGIN}\nold behaviour\n{behaviour.END}\n\n## After\n")
    assert behaviour.main(["--check", str(readme)]) == 1
    assert "-old behaviour" in capsys.readouterr().out
    assert behaviour.main([str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith(f"# Title\n\nintro\n\n{behaviour.BEGIN}\n") and text.endswith(
        f"{behaviour.END}\n\n## After\n"
    )
    assert "old behaviour" not in text and "| `iam:ListUsers` | `*` | ⛔ |" in text
    assert text.count("### ") == 3
    assert behaviour.main(["--check", str(readme)]) == 0
    readme.write_text("# No markers\n")
    assert behaviour.main(["--check", str(readme)]) == 2
    assert "markers" in capsys.readouterr().err
