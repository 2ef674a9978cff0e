"""The product from its wheel: built from this checkout, installed into a fresh virtual environment outside the
repository, `mfa-required matrix` and `mfa-required evaluate` run there on a policy copied beside them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from harness.paths import DATA_DIR, REPO_ROOT

# Only the product: the harness, tools and tests stay in the repository.
PRODUCT_FILES = {"__init__.py", "cli.py", "evaluator.py", "matrix.py", "personas.py", "py.typed"}


def run(*args: str | Path, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, input=stdin, capture_output=True, text=True, check=False, timeout=600
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no access to the checkout) with the wheel and its declared dependencies installed."""
    work = tmp_path_factory.mktemp("wheel")
    source, dist = work / "source", work / "dist"  # built from a copy: setuptools writes build/ beside the sources
    shutil.copytree(REPO_ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(REPO_ROOT / "pyproject.toml", source)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", dist, source, cwd=work)
    (wheel,) = dist.glob("mfa_required_tools-*.whl")
    packaged = {Path(name).name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("mfa_required/")}
    assert packaged == PRODUCT_FILES
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    run(env_dir / "bin" / "python", "-m", "pip", "install", "--quiet", wheel, cwd=work)
    return env_dir


def test_matrix_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text((DATA_DIR / "policies" / "example-basic.json").read_text())
    out = run(installed / "bin" / "mfa-required", "matrix", policy, "--format", "json", cwd=tmp_path).stdout
    requests = {request["key"]: request for request in json.loads(out)["requests"]}
    assert requests["iam:GetUser own"]["resources"]["bob"] == "arn:aws:iam::000000000000:user/engineering/bob"
    markdown = run(installed / "bin" / "mfa-required", "matrix", policy, cwd=tmp_path).stdout
    assert "| `iam:ListUsers` | `*` |" in markdown


def test_evaluate_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    policy = json.loads((DATA_DIR / "policies" / "example-basic.json").read_text())
    line = {
        "policies": [policy],
        "principal": "arn:aws:iam::000000000000:user/alice",
        "action": "iam:ListUsers",
        "resource": "*",
        # console session without MFA: the policy's deny applies
        "context": {"aws:MultiFactorAuthPresent": "false", "aws:ViaAWSService": "false"},
    }
    out = run(installed / "bin" / "mfa-required", "evaluate", cwd=tmp_path, stdin=json.dumps(line) + "\n").stdout
    answer = json.loads(out)
    assert answer["decision"] == "ExplicitlyDenied"
    assert [match["sid"] for match in answer["matched"]] == ["DenyAllExceptListedIfNoMFA"]
