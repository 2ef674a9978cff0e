"""The harness's LocalStack: the user's endpoint is used as is, failures say why, and no process outlives us."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.localstack import ENDPOINT_ENV, LocalStackError, LocalStackProcess, free_port, localstack_endpoint
from harness.paths import TESTS_DIR

XDIST_GROUP = "localstack"


def test_user_endpoint_is_used_and_nothing_started(
    localstack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENDPOINT_ENV, localstack + "/")
    with localstack_endpoint(tmp_path) as endpoint:
        assert endpoint == localstack
    assert not (tmp_path / "localstack.log").exists()


def test_unreachable_user_endpoint_fails_with_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENDPOINT_ENV, f"http://127.0.0.1:{free_port()}")
    with (
        pytest.raises(LocalStackError, match="does not answer with iam and sts available"),
        localstack_endpoint(tmp_path),
    ):
        pass


def test_missing_environment_fails_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(LocalStackError, match="Run `make test` or `make demo`"):
        LocalStackProcess(tmp_path, venv=tmp_path / "no-venv").start()


@pytest.mark.localstack  # starts LocalStack itself, without the fixture
def test_no_orphan_when_the_harness_is_killed(tmp_path: Path) -> None:
    """SIGKILL leaves no finaliser a chance: the parent-death signal must stop LocalStack anyway."""
    script = textwrap.dedent(
        f"""
        import os, pathlib
        from harness.localstack import LocalStackProcess
        process = LocalStackProcess(pathlib.Path({str(tmp_path)!r}))
        process.start()
        pathlib.Path({str(tmp_path / "pid")!r}).write_text(str(process._process.pid))
        os.kill(os.getpid(), 9)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(TESTS_DIR)}  # `harness` is importable from tests/
    killed = subprocess.run([sys.executable, "-c", script], env=env, check=False, timeout=120)
    assert killed.returncode == -9
    pid = int((tmp_path / "pid").read_text())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    assert not _alive(pid), f"LocalStack (pid {pid}) outlived the killed harness"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return status != "Z"
