"""The offline tier: `terraform test` with a mocked provider, run on a copy of the module."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from harness.paths import MODULE_TESTS_DIR, REPO_ROOT
from harness.terraform import offline_environment, terraform


def test_terraform_test_offline_tier(tmp_path: Path) -> None:
    for path in [*REPO_ROOT.glob("*.tf"), REPO_ROOT / "policy.json.tpl"]:
        shutil.copy(path, tmp_path)
    (tmp_path / "tests").mkdir()
    for path in MODULE_TESTS_DIR.glob("*.tftest.hcl"):
        shutil.copy(path, tmp_path / "tests")
    # The mocked provider takes its schema from the real one: from the worker's provider process.
    tf = terraform(tmp_path, offline_environment())
    result = subprocess.run(
        ["terraform", "test", "-no-color"], cwd=tmp_path, env=tf.env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    runs = len(re.findall(r"^run \"", "".join(p.read_text() for p in (tmp_path / "tests").glob("*.tftest.hcl")), re.M))
    assert re.search(rf"Success! {runs} passed, 0 failed", result.stdout), result.stdout
