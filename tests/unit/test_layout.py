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


def imported_modules(path: Path) -> set[str]:
    """Full names of the modules a file imports (absolute imports, as this project writes them)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def product_closure(module: str) -> set[str]:
    """Every module `module` imports, directly or through the product's own modules."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        relative = name.split(".")[1:]
        for candidate in (PRODUCT.joinpath(*relative).with_suffix(".py"), PRODUCT.joinpath(*relative, "__init__.py")):
            if name.startswith("mfa_required") and relative and candidate.is_file():
                todo += sorted(imported_modules(candidate))
    return seen


@pytest.mark.parametrize("module", ["mfa_required.audit.judge", "mfa_required.audit.formats"])
def test_the_audits_judgement_and_formats_never_reach_aws(module: str) -> None:
    """Only `collect` talks to AWS: the judgement and the formats import neither boto3 nor botocore, not even
    through another module of the product."""
    closure = product_closure(module)
    assert "mfa_required.audit.collect" not in closure
    assert not {name.split(".")[0] for name in closure} & {"boto3", "botocore"}
    assert {"mfa_required.evaluator", "mfa_required.audit.report"} & closure  # the walk did follow the imports


def test_only_collect_imports_boto3_or_botocore() -> None:
    importers = {
        path.relative_to(PRODUCT).as_posix()
        for path in PRODUCT.rglob("*.py")
        if {name.split(".")[0] for name in imported_modules(path)} & {"boto3", "botocore"}
    }
    assert importers == {"audit/collect.py"}


def imported(path: Path) -> set[str]:
    """Top-level names of the modules a file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(PRODUCT.rglob("*.py")), ids=lambda p: p.relative_to(PRODUCT).as_posix())
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
