"""Where the repository's parts live (the harness runs from a checkout, never from an installed wheel)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / ".build"
EXAMPLES_DIR = REPO_ROOT / "examples"
TESTS_DIR = REPO_ROOT / "tests"
DATA_DIR = TESTS_DIR / "data"
MODULE_TESTS_DIR = TESTS_DIR / "module"  # the Terraform module's tests and their case tables
ORACLE_DIR = TESTS_DIR / "oracle"
