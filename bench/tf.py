"""Timed terraform commands against the benchmark's LocalStack, with the AWS API calls each one made.

The calls are counted from LocalStack's request log (one `AWS <service>.<Operation> => <status>` line per call);
with an external endpoint (MFA_REQUIRED_LOCALSTACK_ENDPOINT) there is no log and the counts are left out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mfa_required.terraform import terraform

API_CALL = re.compile(r"localstack\.request\.aws\s*: AWS (\w+\.\w+) => (\d+)")


class CommandFailed(RuntimeError):
    pass


@dataclass
class Timing:
    seconds: float
    calls: Counter[str] = field(default_factory=Counter)
    exit_code: int = 0


class ApiLog:
    """Reads the API calls LocalStack logged since the last read."""

    def __init__(self, path: Path | None) -> None:
        self.path = path if path is not None and path.exists() else None
        self.offset = self.path.stat().st_size if self.path else 0

    def mark(self) -> None:
        if self.path:
            self.offset = self.path.stat().st_size

    def since_mark(self) -> Counter[str]:
        if not self.path:
            return Counter()
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            text = log.read().decode("utf-8", "replace")
        self.offset += len(text.encode("utf-8"))
        return Counter(m[1] for m in API_CALL.finditer(text))


class Root:
    """A root configuration, initialised once (init timed), whose commands are timed one by one."""

    def __init__(self, name: str, root: Path, env: Mapping[str, str], api: ApiLog) -> None:
        self.name = name
        self.root = root
        self.api = api
        start = time.perf_counter()
        self.tf = terraform(root, env)
        self.init_seconds = time.perf_counter() - start
        self.env: dict[str, str] = dict(self.tf.env)

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> Timing:
        self.api.mark()
        start = time.perf_counter()
        done = subprocess.run(
            ["terraform", *args, "-input=false", "-no-color"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - start
        time.sleep(0.2)  # LocalStack logs a call as it answers it: let the last lines reach the file
        calls = self.api.since_mark()
        if done.returncode not in ok:
            raise CommandFailed(
                f"{self.name}: terraform {' '.join(args)} exited {done.returncode}\n{done.stdout[-2000:]}\n"
                f"{done.stderr[-3000:]}"
            )
        return Timing(seconds, calls, done.returncode)

    def plan(self) -> Timing:
        return self.run("plan")

    def apply(self) -> Timing:
        return self.run("apply", "-auto-approve")

    def noop_plan(self) -> Timing:
        """A plan right after apply: refreshes every resource; exit code 2 would mean the module is not stable."""
        return self.run("plan", "-detailed-exitcode", ok=(0, 2))

    def destroy(self) -> Timing:
        return self.run("destroy", "-auto-approve")

    def output_json(self) -> Any:
        done = subprocess.run(
            ["terraform", "output", "-json"], cwd=self.root, env=self.env, capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout)

    def cleanup(self) -> None:
        """Destroy whatever a failed run left behind; errors are ignored (this is best effort)."""
        subprocess.run(
            ["terraform", "destroy", "-auto-approve", "-input=false", "-no-color"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            check=False,
        )


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def provider_block() -> str:
    return 'provider "aws" {\n  region = "us-east-1"\n}\n'


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
