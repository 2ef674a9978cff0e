"""What a phase gets from `python -m bench`: its working directory, the run counts, a log, LocalStack on demand."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.tf import ApiLog, localstack_pid
from harness.localstack import ENDPOINT_ENV, client, localstack_endpoint
from harness.terraform import environment


@dataclass
class LocalStack:
    endpoint: str
    env: dict[str, str]  # terraform's environment for this endpoint
    iam: Any  # a boto3 IAM client
    api: ApiLog  # LocalStack's request log and CPU time (None when the endpoint is the user's)
    info: dict[str, Any] = field(default_factory=dict)  # start time and what could be measured, for the results


@dataclass
class Bench:
    workdir: Path  # this phase's own scratch directory (.build/bench/PHASE)
    runs: int
    large_runs: int
    sizes: list[int]
    log: Callable[[str], None]

    @contextmanager
    def localstack(self) -> Iterator[LocalStack]:
        """A LocalStack for this phase (or the user's endpoint, MFA_REQUIRED_LOCALSTACK_ENDPOINT)."""
        external = bool(os.environ.get(ENDPOINT_ENV))
        start = time.perf_counter()
        with localstack_endpoint(self.workdir / "localstack") as endpoint:
            seconds = time.perf_counter() - start
            self.log(f"  LocalStack at {endpoint} ({seconds:.1f} s)")
            iam = client(endpoint, "iam")
            api = ApiLog(
                None if external else self.workdir / "localstack" / "localstack.log",
                None if external else localstack_pid(),
            )
            info = {
                "start_seconds": seconds,
                "external": external,
                "api_calls_counted": api.path is not None,
                "cpu_measured": api.pid is not None,
            }
            yield LocalStack(endpoint, environment(endpoint), iam, api, info)
