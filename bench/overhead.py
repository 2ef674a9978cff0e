"""Module overhead: what the module costs over writing the same resources by hand.

Three roots, measured in turn within each run (module, baseline, module+account_id, module, baseline, ...):

* module: examples/basic (the module attaching its policy to the existing group "developers");
* baseline: a literal aws_iam_policy with the policy JSON, name prefix, path and description that the module's
  warm-up plan rendered, plus an aws_iam_group_policy_attachment - no module, no data sources;
* module_account_id: the module called directly with the same arguments plus account_id, so that it makes no
  sts:GetCallerIdentity lookup (examples/basic has no account_id variable).

Each run times `terraform plan`, `terraform apply -auto-approve` (which plans again, as a user's apply does) and
`terraform destroy -auto-approve`; ratios are taken per run, against the baseline of the same run.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.context import Bench
from bench.lifecycle import time_cycles
from bench.report import ratio, seconds, table
from bench.stats import summary
from bench.tf import ApiLog, Root, fresh_dir, provider_block
from harness.iam import exists
from harness.paths import EXAMPLES_DIR, REPO_ROOT
from harness.terraform import root_from_example, root_from_text

GROUP = "developers"
ACCOUNT_ID = "000000000000"  # LocalStack's default account
CONFIGS = ("module", "baseline", "module_account_id")
PHASES = ("plan", "apply", "destroy")
TARGET = 1.10  # module apply / baseline apply


def hcl_heredoc(text: str) -> str:
    """text as an HCL heredoc whose value is text itself: ${ and %{ escaped (the policy has ${aws:username})."""
    escaped = text.replace("${", "$${").replace("%{", "%%{")
    return f"<<EOT\n{escaped}\nEOT"


def baseline_config(policy: dict[str, Any]) -> str:
    return (
        provider_block()
        + f"""
resource "aws_iam_policy" "this" {{
  name_prefix = {json.dumps(policy["name_prefix"])}
  path        = {json.dumps(policy["path"])}
  description = {json.dumps(policy["description"])}
  policy      = {hcl_heredoc(policy["policy"])}
}}

resource "aws_iam_group_policy_attachment" "this" {{
  group      = {json.dumps(GROUP)}
  policy_arn = aws_iam_policy.this.arn
}}
"""
    )


def module_account_id_config() -> str:
    return (
        provider_block()
        + f"""
module "mfa_required" {{
  source = "{REPO_ROOT}"

  groups     = [{json.dumps(GROUP)}]
  account_id = {json.dumps(ACCOUNT_ID)}
}}
"""
    )


def planned_policy(root: Root) -> dict[str, Any]:
    """The aws_iam_policy a saved warm-up plan would create (untimed: it also warms the provider's files)."""
    root.run("plan", "-out=warmup.tfplan")
    shown = subprocess.run(
        ["terraform", "show", "-json", "warmup.tfplan"], cwd=root.root, env=root.env, capture_output=True, check=True
    )
    (root.root / "warmup.tfplan").unlink()
    plan = json.loads(shown.stdout)
    for change in plan["resource_changes"]:
        if change["type"] == "aws_iam_policy":
            return dict(change["change"]["after"])
    raise RuntimeError(f"{root.name}: the plan creates no aws_iam_policy")


def ensure_group(iam: Any) -> None:
    if not exists(iam.get_group, GroupName=GROUP):
        iam.create_group(GroupName=GROUP)


def measure(
    workdir: Path, env: dict[str, str], api: ApiLog, iam: Any, runs: int, log: Callable[[str], None]
) -> dict[str, Any]:
    ensure_group(iam)
    roots = {"module": Root("module", root_from_example(EXAMPLES_DIR / "basic", fresh_dir(workdir / "m")), env, api)}
    module_policy = planned_policy(roots["module"])
    roots["baseline"] = Root(
        "baseline", root_from_text(fresh_dir(workdir / "baseline"), baseline_config(module_policy)), env, api
    )
    roots["module_account_id"] = Root(
        "module_account_id", root_from_text(fresh_dir(workdir / "account"), module_account_id_config()), env, api
    )
    same_policy = {}
    for name in ("baseline", "module_account_id"):
        policy = planned_policy(roots[name])
        same_policy[name] = json.loads(policy["policy"]) == json.loads(module_policy["policy"]) and all(
            policy[k] == module_policy[k] for k in ("path", "description", "name_prefix")
        )
    if not all(same_policy.values()):
        raise RuntimeError(f"the roots do not create the same policy: {same_policy}")

    cycles = time_cycles(roots, runs, log, steps=PHASES)  # alternating: module, baseline, module_account_id, ...
    totals = {c: [sum(run) for run in zip(*(cycles.seconds(c, p) for p in PHASES), strict=True)] for c in CONFIGS}

    def ratios(config: str) -> dict[str, Any]:
        by_phase = {phase: cycles.ratios(config, "baseline", phase) for phase in PHASES}
        return by_phase | {"total": summary([a / b for a, b in zip(totals[config], totals["baseline"], strict=True)])}

    module_ratio = ratios("module")
    return {
        "runs": runs,
        "order": "each run: " + ", ".join(CONFIGS) + " (plan, apply, destroy each)",
        "init_seconds": {c: roots[c].init_seconds for c in CONFIGS},
        "same_policy": same_policy,
        "seconds": {c: cycles.summaries(c) | {"total": summary(totals[c])} for c in CONFIGS},
        "api_calls": {c: cycles.first_calls(c) for c in CONFIGS},
        "terraform_cpu_seconds": {
            c: {p: summary([t.cpu_terraform + t.cpu_provider for t in cycles.timings[c][p]]) for p in PHASES}
            for c in CONFIGS
        },
        "ratio_to_baseline": {"module": module_ratio, "module_account_id": ratios("module_account_id")},
        "target": TARGET,
        "target_met": module_ratio["apply"]["median"] <= TARGET,
    }


TITLE = "Module overhead"
ON_DEMAND = True  # a constant per command, under the run-to-run spread: a stable conclusion (bench/README.md)
TITLES = {
    "module": "module (`examples/basic`)",
    "baseline": "baseline (literal `aws_iam_policy` + `aws_iam_group_policy_attachment`)",
    "module_account_id": 'module with `account_id = "000000000000"`',
}


def run(bench: Bench) -> dict[str, Any]:
    with bench.localstack() as localstack:
        result = measure(bench.workdir, localstack.env, localstack.api, localstack.iam, bench.runs, bench.log)
        return result | {"localstack": localstack.info}


def _calls(calls: dict[str, int], prefix: str = "") -> int:
    return sum(n for op, n in calls.items() if op.startswith(prefix))


def render(o: dict[str, Any]) -> str:
    phases = ("plan", "apply", "destroy", "total")
    parts = [
        f"{o['runs']} runs; {o['order']}. Same policy planned by each root as by the module: "
        + ", ".join(f"{k} {v}" for k, v in o["same_policy"].items())
        + "; `terraform init` once per root, untimed ("
        + ", ".join(f"{k} {v:.1f} s" for k, v in o["init_seconds"].items())
        + ").",
        table(
            ["Root, wall seconds", *phases],
            [[title, *(seconds(o["seconds"][c][p]) for p in phases)] for c, title in TITLES.items()],
        ),
        table(
            ["Ratio to the baseline of the same run", *phases],
            [[TITLES[c], *(ratio(o["ratio_to_baseline"][c][p]) for p in phases)] for c in o["ratio_to_baseline"]]
            + [["target for module apply", "", f"≤ {o['target']:.2f}", "", ""]],
        ),
        table(
            ["Root, CPU seconds of terraform and provider", "plan", "apply", "destroy"],
            [
                [title, *(seconds(o["terraform_cpu_seconds"][c][p]) for p in ("plan", "apply", "destroy"))]
                for c, title in TITLES.items()
            ],
        ),
    ]
    if any(o["api_calls"][c] for c in o["api_calls"]):
        parts.append(
            table(
                ["Root, API calls (first run; of them sts:GetCallerIdentity)", "plan", "apply", "destroy"],
                [
                    [
                        title,
                        *(
                            f"{_calls(o['api_calls'][c][p])} ({_calls(o['api_calls'][c][p], 'sts.')})"
                            for p in ("plan", "apply", "destroy")
                        ),
                    ]
                    for c, title in TITLES.items()
                ],
            )
        )
    return "\n\n".join(parts)
