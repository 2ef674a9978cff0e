"""bench/results.md is generated from bench/results.json (no figure typed by hand), and `make bench` runs by
default only the phases that measure this project's code."""

from __future__ import annotations

import json

from bench import report
from bench.__main__ import PHASES, default_phases
from harness.paths import REPO_ROOT

BENCH = REPO_ROOT / "bench"


def test_results_md_is_rendered_from_results_json() -> None:
    results = json.loads((BENCH / "results.json").read_text())
    assert report.markdown(results, PHASES) == (BENCH / "results.md").read_text(), (
        "bench/results.md is stale: run `PYTHONPATH=tests .venv/bin/python -m bench --render`"
    )


def test_default_phases_measure_this_project() -> None:
    assert default_phases() == [name for name in PHASES if name not in {"overhead", "scaling", "accounts", "scp"}]
    assert {"evaluator", "audit", "make-test"} <= set(default_phases())
