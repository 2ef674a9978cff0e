"""Opt-in timing log: with MFA_REQUIRED_TIMINGS=/path/file, each timed step appends one JSON line to that file."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TIMINGS_ENV = "MFA_REQUIRED_TIMINGS"


@contextmanager
def timed(command: str, cwd: str | Path) -> Iterator[None]:
    """Append {"command", "seconds", "cwd", "start"} to $MFA_REQUIRED_TIMINGS when it is set (also on failure)."""
    path, start, clock = os.environ.get(TIMINGS_ENV), time.time(), time.perf_counter()
    try:
        yield
    finally:
        if path:
            line = {"command": command, "seconds": time.perf_counter() - clock, "cwd": str(cwd), "start": start}
            with open(path, "a") as log:  # one short write in append mode: lines from parallel workers stay whole
                log.write(json.dumps(line) + "\n")
