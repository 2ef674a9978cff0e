"""Where the repository's parts live."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / ".build"
EXAMPLES_DIR = REPO_ROOT / "examples"
