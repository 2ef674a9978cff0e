"""Timed terraform commands against the benchmark's LocalStack, with the AWS API calls and the CPU each one used.

The calls are counted from LocalStack's request log (one `AWS <service>.<Operation> => <status>` line per call);
with an external endpoint (MFA_REQUIRED_LOCALSTACK_ENDPOINT) there is no log and the counts are left out.
CPU seconds (user + system) come from the kernel: terraform's with its provider processes from our children's
rusage; the provider's alone from /proc, sampled every half second while the command runs (so a lower bound:
a provider process living less than that is missed); LocalStack's from /proc before and after.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.terraform import terraform

API_CALL = re.compile(r"localstack\.request\.aws\s*: AWS (\w+\.\w+) => (\d+)")


class CommandFailed(RuntimeError):
    pass


@dataclass
class Timing:
    seconds: float
    calls: Counter[str] = field(default_factory=Counter)
    exit_code: int = 0
    cpu_terraform: float = 0.0  # terraform itself (core), without its provider processes
    cpu_provider: float = 0.0
    cpu_localstack: float = 0.0


TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _children(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) and stat[0] == parent:
            pids.append(int(entry.name))
    return pids


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def localstack_pid() -> int | None:
    """Our LocalStack's process: the child of this process running localstack.runtime.main."""
    for pid in _children(os.getpid()):
        try:
            if b"localstack.runtime.main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    return None


class ApiLog:
    """Reads the API calls LocalStack logged since the last read; knows LocalStack's pid for its CPU time."""

    def __init__(self, path: Path | None, pid: int | None = None) -> None:
        self.path = path if path is not None and path.exists() else None
        self.offset = self.path.stat().st_size if self.path else 0
        self.pid = pid

    def cpu(self) -> float:
        stat = _stat(self.pid) if self.pid else None
        return stat[1] if stat else 0.0

    def mark(self) -> None:
        if self.path:
            self.offset = self.path.stat().st_size

    def since_mark(self) -> Counter[str]:
        if not self.path:
            return Counter()
        with open(self.path, "rb") as log:
            log.seek(self.offset)
            data = log.read()
        self.offset += len(data)
        return Counter(m[1] for m in API_CALL.finditer(data.decode("utf-8", "replace")))


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
        children, localstack = _children_cpu(), self.api.cpu()
        provider: dict[int, float] = {}
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            start = time.perf_counter()
            process = subprocess.Popen(
                ["terraform", *args, "-input=false", "-no-color"], cwd=self.root, env=self.env, stdout=out, stderr=err
            )
            while True:
                try:
                    process.wait(timeout=0.5)  # returns as soon as terraform exits: the wall time stays exact
                    break
                except subprocess.TimeoutExpired:
                    for pid in _children(process.pid):
                        if stat := _stat(pid):
                            provider[pid] = max(provider.get(pid, 0.0), stat[1])
            seconds = time.perf_counter() - start
            time.sleep(0.2)  # LocalStack logs a call as it answers it: let the last lines reach the file
            calls = self.api.since_mark()
            if process.returncode not in ok:
                out.seek(0)
                err.seek(0)
                raise CommandFailed(
                    f"{self.name}: terraform {' '.join(args)} exited {process.returncode}\n{out.read()[-2000:]}\n"
                    f"{err.read()[-3000:]}"
                )
        total = _children_cpu() - children
        return Timing(
            seconds,
            calls,
            process.returncode,
            cpu_terraform=max(total - sum(provider.values()), 0.0),
            cpu_provider=sum(provider.values()),
            cpu_localstack=self.api.cpu() - localstack,
        )

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
