"""`make test` by phase: from a fresh clone (every install step runs), then again in that clone (set-up done).

* make's own phases from its `==> ...` lines, time-stamped as they arrive: set-up (the install steps, each its
  own line), lint (each step of tools/lint.sh), pytest;
* inside pytest, the opt-in timing log (tests/harness/timings.py, MFA_REQUIRED_TIMINGS): one line per
  terraform command the harness runs and one per LocalStack start;
* per-test times from pytest's `--durations=0` (setup, call and teardown separately), passed in PYTEST_ADDOPTS.

The clone is of the committed HEAD (uncommitted changes are not in it), in a temporary directory outside the
checkout, removed afterwards. pytest runs on PYTEST_WORKERS (2) xdist workers, so the terraform commands of two
workers overlap: each category is given both as worker-seconds (the sum) and as wall seconds covered (the union
of its commands' intervals). Each run is made once: they take minutes, and what is wanted is where time goes.
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
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.context import Bench
from bench.report import table
from harness.paths import REPO_ROOT
from harness.timings import TIMINGS_ENV

MARKER = re.compile(r"^==> (.+?)\s*$")
DURATION = re.compile(r"^(\d+(?:\.\d+)?)s (setup|call|teardown)\s+(\S+)")
TEST_GROUPS = {
    "evaluator tests": ("tests/unit/test_evaluator.py", "tests/unit/test_personas_matrix.py"),
    "oracle tests": ("tests/unit/test_oracle.py", "tests/cli/test_oracle_matrix.py"),
}
COMMAND_GROUPS = {
    "LocalStack start": ("localstack start",),
    "terraform init": ("init",),
    "terraform plan": ("plan", "show"),  # tftest's plan(output=True) is plan -out, then show -json
    "terraform apply": ("apply",),
    "terraform destroy": ("destroy",),
    "terraform output": ("output",),
}


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def make_test(checkout: Path, workdir: Path, name: str, log: Callable[[str], None]) -> dict[str, Any]:
    """One `make test` in `checkout`, timed by phase; its transcript and timing log go to workdir/NAME.*."""
    workdir.mkdir(parents=True, exist_ok=True)
    timings, output = workdir / f"{name}.timings.jsonl", workdir / f"{name}.log"
    timings.unlink(missing_ok=True)
    env = {
        **os.environ,
        TIMINGS_ENV: str(timings),
        "PYTEST_ADDOPTS": (os.environ.get("PYTEST_ADDOPTS", "") + " --durations=0").strip(),
    }
    for name in ("MAKEFLAGS", "MAKELEVEL", "PYTHONPATH"):  # a plain `make test`, not a sub-make of `make bench`
        env.pop(name, None)
    marks: list[tuple[float, str]] = [(0.0, "start")]
    durations: list[tuple[float, str, str]] = []
    tail: list[str] = []
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    start_wall, start = time.time(), time.perf_counter()
    with open(output, "w") as transcript:
        process = subprocess.Popen(
            ["make", "test"], cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            now = time.perf_counter() - start
            transcript.write(f"{now:8.2f} {line}")
            if m := MARKER.match(line):
                marks.append((now, m[1]))
                log(f"  {now:7.1f}s ==> {m[1]}")
            elif m := DURATION.match(line):
                durations.append((float(m[1]), m[2], m[3]))
            elif re.match(r"(FAILED|ERROR) |=+ .*(passed|failed|error)|make: \*\*\*", line):
                tail.append(line.rstrip())  # failures and the summary, for the report of a failed run
        exit_code = process.wait()
    wall = time.perf_counter() - start
    # CPU time of make and everything it waited for (pytest, its workers, terraform, LocalStack): unlike the wall
    # time, it does not depend on what else the machine runs; on N idle CPUs the wall time is at least cpu / N.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    marks.append((wall, "end"))

    # make's phases: set-up until lint starts, lint steps, pytest.
    steps = [(name, b - a) for (a, name), (b, _) in zip(marks, marks[1:], strict=False)]
    lint_at = next((t for t, name in marks if name.startswith("lint")), None)  # "lint (its steps; ...)"
    pytest_at = next((t for t, name in marks if name.startswith("pytest")), None)
    make_phases = {
        "set-up (make's install steps)": lint_at if lint_at is not None else 0.0,
        "lint": (pytest_at - lint_at) if lint_at is not None and pytest_at is not None else None,
        "pytest": (wall - pytest_at) if pytest_at is not None else None,
    }

    # Inside pytest: terraform commands and LocalStack starts.
    records = [json.loads(line) for line in timings.read_text().splitlines()] if timings.exists() else []
    commands: dict[str, Any] = {}
    for group, names in COMMAND_GROUPS.items():
        chosen = [r for r in records if r["command"] in names]
        commands[group] = {
            "count": len(chosen),
            "worker_seconds": sum(r["seconds"] for r in chosen),
            "wall_seconds": union_seconds([(r["start"], r["start"] + r["seconds"]) for r in chosen]),
        }
    other = [r for r in records if not any(r["command"] in names for names in COMMAND_GROUPS.values())]
    commands["other terraform commands"] = {
        "count": len(other),
        "worker_seconds": sum(r["seconds"] for r in other),
        "wall_seconds": union_seconds([(r["start"], r["start"] + r["seconds"]) for r in other]),
        "commands": sorted({r["command"] for r in other}),
    }
    terraform_records = [r for r in records if r["command"] != "localstack start"]
    commands["all terraform commands"] = {
        "count": len(terraform_records),
        "worker_seconds": sum(r["seconds"] for r in terraform_records),
        "wall_seconds": union_seconds([(r["start"], r["start"] + r["seconds"]) for r in terraform_records]),
    }

    # Per-test times: by file, and the evaluator and oracle groups.
    by_file: dict[str, dict[str, float]] = defaultdict(lambda: {"setup": 0.0, "call": 0.0, "teardown": 0.0})
    for seconds, when, nodeid in durations:
        by_file[nodeid.split("::")[0]][when] += seconds
    tests = {
        group: {
            "call_seconds": sum(by_file[f]["call"] for f in files if f in by_file),
            "setup_seconds": sum(by_file[f]["setup"] for f in files if f in by_file),
            "files": list(files),
        }
        for group, files in TEST_GROUPS.items()
    }
    return {
        "exit_code": exit_code,
        "started": start_wall,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "make_phases": make_phases,
        "make_steps": steps,
        "commands": commands,
        "tests": tests,
        "tests_by_file": dict(sorted(by_file.items(), key=lambda kv: -sum(kv[1].values()))),
        "transcript": output.relative_to(REPO_ROOT).as_posix(),
        "tail": tail[-40:] if exit_code else [],
        "pytest_workers": int(os.environ.get("PYTEST_WORKERS", "2")),
    }


TITLE = "`make test` by phase"
RUNS = {"fresh_clone": "fresh clone", "setup_done": "same clone, set-up done"}
TITLES = RUNS | {"checkout": "the checkout, set-up done"}  # results from before the fresh-clone runs


def run(bench: Bench) -> dict[str, Any]:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    parent = Path(tempfile.mkdtemp(prefix="mfa-required-make-test-"))
    try:
        clone = parent / "mfa_required"
        subprocess.run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], check=True)
        result: dict[str, Any] = {"commit": head}
        for name, title in RUNS.items():
            bench.log(f"  make test, {title}")
            result[name] = make_test(clone, bench.workdir, name, bench.log)
        return result
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _minutes(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s ({value / 60:.1f} min)"


def render(result: dict[str, Any]) -> str:
    runs = {title: result[name] for name, title in TITLES.items() if name in result}
    where = "cloned to a temporary directory" if "fresh_clone" in result else "run in the checkout"
    parts = [
        f"Commit `{result['commit'][:12]}`, {where}; pytest on {next(iter(runs.values()))['pytest_workers']} "
        "xdist workers.",
        table(
            ["Run", "Exit code", "Wall", "CPU (user + system, all processes)", "set-up", "lint", "pytest"],
            [
                [
                    title,
                    str(t["exit_code"]),
                    _minutes(t["wall_seconds"]),
                    _minutes(t.get("cpu_seconds")),
                    *(_minutes(t["make_phases"][k]) for k in ("set-up (make's install steps)", "lint", "pytest")),
                ]
                for title, t in runs.items()
            ],
        ),
    ]
    steps = {title: dict(t["make_steps"]) for title, t in runs.items()}
    names = list(dict.fromkeys(name for t in runs.values() for name, _ in t["make_steps"] if name != "start"))
    parts.append(
        table(
            [
                "make step (from its `==>` line to the next; lint's steps run side by side, each shown once it and the "
                "steps before it have ended)",
                *runs,
            ],
            [
                [name, *(f"{steps[title][name]:.1f} s" if name in steps[title] else "–" for title in runs)]
                for name in names
            ],
        )
    )
    parts.append(
        table(
            ["Inside pytest", *(f"{title}: count / worker-s / wall-s" for title in runs)],
            [
                [name, *(f"{c['count']} / {c['worker_seconds']:.1f} / {c['wall_seconds']:.1f}" for c in cells)]
                for name in next(iter(runs.values()))["commands"]
                if (cells := [t["commands"][name] for t in runs.values() if name in t["commands"]])
            ],
        )
    )
    last_title, last = list(runs.items())[-1]
    parts.append(
        table(
            [f"Test file ({last_title}), seconds", "Setup", "Call", "Teardown"],
            [
                [f"`{name}`", f"{d['setup']:.1f}", f"{d['call']:.1f}", f"{d['teardown']:.1f}"]
                for name, d in last["tests_by_file"].items()
            ],
        )
    )
    for title, t in runs.items():
        if t["tail"]:
            parts += [f"End of the output of the failed run ({title}):", "```\n" + "\n".join(t["tail"]) + "\n```"]
    return "\n\n".join(parts)
