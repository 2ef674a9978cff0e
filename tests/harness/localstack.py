"""LocalStack for the harness and the demo: started as a plain process (no Docker), or an endpoint the user runs."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.paths import REPO_ROOT
from harness.timings import timed

ENDPOINT_ENV = "MFA_REQUIRED_LOCALSTACK_ENDPOINT"
VENV_ENV = "MFA_REQUIRED_LOCALSTACK_VENV"
SERVICES = ("iam", "sts")


def stop_process_group(process: subprocess.Popen[bytes] | None, grace: float) -> None:
    """SIGTERM to a server started in its own process group, SIGKILL after `grace` seconds; nothing if it has ended."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class LocalStackError(RuntimeError):
    """LocalStack could not be started or reached; the message says why and what to do."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health(endpoint: str) -> dict[str, str]:
    with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as response:
        return dict(json.load(response).get("services", {}))


def is_ready(endpoint: str) -> bool:
    try:
        services = health(endpoint)
    except OSError:
        return False
    return all(services.get(name) in ("available", "running") for name in SERVICES)


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG: LocalStack gets SIGTERM if the harness is killed, so no orphan survives it.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def start_server(
    command: Sequence[str],
    log_path: Path,
    ready: Callable[[], bool],
    timeout: float,
    error: Callable[[str], Exception],
    env: Mapping[str, str] | None = None,
    grace: float = 10,
) -> subprocess.Popen[bytes]:
    """Start a server in a process group of its own that dies with the harness, its output in log_path, and wait until
    ready() holds; `error(what happened)` is raised if it exits first or is not ready in time (it is then stopped)."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            list(command),
            env=None if env is None else dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise error(f"exited with code {process.returncode}")
        if ready():
            return process
        time.sleep(0.1)
    stop_process_group(process, grace=grace)
    raise error(f"was not ready after {timeout:.0f} s")


class LocalStackProcess:
    """One LocalStack (host mode) on a free loopback port, with its log kept in workdir."""

    def __init__(self, workdir: Path, venv: Path | None = None) -> None:
        self.venv = venv or Path(os.environ.get(VENV_ENV, REPO_ROOT / ".venv-localstack"))
        self.workdir = workdir
        self.log_path = workdir / "localstack.log"
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> str:
        python = self.venv / "bin" / "python"
        if not python.exists():
            raise LocalStackError(
                f"No LocalStack environment at {self.venv}. Run `make test` or `make demo`, which install it, "
                f"or set {ENDPOINT_ENV} to an endpoint you already run."
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "FILESYSTEM_ROOT": str(self.workdir / "filesystem"),
            "DISABLE_EVENTS": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "SERVICES": ",".join(SERVICES),
            "GATEWAY_LISTEN": f"127.0.0.1:{self.port}",
        }
        self._process = start_server(
            [str(python), "-m", "localstack.runtime.main"],
            self.log_path,
            lambda: is_ready(self.endpoint),
            timeout,
            lambda message: LocalStackError(f"LocalStack {message}.\n{self.log_tail()}"),
            env=env,
            grace=15,
        )
        return self.endpoint

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process_group(process, grace=15)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no LocalStack log)"
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"Last lines of {self.log_path}:\n" + "\n".join(tail)


@contextmanager
def localstack_endpoint(workdir: Path) -> Iterator[str]:
    """The user's endpoint when MFA_REQUIRED_LOCALSTACK_ENDPOINT is set (nothing started), else our own LocalStack."""
    external = os.environ.get(ENDPOINT_ENV)
    if external:
        endpoint = external.rstrip("/")
        if not is_ready(endpoint):
            raise LocalStackError(f"{ENDPOINT_ENV}={external} does not answer with iam and sts available.")
        yield endpoint
        return
    process = LocalStackProcess(workdir)
    try:
        with timed("localstack start", workdir):
            endpoint = process.start()
        yield endpoint
    finally:
        process.stop()


def account_session(account: str = "test") -> Any:
    """A boto3 session whose access key id is `account`: with a 12-digit one, LocalStack serves that account."""
    import boto3

    return boto3.Session(aws_access_key_id=account, aws_secret_access_key="test", region_name="us-east-1")


def client(endpoint: str, service: str, account: str = "test") -> Any:
    """A boto3 client for LocalStack; a 12-digit `account` is used as the access key id, which makes LocalStack
    serve that account (its multi-account set-up)."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=account,
        aws_secret_access_key="test",
    )
