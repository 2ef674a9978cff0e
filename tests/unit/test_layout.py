"""The layout holds: product <- harness <- tests (README, Contributing). The product imports neither the harness
nor the tooling, tests never import conftest or each other, and no committed file names a machine's path."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from harness.paths import REPO_ROOT, TESTS_DIR

PRODUCT = REPO_ROOT / "src" / "mfa_required"
HARNESS = TESTS_DIR / "harness"
TEST_MODULES = {path.stem for path in TESTS_DIR.rglob("test_*.py")}
MACHINE_PATH = re.compile(r"(?<![\w.~-])/(work|home|root|tmp)/")


def imported(path: Path) -> set[str]:
    """Top-level names of the modules a file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(PRODUCT.glob("*.py")), ids=lambda p: p.name)
def test_product_imports_no_harness_or_tooling(path: Path) -> None:
    assert not imported(path) & {"harness", "tools", "bench", "tests", "conftest"}
    text = path.read_text()
    assert "parents[" not in text and "REPO_ROOT" not in text, "the product must work from a wheel"


@pytest.mark.parametrize("path", sorted(HARNESS.glob("*.py")), ids=lambda p: p.name)
def test_harness_imports_no_tests_or_tooling(path: Path) -> None:
    assert not imported(path) & ({"tools", "bench", "conftest"} | TEST_MODULES)


@pytest.mark.parametrize("path", sorted(TESTS_DIR.rglob("*.py")), ids=lambda p: p.relative_to(TESTS_DIR).as_posix())
def test_tests_import_neither_conftest_nor_each_other(path: Path) -> None:
    assert not imported(path) & ({"conftest", "fixtures"} | TEST_MODULES)


def test_no_machine_paths_in_committed_files() -> None:
    files = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    found = [
        f"{name}:{number}: {line.strip()}"
        for name in files.splitlines()
        if (REPO_ROOT / name).is_file() and not name.endswith(".png")
        for number, line in enumerate((REPO_ROOT / name).read_text(errors="replace").splitlines(), start=1)
        if MACHINE_PATH.search(line)
    ]
    assert not found, "machine paths in committed files:\n" + "\n".join(found)
