"""modules/scp: the SCP's size for every combination of the behaviour inputs against AWS's 5,120 characters, and
the plan, apply and destroy of examples/organization-scp on moto's Organizations emulator.

Sizes come from one offline plan (no endpoint; the module only reads the partition) with a module block per
combination of the eight boolean inputs (256), plus what mfa_device_names "username", exempt principal patterns
and additional exempt actions cost over the defaults. Times: `runs` rounds of plan (empty state), apply, a
no-change plan and destroy of the example, on one moto server started for the phase (not timed).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from bench.context import Bench
from bench.report import seconds, table
from bench.stats import summary
from bench.tf import fresh_dir
from harness.moto import moto_server
from harness.paths import EXAMPLES_DIR, REPO_ROOT
from harness.plans import OFFLINE_PROVIDER
from harness.terraform import (
    environment,
    format_module_args,
    offline_environment,
    plan_exit_code,
    root_from_example,
    root_from_text,
    terraform,
)

MODULE = REPO_ROOT / "modules" / "scp"
LIMIT = 5120
BOOLEANS = (
    "enforce_for_programmatic_access",
    "exempt_aws_service_calls",
    "guard_credentials_from_access_keys",
    "guard_role_assumption_from_access_keys",
    "allow_password_change_without_mfa",
    "allow_list_users_without_mfa",
    "allow_login_profile_changes_without_mfa",
    "allow_mfa_removal_without_mfa",
)
EXEMPT = [f"arn:aws:iam::*:user/break-glass-{i}" for i in range(3)]  # three fit beside the defaults
ACTIONS = [f"iam:GetAccountSummary{i}" for i in range(10)]  # names of a typical length; not validated as real
EXAMPLE_STEPS = ("plan", "apply", "no-change plan", "destroy")
ON_DEMAND = True  # the size limit is a test (test_scp_module.py); the times are terraform on moto: bench/README.md

TITLE = "`modules/scp`: SCP size against 5,120 characters, and the organisation example on moto"


def combinations() -> dict[str, dict[str, Any]]:
    cases: dict[str, dict[str, Any]] = {}
    for values in itertools.product((False, True), repeat=len(BOOLEANS)):
        cases[f"c{len(cases)}"] = dict(zip(BOOLEANS, values, strict=True))
    cases["device_username"] = {"mfa_device_names": "username"}
    cases["exempt_one"] = {"exempt_principal_arns": EXEMPT[:1]}
    cases["exempt_three"] = {"exempt_principal_arns": EXEMPT}
    cases["action_one"] = {"additional_actions_without_mfa": ACTIONS[:1]}
    cases["action_ten"] = {"additional_actions_without_mfa": ACTIONS}
    cases["default"] = {}
    return cases


def sizes(bench: Bench) -> dict[str, Any]:
    cases = combinations()
    blocks = [OFFLINE_PROVIDER] + [
        f'module "{name}" {{\n  source = "{MODULE}"\n{format_module_args(inputs)}\n}}\n'
        f'output "{name}" {{\n  value = module.{name}.policy_size\n}}\n'
        for name, inputs in cases.items()
    ]
    root = root_from_text(fresh_dir(bench.workdir / "sizes"), "\n".join(blocks))
    start = time.perf_counter()
    plan = terraform(root, offline_environment()).plan(output=True)
    plan_seconds = time.perf_counter() - start
    size = {name: int(value) for name, value in plan.outputs.items()}
    combos = {name: size[name] for name in cases if name.startswith("c")}
    largest = max(combos, key=lambda name: combos[name])
    smallest = min(combos, key=lambda name: combos[name])
    per_input = {key: summary([combos[n] - combos[m] for n, m in _pairs(cases, key)]) for key in BOOLEANS}
    per_input["mfa_device_names"] = summary([size["device_username"] - size["default"]])
    return {
        "limit": LIMIT,
        "combinations": len(combos),
        "over_limit": sum(s > LIMIT for s in combos.values()),
        "default": size["default"],
        "smallest": {"size": combos[smallest], "inputs": cases[smallest]},
        "largest": {"size": combos[largest], "inputs": cases[largest]},
        "per_input": per_input,
        "per_exempt_pattern": (size["exempt_three"] - size["exempt_one"]) / 2,
        "first_exempt_pattern": size["exempt_one"] - size["default"],
        "per_additional_action": (size["action_ten"] - size["action_one"]) / 9,
        "plan_seconds": plan_seconds,
    }


def _pairs(cases: dict[str, dict[str, Any]], key: str) -> list[tuple[str, str]]:
    """(combination with the input true, the same combination with it false)."""
    index = {json.dumps(sorted(inputs.items())): name for name, inputs in cases.items() if name.startswith("c")}
    return [
        (name, index[json.dumps(sorted((inputs | {key: False}).items()))])
        for name, inputs in cases.items()
        if name.startswith("c") and inputs[key]
    ]


def example(bench: Bench) -> dict[str, Any]:
    times: dict[str, list[float]] = {step: [] for step in EXAMPLE_STEPS}
    with moto_server(bench.workdir / "moto") as server:
        env = environment(server.endpoint)
        for run in range(bench.runs):
            tf = terraform(
                root_from_example(EXAMPLES_DIR / "organization-scp", fresh_dir(bench.workdir / f"r{run}")), env
            )
            steps: dict[str, Callable[[], object]] = {
                "plan": tf.plan,
                "apply": tf.apply,
                "no-change plan": partial(plan_exit_code, tf),
                "destroy": tf.destroy,
            }
            for step, action in steps.items():
                start = time.perf_counter()
                action()
                times[step].append(time.perf_counter() - start)
            bench.log(f"  organization-scp run {run + 1}: " + ", ".join(f"{s} {t[-1]:.1f} s" for s, t in times.items()))
        errors = server.server_errors()
    return {"runs": bench.runs, "seconds": {step: summary(values) for step, values in times.items()}, "errors": errors}


def run(bench: Bench) -> dict[str, Any]:
    result = {"sizes": sizes(bench)}
    bench.log(f"  SCP sizes: {result['sizes']['smallest']['size']}–{result['sizes']['largest']['size']} of {LIMIT}")
    result["example"] = example(bench)
    return result


def render(result: dict[str, Any]) -> str:
    s = result["sizes"]
    largest = ", ".join(k for k, v in s["largest"]["inputs"].items() if v)
    e = result["example"]
    return "\n\n".join(
        [
            table(
                ["SCP size (characters, minified)", "value"],
                [
                    ["limit (AWS Organizations)", f"{s['limit']:,}"],
                    ["default inputs", f"{s['default']:,} ({s['default'] / s['limit']:.0%})"],
                    [f"smallest of {s['combinations']} combinations", f"{s['smallest']['size']:,}"],
                    [
                        f"largest ({largest or 'defaults'})",
                        f"{s['largest']['size']:,} ({s['largest']['size'] / s['limit']:.0%})",
                    ],
                    ["combinations over the limit", str(s["over_limit"])],
                    ["first exempt principal pattern (ArnNotLike block)", f"+{s['first_exempt_pattern']:,}"],
                    ["each further exempt principal pattern", f"+{s['per_exempt_pattern']:,.0f}"],
                    ["each additional exempt action (22-character name)", f"+{s['per_additional_action']:,.0f}"],
                    ["offline plan of all combinations", f"{s['plan_seconds']:.1f} s"],
                ],
            ),
            table(
                ['Input set (true, or "username")', "size change, median (min–max) over the other inputs"],
                [
                    [f"`{key}`", f"{v['median']:+,.0f} ({v['min']:+,.0f}–{v['max']:+,.0f})"]
                    for key, v in s["per_input"].items()
                ],
            ),
            table(
                [f"examples/organization-scp on moto, {e['runs']} runs", *EXAMPLE_STEPS],
                [["wall seconds, median (min–max)", *(seconds(e["seconds"][step]) for step in EXAMPLE_STEPS)]],
            )
            + f"\n\nServer errors in moto's log: {len(e['errors'])}.",
        ]
    )
