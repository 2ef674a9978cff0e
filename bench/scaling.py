"""Scaling: attaching the policy to N users (default 10, 100, 500) - per-user attachments versus one group.

Modes (the same module, default inputs otherwise):

* users: `users = [...]` - one aws_iam_user_policy_attachment per user;
* group: `create_group = true, group_users = [...]` - one group, one group attachment, and one
  aws_iam_user_group_membership per user (non-exclusive membership, by design of the module).

For each size, each run times, per mode in turn (users, group, users, group, ...): `terraform plan` (nothing in
the state: no refresh), `terraform apply -auto-approve` (plans again, then creates), `terraform plan
-detailed-exitcode` right after (refreshes every resource; must find no change) and `terraform destroy
-auto-approve` (refreshes, then deletes). Also measured: the fixed cost of a terraform command (`terraform
version`, and a plan of a root with the provider and no resource) and the latency of one IAM API call to
LocalStack (boto3, sequential), to split the times into start-up, per-resource terraform work and API calls.
A control root without the module - a literal policy and a plain for_each of aws_iam_user_policy_attachment over
the same users - is planned in each run after the two modes: its plan against the module's shows whether the
module adds anything per user.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.context import Bench
from bench.lifecycle import STEP_TITLES, STEPS, cpu_summary, time_cycles
from bench.report import ratio, seconds, table
from bench.stats import summary
from bench.tf import ApiLog, Root, Timing, fresh_dir, provider_block
from harness.paths import REPO_ROOT
from harness.terraform import root_from_text

MODES = ("users", "group")
PHASES = STEPS
USER_PATH = "/bench/"
GROUP_NAME = "bench-mfa-required"


def user_names(count: int) -> list[str]:
    return [f"bench-user-{i:04d}" for i in range(count)]


def ensure_users(iam: Any, count: int) -> tuple[int, float]:
    """Create bench-user-0000... under /bench/ unless they exist; (how many were created, seconds)."""
    start = time.perf_counter()
    existing = {
        user["UserName"]
        for page in iam.get_paginator("list_users").paginate(PathPrefix=USER_PATH)
        for user in page["Users"]
    }
    missing = [name for name in user_names(count) if name not in existing]
    for name in missing:
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_user(UserName=name, Path=USER_PATH)
    return len(missing), time.perf_counter() - start


def config(mode: str, users: list[str]) -> str:
    names = json.dumps(users)
    arguments = (
        f"users = {names}"
        if mode == "users"
        else f"create_group = true\n  group_name   = {json.dumps(GROUP_NAME)}\n  group_users  = {names}"
    )
    return provider_block() + f'\nmodule "mfa_required" {{\n  source = "{REPO_ROOT}"\n\n  {arguments}\n}}\n'


def control_config(users: list[str]) -> str:
    return (
        provider_block()
        + f"""
resource "aws_iam_policy" "this" {{
  name_prefix = "bench-control-"
  policy = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{
      Effect    = "Deny"
      Action    = "*"
      Resource  = "*"
      Condition = {{ Bool = {{ "aws:MultiFactorAuthPresent" = "false" }} }}
    }}]
  }})
}}

resource "aws_iam_user_policy_attachment" "this" {{
  for_each = toset({json.dumps(users)})

  user       = each.value
  policy_arn = aws_iam_policy.this.arn
}}
"""
    )


def fixed_costs(workdir: Path, env: dict[str, str], api: ApiLog, iam: Any, runs: int) -> dict[str, Any]:
    """What every terraform command pays before any resource, and what one API call costs."""
    empty = Root("empty", root_from_text(fresh_dir(workdir / "empty"), provider_block()), env, api)
    version: list[float] = []
    plans: list[Timing] = []
    latency: list[float] = []
    empty.plan()  # warm-up
    calls_per_sample = 50
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(["terraform", "version"], cwd=empty.root, env=empty.env, capture_output=True, check=True)
        version.append(time.perf_counter() - start)
        plans.append(empty.plan())
        start = time.perf_counter()
        for _ in range(calls_per_sample):
            iam.list_attached_user_policies(UserName=user_names(1)[0])
        latency.append((time.perf_counter() - start) / calls_per_sample)
    return {
        "terraform_version_seconds": summary(version),
        "empty_plan_seconds": summary([p.seconds for p in plans]),
        "empty_plan_cpu_seconds": cpu_summary(plans),
        "empty_plan_api_calls": dict(plans[0].calls),
        "api_call_seconds": summary(latency),
        "api_call_measured_with": f"{calls_per_sample} sequential iam.ListAttachedUserPolicies calls (boto3)",
        "init_seconds": empty.init_seconds,
    }


def measure(
    workdir: Path,
    env: dict[str, str],
    api: ApiLog,
    iam: Any,
    sizes: list[int],
    runs_for: Callable[[int], int],
    log: Callable[[str], None],
) -> dict[str, Any]:
    created, seconds = ensure_users(iam, max(sizes))
    log(f"  users: {created} created in {seconds:.1f}s ({max(sizes) - created} existed)")
    fixed = fixed_costs(workdir, env, api, iam, runs_for(min(sizes)))
    log(
        f"  fixed cost: terraform version {fixed['terraform_version_seconds']['median']:.2f}s, "
        f"empty plan {fixed['empty_plan_seconds']['median']:.2f}s, "
        f"one API call {fixed['api_call_seconds']['median'] * 1000:.1f}ms"
    )
    results: dict[str, Any] = {}
    for size in sizes:
        runs = runs_for(size)
        roots = {
            mode: Root(
                f"{mode}-{size}",
                root_from_text(fresh_dir(workdir / f"{mode}-{size}"), config(mode, user_names(size))),
                env,
                api,
            )
            for mode in MODES
        }
        control = Root(
            f"control-{size}",
            root_from_text(fresh_dir(workdir / f"control-{size}"), control_config(user_names(size))),
            env,
            api,
        )
        control_plan: list[float] = []

        def control_run(_: int, control: Root = control, plans: list[float] = control_plan) -> str:
            plans.append(control.plan().seconds)
            return f"control plan {plans[-1]:.1f}s"

        size_start = time.perf_counter()
        log(f"  {size} users:")
        cycles = time_cycles(roots, runs, log, after_run=control_run)  # alternating: users, group, users, ...
        results[str(size)] = {
            "runs": runs,
            "wall_seconds": time.perf_counter() - size_start,
            "init_seconds": {m: roots[m].init_seconds for m in MODES},
            "seconds": {m: cycles.summaries(m) for m in MODES},
            "cpu_seconds": {m: {p: cpu_summary(cycles.timings[m][p]) for p in PHASES} for m in MODES},
            "api_calls": {m: cycles.first_calls(m) for m in MODES},
            "noop_plan_exit_codes": {m: cycles.exit_codes(m) for m in MODES},
            "control_plan_seconds": summary(control_plan),
            "users_plan_over_control_plan": summary(
                [u / c for u, c in zip(cycles.seconds("users", "plan"), control_plan, strict=True)]
            ),
            "group_over_users": {p: cycles.ratios("group", "users", p) for p in PHASES},
        }

    marginal: dict[str, dict[str, list[dict[str, Any]]]] = {m: {p: [] for p in PHASES} for m in MODES}
    for low, high in zip(sizes, sizes[1:], strict=False):
        for mode in MODES:
            for phase in PHASES:
                a = results[str(low)]["seconds"][mode][phase]["median"]
                b = results[str(high)]["seconds"][mode][phase]["median"]
                marginal[mode][phase].append({"from": low, "to": high, "ms_per_user": (b - a) / (high - low) * 1000})
    return {
        "sizes": sizes,
        "modes": list(MODES),
        "phases": list(PHASES),
        "order": "per size, each run: "
        + ", ".join(MODES)
        + " (plan, apply, no-change plan, destroy each), then the control root's plan",
        "fixed": fixed,
        "by_size": results,
        "marginal": marginal,
    }


TITLE = "Scaling with the number of users"
ON_DEMAND = True  # terraform core per instance, not this module: a stable conclusion (bench/README.md)
PHASE_TITLES = STEP_TITLES
MODE_TITLES = {"users": "per-user attachments", "group": "group + memberships"}
LARGE = 500  # sizes from here on get --large-runs runs: one run of both modes at 1,000 users takes ~10 min


def run(bench: Bench) -> dict[str, Any]:
    def runs_for(size: int) -> int:
        return bench.large_runs if size >= LARGE else bench.runs

    with bench.localstack() as localstack:
        result = measure(
            bench.workdir, localstack.env, localstack.api, localstack.iam, bench.sizes, runs_for, bench.log
        )
        return result | {"localstack": localstack.info}


def write_files(sc: dict[str, Any], out: Path) -> None:
    from bench.plot import plot  # matplotlib only when rendering

    plot(sc, out / "scaling.png")


def _calls(calls: dict[str, int]) -> int:
    return sum(calls.values())


def render(sc: dict[str, Any]) -> str:
    sizes, fixed = sc["sizes"], sc["fixed"]
    by_size = {n: sc["by_size"][str(n)] for n in sizes}
    latency = fixed["api_call_seconds"]
    parts = [
        f"Order: {sc['order']}.",
        table(
            ["Fixed cost", "Seconds"],
            [
                ["`terraform version` (no provider started)", seconds(fixed["terraform_version_seconds"])],
                ["`terraform plan`, provider and no resource", seconds(fixed["empty_plan_seconds"])],
                ["`terraform init` (once, local mirror)", f"{fixed['init_seconds']:.2f} s"],
                [
                    f"one IAM API call ({fixed['api_call_measured_with']})",
                    f"{latency['median'] * 1000:.1f} ms ({latency['min'] * 1000:.1f}–{latency['max'] * 1000:.1f})",
                ],
            ],
        ),
        table(
            ["Mode", "Phase", *(f"{n:,} users ({by_size[n]['runs']} runs)" for n in sizes)],
            [
                [MODE_TITLES[m], PHASE_TITLES[p], *(seconds(by_size[n]["seconds"][m][p]) for n in sizes)]
                for m in sc["modes"]
                for p in sc["phases"]
            ]
            + [["control (no module)", "plan", *(seconds(by_size[n]["control_plan_seconds"]) for n in sizes)]],
        ),
        table(
            ["Ratio, same run", "Phase", *(f"{n:,} users" for n in sizes)],
            [
                ["group / per-user", PHASE_TITLES[p], *(ratio(by_size[n]["group_over_users"][p]) for n in sizes)]
                for p in sc["phases"]
            ]
            + [
                [
                    "module per-user / control",
                    "plan",
                    *(ratio(by_size[n]["users_plan_over_control_plan"]) for n in sizes),
                ]
            ],
        ),
        "No-change plan exit codes (0: nothing to change): "
        + "; ".join(f"{n:,} users {by_size[n]['noop_plan_exit_codes']}" for n in sizes)
        + ".",
        "![time vs users](scaling.png)",
        table(
            ["Marginal cost, ms per user", "Phase", *(f"{a:,}→{b:,}" for a, b in zip(sizes, sizes[1:], strict=False))],
            [
                [MODE_TITLES[m], PHASE_TITLES[p], *(f"{s['ms_per_user']:.1f}" for s in sc["marginal"][m][p])]
                for m in sc["modes"]
                for p in sc["phases"]
            ],
        ),
    ]
    top = sizes[-1]
    big = by_size[top]
    header = ["Mode", "Phase", "Wall", "API calls (first run)", "× one call's latency"]
    cpu = "cpu_seconds" in big
    if cpu:
        header += ["terraform CPU", "provider CPU", "LocalStack CPU"]
    rows = []
    for m in sc["modes"]:
        for p in sc["phases"]:
            calls = _calls(big["api_calls"][m].get(p, {}))
            row = [
                MODE_TITLES[m],
                PHASE_TITLES[p],
                f"{big['seconds'][m][p]['median']:.1f} s",
                f"{calls:,}",
                f"{calls * latency['median']:.1f} s",
            ]
            if cpu:
                row += [
                    f"{big['cpu_seconds'][m][p][k]['median']:.1f} s" for k in ("terraform", "provider", "localstack")
                ]
            rows.append(row)
    parts += [f"At {top:,} users (medians):", table(header, rows)]
    return "\n\n".join(parts)
