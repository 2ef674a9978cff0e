"""`make bench [PHASES=a,b]`: python -m bench [--only PHASE,...] [--render] [--runs N] [--large-runs N] [--sizes ...].

Each phase is a module bench/PHASE.py with `run(bench: Bench) -> dict` (bench/context.py) and
`render(result: dict) -> str` (markdown tables). bench/results.json keeps one entry per phase, with its own date,
commit, machine, load and duration: `--only PHASE` re-runs that phase and merges it into the existing results;
`--render` only rewrites results.md (and the phases' figures) from results.json. Register a phase in PHASES; a
module with `ON_DEMAND = True` runs only when named (`--only`), its committed results and conclusion standing.
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
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import accounts, audit, evaluator, make_test, overhead, report, scaling, scp
from bench.context import Bench
from bench.tf import load_average
from harness.paths import BUILD_DIR, REPO_ROOT

# Phases in the order they run and appear in results.md.
PHASES: dict[str, ModuleType] = {
    "overhead": overhead,
    "scaling": scaling,
    "accounts": accounts,
    "evaluator": evaluator,
    "audit": audit,
    "scp": scp,
    "make-test": make_test,
}
OUT = REPO_ROOT / "bench"


def default_phases() -> list[str]:
    """What `make bench` runs without PHASES: the phases that measure this project's code."""
    return [name for name, module in PHASES.items() if not getattr(module, "ON_DEMAND", False)]


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


def load(out: Path) -> dict[str, Any]:
    path = out / "results.json"
    return json.loads(path.read_text()) if path.exists() else {"phases": {}}


def write_reports(results: dict[str, Any], out: Path) -> None:
    for name, entry in results["phases"].items():
        write_files = getattr(PHASES[name], "write_files", None)
        if write_files is not None:
            write_files(entry["result"], out)
    (out / "results.md").write_text(report.markdown(results, PHASES))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--large-runs", type=int, default=1, help="runs for sizes of 1,000 users and more (default 1)")
    parser.add_argument("--sizes", default="10,100,500", help="user counts of the scaling phase (default 10,100,500)")
    parser.add_argument(
        "--only",
        default=",".join(default_phases()),
        help=f"comma-separated phases (default {','.join(default_phases())}; all: {','.join(PHASES)})",
    )
    parser.add_argument("--out", type=Path, default=OUT, help="where results.* go (default bench/)")
    parser.add_argument("--render", action="store_true", help="only re-render results.md and figures")
    args = parser.parse_args(argv)
    results = load(args.out)
    if args.render:
        write_reports(results, args.out)
        return 0
    only = [p for p in args.only.split(",") if p]
    unknown = sorted(set(only) - set(PHASES))
    if unknown:
        parser.error(f"unknown phase(s) {unknown}: choose from {', '.join(PHASES)}")
    command, commit, host = the_command(argv), git(), machine()
    log(f"bench: {command}  (git {commit['head'][:12]}, load {load_average()})")
    started = time.perf_counter()
    for name in [p for p in PHASES if p in only]:  # registry order, whatever the order given
        log(f"==> {name}")
        workdir = BUILD_DIR / "bench" / name
        workdir.mkdir(parents=True, exist_ok=True)
        bench = Bench(workdir, args.runs, args.large_runs, [int(s) for s in args.sizes.split(",")], log)
        entry: dict[str, Any] = {
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "command": command,
            "options": {"runs": args.runs, "large_runs": args.large_runs, "sizes": bench.sizes},
            "git": commit,
            "machine": host,
            "load_average": {"start": load_average()},
        }
        start = time.perf_counter()
        entry["result"] = PHASES[name].run(bench)
        entry["seconds"] = time.perf_counter() - start
        entry["load_average"]["end"] = load_average()
        results["phases"][name] = entry
        results["phases"] = {p: results["phases"][p] for p in PHASES if p in results["phases"]}
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")  # after each phase
        log(f"    {name}: {entry['seconds']:.0f} s")
    write_reports(results, args.out)
    log(f"bench: {(time.perf_counter() - started) / 60:.1f} min; wrote {args.out}/results.md and results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
