"""The offline tier: `terraform test` with a mocked provider, run on a copy of the module."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from harness.paths import MODULE_TESTS_DIR, REPO_ROOT
from harness.terraform import BUILD_DIR, cli_config


def test_terraform_test_offline_tier(tmp_path: Path) -> None:
    for path in [*REPO_ROOT.glob("*.tf"), REPO_ROOT / "policy.json.tpl"]:
        shutil.copy(path, tmp_path)
    (tmp_path / "tests").mkdir()
    for path in MODULE_TESTS_DIR.glob("*.tftest.hcl"):
        shutil.copy(path, tmp_path / "tests")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli_config(BUILD_DIR / "terraform.tfrc"))}

    def terraform(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["terraform", *args, "-no-color"], cwd=tmp_path, env=env, capture_output=True, text=True)

    init = terraform("init", "-backend=false", "-input=false")
    assert init.returncode == 0, init.stderr
    result = terraform("test")
    assert result.returncode == 0, result.stdout + result.stderr
    runs = len(re.findall(r"^run \"", "".join(p.read_text() for p in (tmp_path / "tests").glob("*.tftest.hcl")), re.M))
    assert re.search(rf"Success! {runs} passed, 0 failed", result.stdout), result.stdout
