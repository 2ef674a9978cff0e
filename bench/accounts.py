"""Phase: examples/multi-account with 1, 3 and 10 member accounts in one root, against LocalStack's accounts.

Each size is a copy of examples/multi-account whose provider and module pair (the example's `development` one) is
repeated once per account, named account01, account02, ...; its terraform.tfvars.json gives each account a
12-digit id (LocalStack keeps one IAM per access key id and lets AssumeRole into any account) and one existing
user, `bench-user`, to attach the policy to. Terraform runs with a management account's credentials, as in the
example. Each run times, for each size in turn (1, 3, 10, 1, 3, 10, ...): `terraform plan` (empty state),
`terraform apply -auto-approve`, `terraform plan -detailed-exitcode` right after (refreshes every account; must
find no change) and `terraform destroy -auto-approve`; the state file's size is read after the apply.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.context import Bench
from bench.lifecycle import STEP_TITLES, STEPS, time_cycles
from bench.report import table
from bench.stats import Summary, fmt, summary
from bench.tf import ApiLog, Root, fresh_dir
from harness.localstack import client
from harness.paths import EXAMPLES_DIR, REPO_ROOT
from harness.terraform import MODULE_SOURCE, local_sources, root_from_example

EXAMPLE = EXAMPLES_DIR / "multi-account"
TEMPLATE_ACCOUNT = "development"
MANAGEMENT = "200000000000"
USER = "bench-user"
SIZES = (1, 3, 10)


def account_names(count: int) -> list[str]:
    return [f"account{i:02d}" for i in range(1, count + 1)]


def account_id(index: int) -> str:
    return f"{int(MANAGEMENT) + index:012d}"


def main_tf(count: int) -> str:
    """The example's main.tf with its provider and module pairs replaced by `count` copies of the first one."""
    main = (EXAMPLE / "main.tf").read_text()
    first = main.index(f'provider "aws" {{\n  alias               = "{TEMPLATE_ACCOUNT}"')
    end = main.index('provider "aws" {', first + 1)
    pair = main[first:end]
    head = re.sub(
        r"(?s)(  deployments = \{\n).*?(\n  \})",
        lambda m: m[1] + "\n".join(f"    {name} = module.{name}" for name in account_names(count)) + m[2],
        main[:first],
    )
    return head + "".join(pair.replace(TEMPLATE_ACCOUNT, name) for name in account_names(count)).rstrip() + "\n"


def tfvars(count: int) -> dict[str, Any]:
    return {
        "accounts": {
            name: {"account_id": account_id(i), "users": [USER]} for i, name in enumerate(account_names(count), 1)
        }
    }


def root_for(workdir: Path, count: int) -> Path:
    root = root_from_example(EXAMPLE, fresh_dir(workdir / f"{count}-accounts"))
    (root / "main.tf").write_text(local_sources(MODULE_SOURCE.sub(f'source = "{REPO_ROOT}"', main_tf(count)), root))
    (root / "terraform.tfvars.json").write_text(json.dumps(tfvars(count), indent=2))
    return root


def ensure_users(endpoint: str, count: int) -> None:
    """bench-user in each member account, created with that account's credentials unless it exists."""
    for index in range(1, count + 1):
        iam = client(endpoint, "iam", account_id(index))
        if USER not in {user["UserName"] for user in iam.list_users()["Users"]}:
            iam.create_user(UserName=USER)


def run(bench: Bench) -> dict[str, Any]:
    # Ten accounts are a large size: --large-runs (default 1) runs, about 4 minutes each.
    with bench.localstack() as localstack:
        return measure(bench.workdir, localstack.endpoint, localstack.env, localstack.api, bench.large_runs, bench.log)


def measure(
    workdir: Path,
    endpoint: str,
    env: dict[str, str],
    api: ApiLog,
    runs: int,
    log: Callable[[str], None],
    sizes: Sequence[int] = SIZES,
) -> dict[str, Any]:
    ensure_users(endpoint, max(sizes))
    management_env = env | {"AWS_ACCESS_KEY_ID": MANAGEMENT}
    roots = {str(n): Root(f"{n}-accounts", root_for(workdir, n), management_env, api) for n in sizes}
    start = time.perf_counter()
    cycles = time_cycles(roots, runs, log)  # alternating: 1, 3, 10, 1, 3, 10, ...
    by_size: dict[str, dict[str, Any]] = {
        str(n): {
            "runs": runs,
            "init_seconds": roots[str(n)].init_seconds,
            "resources": 2 * n,  # per account: the policy and one user attachment
            "seconds": cycles.summaries(str(n)),
            "state_bytes": summary(cycles.state_bytes[str(n)]),
            "api_calls": cycles.first_calls(str(n)),
            "noop_plan_exit_codes": cycles.exit_codes(str(n)),
        }
        for n in sizes
    }
    low, high = str(min(sizes)), str(max(sizes))
    per_account = {
        p: (by_size[high]["seconds"][p]["median"] - by_size[low]["seconds"][p]["median"]) / (int(high) - int(low))
        for p in STEPS
    }
    return {
        "sizes": list(sizes),
        "phases": list(STEPS),
        "order": "each run: " + ", ".join(f"{n} account(s)" for n in sizes) + " (plan, apply, no-change plan, destroy)",
        "wall_seconds": time.perf_counter() - start,
        "by_size": by_size,
        "seconds_per_added_account": per_account,
        "state_bytes_per_added_account": (
            by_size[high]["state_bytes"]["median"] - by_size[low]["state_bytes"]["median"]
        )
        / (int(high) - int(low)),
    }


def _seconds(s: Summary) -> str:
    return fmt(s, 1, " s")


TITLE = "Organisation rollout: member accounts in one root"
ON_DEMAND = True  # terraform and LocalStack per account: a stable conclusion (bench/README.md)


def render(results: dict[str, Any]) -> str:
    """Tables: time per command and state size by number of accounts, the cost of each added account, API calls."""
    sizes, phases, by_size = results["sizes"], results["phases"], results["by_size"]
    per = results["seconds_per_added_account"]
    times = table(
        ["Accounts", "Resources", *(STEP_TITLES[p] for p in phases), "State file", "No-change plan exit codes"],
        [
            [
                str(n),
                str(by_size[str(n)]["resources"]),
                *(_seconds(by_size[str(n)]["seconds"][p]) for p in phases),
                f"{by_size[str(n)]['state_bytes']['median'] / 1024:.0f} KiB",
                ", ".join(map(str, by_size[str(n)]["noop_plan_exit_codes"])),
            ]
            for n in sizes
        ]
        + [
            [
                f"each added account, {sizes[0]}→{sizes[-1]}",
                "+2",
                *(f"+{per[p]:.2f} s" for p in phases),
                f"+{results['state_bytes_per_added_account'] / 1024:.1f} KiB",
                "",
            ]
        ],
    )
    calls = table(
        ["Accounts", *(f"API calls: {STEP_TITLES[p]}" for p in phases), "sts.AssumeRole in the no-change plan"],
        [
            [
                str(n),
                *(str(sum(by_size[str(n)]["api_calls"].get(p, {}).values())) for p in phases),
                str(by_size[str(n)]["api_calls"].get("noop_plan", {}).get("sts.AssumeRole", 0)),
            ]
            for n in sizes
        ],
    )
    return f"Order: {results['order']}.\n\n{times}\n\nAPI calls of the first run:\n\n{calls}\n"
