"""examples/seed-compatible behaves like the seed policy (tests/data/seed-policy.json), except in the cells that
the documented fixes change: seed_fixes.yaml lists each with its reason and, by mode, both decisions. Any other
difference fails."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from harness.paths import MODULE_TESTS_DIR
from harness.plans import PlanSummary, example_policy
from harness.readme import seed_document
from mfa_required.matrix import Matrix, compute
from mfa_required.personas import PERSONAS

XDIST_GROUP = "plan"

ACCOUNT = "000000000000"
FIXES: dict[str, Any] = yaml.safe_load((MODULE_TESTS_DIR / "seed_fixes.yaml").read_text())
# Besides the data file's groups: every persona, and those that carry aws:username (not federated users or roles).
PERSONA_GROUPS: dict[str, list[str]] = FIXES["persona_groups"] | {
    "every persona": [p.key for p in PERSONAS],
    "user personas": [p.key for p in PERSONAS if p.key not in ("federated", "role")],
}


@dataclass(frozen=True)
class Fix:
    reason: str
    seed: str  # the seed's decision
    module: str  # examples/seed-compatible's decision


def expand(names: list[str], groups: dict[str, list[str]]) -> list[str]:
    return [member for name in names for member in groups.get(name, [name])]


def fixed_cells() -> dict[tuple[str, str, str, str], Fix]:
    """{(persona, user, row, mode): fix} for every cell a fix of seed_fixes.yaml changes."""
    cells: dict[tuple[str, str, str, str], Fix] = {}
    for fix in FIXES["fixes"]:
        personas, rows = expand(fix["personas"], PERSONA_GROUPS), expand(fix["rows"], FIXES["row_groups"])
        for mode, decisions in fix["modes"].items():
            for persona, user, row in itertools.product(personas, fix["users"], rows):
                assert (persona, user, row, mode) not in cells, f"listed twice: {persona} {user} {row} {mode}"
                cells[persona, user, row, mode] = Fix(fix["reason"], decisions["seed"], decisions["module"])
    return cells


def seed_matrix() -> Matrix:
    return compute(json.loads(seed_document(ACCOUNT)))


@pytest.fixture(scope="module")
def example_matrix(plan_all: PlanSummary) -> Matrix:
    return compute(json.loads(example_policy(plan_all, "seed-compatible")))


def test_seed_compatible_differs_from_the_seed_only_by_the_fixes(example_matrix: Matrix) -> None:
    seed, fixes = seed_matrix(), fixed_cells()
    assert (seed.account, example_matrix.account) == (ACCOUNT, ACCOUNT)
    problems = []
    for key, cell in seed.cells.items():
        got = (cell.decision, example_matrix[key].decision)
        fix = fixes.get(key)
        want = (fix.seed, fix.module) if fix else (cell.decision, cell.decision)
        if got != want:
            persona, user, row, mode = key
            problems.append(
                f"{persona:11} {user:5} {row:32} {mode:16} seed {got[0]:16} example {got[1]:16} "
                f"expected {want[0]} -> {want[1]}" + (f" ({fix.reason})" if fix else " (no fix listed)")
            )
    assert not problems, f"{len(problems)} cell(s) differ unexpectedly:\n" + "\n".join(problems)


def test_every_fix_changes_cells() -> None:
    """Each fix's cells exist in the matrix, and the seed really decides them as seed_fixes.yaml says."""
    seed = seed_matrix()
    for key, fix in fixed_cells().items():
        assert key in seed.cells, (key, fix.reason)
        assert seed[key].decision == fix.seed != fix.module, (key, fix.reason)
