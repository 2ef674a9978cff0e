"""moto's server for the organisation tier: AWS Organizations, which LocalStack's free edition does not serve.

Started as a plain process (`moto_server -H 127.0.0.1 -p PORT`) on a free loopback port, its log kept in the
work directory, stopped at the end. Every request moto answers is one line of that log (werkzeug's request log):
`server_errors` reads it, so that a test can fail on a 5xx answer that the SDK's retries would hide.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.localstack import free_port, start_server, stop_process_group
from harness.timings import timed

# werkzeug's access log: 127.0.0.1 - - [30/Nov/2026 05:40:00] "POST / HTTP/1.1" 500 -
# (werkzeug colours the request of a non-2xx answer: the escape codes are removed first).
REQUEST_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) ')
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class MotoError(RuntimeError):
    """moto's server could not be started; the message says why and what to do."""


class MotoServer:
    """One moto server on a free loopback port, with its log in workdir."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.log_path = workdir / "moto.log"
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> str:
        executable = Path(sys.executable).with_name("moto_server")
        if not executable.exists():
            raise MotoError(f"{executable} is missing: run `make setup` (moto[server] is in requirements/harness.txt)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._process = start_server(
            [str(executable), "-H", "127.0.0.1", "-p", str(self.port)],
            self.log_path,
            self._answers,
            timeout,
            lambda message: MotoError(f"moto_server {message}.\n{self.log_tail()}"),
        )
        return self.endpoint

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        stop_process_group(process, grace=10)

    def reset(self) -> None:
        """Forget every resource (moto's reset API): each scenario starts from an account without an organization."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def _log(self) -> str:
        return ANSI.sub("", self.log_path.read_text(errors="replace")) if self.log_path.exists() else ""

    def answers(self) -> list[tuple[str, int]]:
        """(method and path, status) of every request answered so far, from the log."""
        text = self._log()
        return [(f"{m['method']} {m['path']}", int(m["status"])) for m in REQUEST_LINE.finditer(text)]

    def server_errors(self) -> list[str]:
        """The log lines of 5xx answers."""
        text = self._log()
        return [line for line in text.splitlines() if (m := REQUEST_LINE.search(line)) and m["status"][0] == "5"]

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no moto log)"
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"Last lines of {self.log_path}:\n" + "\n".join(tail)


@contextmanager
def moto_server(workdir: Path) -> Iterator[MotoServer]:
    server = MotoServer(workdir)
    try:
        with timed("moto start", workdir):
            server.start()
        yield server
    finally:
        server.stop()


def organizations_client(endpoint: str) -> Any:
    """A boto3 Organizations client for moto that raises on any 5xx answer instead of retrying it."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "organizations",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),  # one answer, no retry
    )

    def fail_on_server_error(http_response: Any, model: Any, **_: Any) -> None:
        if http_response is not None and http_response.status_code >= 500:
            raise MotoError(f"moto answered {model.name} with {http_response.status_code}: {http_response.text}")

    client.meta.events.register("after-call.organizations", fail_on_server_error)
    return client
