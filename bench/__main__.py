"""`make bench`: python -m bench [--runs N] [--large-runs N] [--sizes 10,100,1000] [--only PHASES] [--out DIR].

Writes DIR/results.json, DIR/results.md and DIR/scaling.png (DIR: bench/); `--render` only re-renders results.md
and scaling.png from an existing DIR/results.json. One LocalStack serves the terraform
phases (overhead, scaling); it is stopped before the evaluator and `make test` phases, which need none of it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from bench import audit, evaluator, make_test, overhead, report, scaling
from bench.tf import ApiLog, load_average, localstack_pid
from mfa_required.localstack import ENDPOINT_ENV, localstack_endpoint
from mfa_required.paths import BUILD_DIR, REPO_ROOT
from mfa_required.terraform import environment

PHASES = ("overhead", "scaling", "evaluator", "audit", "make-test")
LARGE = 1000


def log(message: str) -> None:
    print(message, flush=True)


def command_output(*args: str) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, check=False, cwd=REPO_ROOT).stdout.strip()
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    os_release = Path("/etc/os-release").read_text() if Path("/etc/os-release").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    memory = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M)
    pretty = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', os_release, re.M)
    tf_version = json.loads(command_output("terraform", "version", "-json") or "{}")
    return {
        "nproc": command_output("nproc"),
        "memory_gib": round(int(memory[1]) / 1024**2, 1) if memory else None,
        "cpu_model": model[1].strip() if model else platform.processor(),
        "os": f"{pretty[1] if pretty else platform.system()}, kernel {platform.release()}",
        "python": platform.python_version(),
        "terraform": tf_version.get("terraform_version"),
        "node": command_output("node", "--version"),
    }


def git() -> dict[str, Any]:
    status = command_output("git", "status", "--porcelain")
    return {"head": command_output("git", "rev-parse", "HEAD"), "dirty_files": len(status.splitlines())}


def the_command(argv: list[str]) -> str:
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):  # a python outside the checkout keeps its absolute path
        python = python.relative_to(REPO_ROOT)
    direct = shlex.join([str(python), "-m", "bench", *argv])
    return f"make bench  (runs: {direct})" if os.environ.get("MAKELEVEL") else direct


def write_reports(results: dict[str, Any], out: Path) -> None:
    if "scaling" in results:
        report.plot(results["scaling"], out / "scaling.png")
    markdown = report.markdown(results)
    if "audit" in results:
        markdown += "\n" + audit.render(results["audit"])
    (out / "results.md").write_text(markdown)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument(
        "--large-runs", type=int, default=2, help=f"runs for the {LARGE:,}-user size of the scaling phase (default 2)"
    )
    parser.add_argument("--sizes", default="10,100,1000", help="user counts of the scaling phase")
    parser.add_argument("--only", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench", help="where results.* go (default bench/)")
    parser.add_argument("--render", action="store_true", help="only re-render results.md and scaling.png")
    args = parser.parse_args(argv)
    if args.render:
        write_reports(json.loads((args.out / "results.json").read_text()), args.out)
        return 0
    only = [p for p in args.only.split(",") if p]
    unknown = sorted(set(only) - set(PHASES))
    if unknown:
        parser.error(f"unknown phase(s) {unknown}: choose from {PHASES}")
    sizes = [int(s) for s in args.sizes.split(",")]
    workdir = BUILD_DIR / "bench"
    workdir.mkdir(parents=True, exist_ok=True)

    def runs_for(size: int) -> int:
        return args.large_runs if size >= LARGE else args.runs

    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": the_command(argv),
        "machine": machine(),
        "git": git(),
        "runs": args.runs,
        "large_runs": args.large_runs,
        "phases_run": only,
        "load_average": {"start": load_average()},
        "phase_seconds": {},
    }
    log(f"bench: {results['command']}  (git {results['git']['head'][:12]}, load {results['load_average']['start']})")

    def phase(name: str, body: Callable[[], Any]) -> None:
        log(f"==> {name}")
        start = time.perf_counter()
        results[name.replace("-", "_")] = body()
        results["phase_seconds"][name] = time.perf_counter() - start
        results["load_average"][f"after {name}"] = load_average()
        (workdir / "results.partial.json").write_text(json.dumps(results, indent=2))
        log(f"    {name}: {results['phase_seconds'][name]:.0f} s")

    if "overhead" in only or "scaling" in only:
        start = time.perf_counter()
        with localstack_endpoint(workdir / "localstack") as endpoint:
            results["localstack"] = {
                "start_seconds": time.perf_counter() - start,
                "external": bool(os.environ.get(ENDPOINT_ENV)),
            }
            log(f"LocalStack at {endpoint} ({results['localstack']['start_seconds']:.1f} s)")
            env = environment(endpoint)
            iam = boto3.client(
                "iam",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="test",
                aws_secret_access_key="test",
            )
            external = bool(os.environ.get(ENDPOINT_ENV))
            api = ApiLog(
                None if external else workdir / "localstack" / "localstack.log", None if external else localstack_pid()
            )
            results["localstack"]["api_calls_counted"] = api.path is not None
            results["localstack"]["cpu_measured"] = api.pid is not None
            if "overhead" in only:
                phase("overhead", lambda: overhead.run(workdir / "overhead", env, api, iam, args.runs, log))
            if "scaling" in only:
                phase("scaling", lambda: scaling.run(workdir / "scaling", env, api, iam, sizes, runs_for, log))
    if "evaluator" in only:
        phase("evaluator", lambda: evaluator.run(log))
    if "audit" in only:
        with localstack_endpoint(workdir / "localstack-audit") as audit_endpoint:
            phase("audit", lambda: audit.run(audit_endpoint, log, sizes))
    if "make-test" in only:
        phase("make-test", lambda: make_test.run(workdir / "make-test", log))

    results["total_seconds"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_reports(results, args.out)
    log(f"bench: {results['total_seconds'] / 60:.1f} min; wrote {args.out}/results.md, results.json, scaling.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
