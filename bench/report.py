"""bench/results.md and bench/scaling.png from the results dictionary (bench/results.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
from matplotlib.ticker import FuncFormatter  # noqa: E402

from bench.stats import Summary, fmt  # noqa: E402

PHASE_TITLES = {"plan": "plan", "apply": "apply", "noop_plan": "no-change plan", "destroy": "destroy", "total": "total"}
MODE_TITLES = {"users": "per-user attachments", "group": "group + memberships", "control": "control (no module)"}


def seconds(s: Summary) -> str:
    return fmt(s, 2, " s")


def ratio(s: Summary) -> str:
    return fmt(s, 3)


def plot(scaling: dict[str, Any], path: Path) -> None:
    sizes = scaling["sizes"]
    colours = {"plan": "tab:blue", "apply": "tab:red", "noop_plan": "tab:green", "destroy": "tab:purple"}
    styles = {"users": ("-", "o"), "group": ("--", "s")}
    fig, ax = plt.subplots(figsize=(12, 6))
    for mode in scaling["modes"]:
        line, marker = styles[mode]
        for phase in scaling["phases"]:
            stats = [scaling["by_size"][str(n)]["seconds"][mode][phase] for n in sizes]
            medians = [s["median"] for s in stats]
            errors = [
                [m - s["min"] for m, s in zip(medians, stats, strict=True)],
                [s["max"] - m for m, s in zip(medians, stats, strict=True)],
            ]
            ax.errorbar(
                sizes,
                medians,
                yerr=errors,
                color=colours[phase],
                linestyle=line,
                marker=marker,
                capsize=3,
                label=f"{MODE_TITLES[mode]}: {PHASE_TITLES[phase]}",
            )
    fixed = scaling["fixed"]["empty_plan_seconds"]["median"]
    ax.axhline(fixed, color="grey", linestyle=":", label=f"fixed cost: plan with no resource ({fixed:.1f} s)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.set_xlabel("users the policy is attached to (log scale)")
    ax.set_ylabel("wall time, seconds (log scale; median, bars min-max)")
    runs = ", ".join(f"{n:,}: {scaling['by_size'][str(n)]['runs']} runs" for n in sizes)
    ax.set_title(f"mfa_required against LocalStack: terraform time vs users ({runs})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _pct(x: float) -> str:
    return f"{x * 100:.0f} %"


def _calls(calls: dict[str, int], prefix: str = "") -> int:
    return sum(n for op, n in calls.items() if op.startswith(prefix))


def _header(r: dict[str, Any]) -> list[str]:
    m, g = r["machine"], r["git"]
    dirty = f" (+ {g['dirty_files']} uncommitted files in the checkout)" if g["dirty_files"] else ""
    loads = "; ".join(f"{k}: {' / '.join(str(x) for x in v)}" for k, v in r["load_average"].items())
    phases = ", ".join(f"{k} {v / 60:.1f} min" for k, v in r["phase_seconds"].items())
    return [
        "# Benchmarks",
        "",
        "Written by `python -m bench` (`make bench`) from the measurements of one run; `results.json` holds every "
        "raw value. Do not edit by hand: `python -m bench --render` re-renders this file and `scaling.png` from "
        "`results.json`.",
        "",
        "| | |",
        "| --- | --- |",
        f"| Command | `{r['command']}` |",
        f"| Date | {r['date']} |",
        f"| Commit | `{g['head']}`{dirty} |",
        f"| Machine | {m['nproc']} CPUs (`nproc`), {m['memory_gib']} GiB memory, {m['cpu_model']} |",
        f"| OS | {m['os']} |",
        f"| Software | Terraform {m['terraform']}, Python {m['python']}, node {m['node']} |",
        f"| Load average (1/5/15 min) | {loads} |",
        f"| Wall time | {r['total_seconds'] / 60:.1f} min in `python -m bench` ({phases}) |",
        "",
        "**Method.** Every figure is the median of the runs shown, with (min–max). The machine is shared and noisy "
        "(see the load averages), so comparisons are never made across separate series: the two sides of each ratio "
        "are measured side by side in the same run, alternating A B A B ..., and the ratio is taken per run before "
        "its median is. One LocalStack (host mode, started once with `localstack_endpoint`) serves all terraform "
        "measurements.",
        "",
    ]


def _headline(r: dict[str, Any]) -> list[str]:
    rows = ["## Headline", "", "| Figure | Measured | Target | Met |", "| --- | --- | --- | --- |"]
    if "overhead" in r:
        o = r["overhead"]
        apply = o["ratio_to_baseline"]["module"]["apply"]
        rows.append(
            f"| Module overhead: apply time, `examples/basic` / hand-written baseline | {ratio(apply)} | "
            f"≤ {o['target']:.2f} | {'yes' if o['target_met'] else '**no**'} |"
        )
        a = o["ratio_to_baseline"]["module_account_id"]["apply"]
        rows.append(
            f"| … the same with `account_id` set (no caller-identity lookup) | {ratio(a)} | ≤ {o['target']:.2f} | "
            f"{'yes' if a['median'] <= o['target'] else '**no**'} |"
        )
    if "evaluator" in r:
        e = r["evaluator"]
        rows.append(
            f"| Evaluator speed per request, ours / iam-simulate's fastest entry point | "
            f"{fmt(e['speedup_over_oracle_unsafe'], 1, '×')} | ≥ {e['target']:.0f}× | "
            f"{'yes' if e['target_met'] else '**no**'} |"
        )
    if "scaling" in r:
        sc = r["scaling"]
        top = sc["sizes"][-1]
        for mode in sc["modes"]:
            last = sc["marginal"][mode]["apply"][-1]
            rows.append(
                f"| Apply, marginal cost per user {last['from']:,}→{last['to']:,} ({MODE_TITLES[mode]}) | "
                f"{last['ms_per_user']:.0f} ms/user | – | – |"
            )
        rows.append(
            f"| Apply at {top:,} users, group / per-user attachments | "
            f"{ratio(sc['by_size'][str(top)]['group_over_users']['apply'])} | – | – |"
        )
    if "make_test" in r:
        t = r["make_test"]
        status = "passed" if t["exit_code"] == 0 else f"**failed** (exit {t['exit_code']})"
        rows.append(
            f"| `make test` wall time (one run, set-up already done) | {t['wall_seconds'] / 60:.1f} min, {status} "
            "| – | – |"
        )
    rows.append(
        f"| `python -m bench` wall time | {r['total_seconds'] / 60:.1f} min | ≤ 25 min (aim) | "
        f"{'yes' if r['total_seconds'] <= 25 * 60 else '**no**'} |"
    )
    return [*rows, ""]


def _overhead(r: dict[str, Any]) -> list[str]:
    o = r["overhead"]
    titles = {
        "module": "module (`examples/basic`)",
        "baseline": "baseline (literal `aws_iam_policy` + `aws_iam_group_policy_attachment`)",
        "module_account_id": 'module with `account_id = "000000000000"`',
    }
    lines = [
        "## 1. Module overhead",
        "",
        f"{o['runs']} runs; order within a run: module, baseline, module with account_id, each `terraform plan`, "
        "`terraform apply -auto-approve` (which plans again, as a user's apply does) and `terraform destroy "
        "-auto-approve`. The baseline's policy JSON, name prefix, path and description are the ones the module's "
        "untimed warm-up plan rendered, written into the root as literals; each root's warm-up plan is checked to "
        f"create the same policy ({', '.join(f'{k}: {v}' for k, v in o['same_policy'].items())}). "
        "`terraform init` is not timed in the runs (once per root: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in o["init_seconds"].items())
        + ").",
        "",
        "| Root | plan | apply | destroy | plan + apply + destroy |",
        "| --- | --- | --- | --- | --- |",
    ]
    for config, title in titles.items():
        s = o["seconds"][config]
        lines.append(f"| {title} | " + " | ".join(seconds(s[p]) for p in ("plan", "apply", "destroy", "total")) + " |")
    lines += [
        "",
        "| Ratio to the baseline of the same run | plan | apply | destroy | total |",
        "| --- | --- | --- | --- | --- |",
    ]
    for config in ("module", "module_account_id"):
        s = o["ratio_to_baseline"][config]
        lines.append(
            f"| {titles[config]} | " + " | ".join(ratio(s[p]) for p in ("plan", "apply", "destroy", "total")) + " |"
        )
    if "terraform_cpu_seconds" in o:
        lines += [
            "",
            "CPU seconds of terraform and its provider processes per command (user + system):",
            "",
            "| Root | plan | apply | destroy |",
            "| --- | --- | --- | --- |",
        ]
        for config, title in titles.items():
            c = o["terraform_cpu_seconds"][config]
            lines.append(f"| {title} | " + " | ".join(seconds(c[p]) for p in ("plan", "apply", "destroy")) + " |")
    if any(o["api_calls"][c] for c in o["api_calls"]):
        lines += [
            "",
            "AWS API calls per command (LocalStack's request log, first run):",
            "",
            "| Root | plan | apply | destroy |",
            "| --- | --- | --- | --- |",
        ]
        for config, title in titles.items():
            cells = []
            for phase in ("plan", "apply", "destroy"):
                c = o["api_calls"][config][phase]
                cells.append(f"{_calls(c)} ({_calls(c, 'sts.')} sts:GetCallerIdentity)")
            lines.append(f"| {title} | " + " | ".join(cells) + " |")
    med = {c: o["seconds"][c]["apply"]["median"] for c in titles}
    lookup = med["module"] - med["module_account_id"]
    rest = med["module_account_id"] - med["baseline"]
    spread = o["seconds"]["baseline"]["apply"]["max"] - o["seconds"]["baseline"]["apply"]["min"]
    apply = o["ratio_to_baseline"]["module"]["apply"]
    verdict = (
        f"**Target met**: the module's apply takes {ratio(apply)} times the baseline's (target ≤ {o['target']:.2f})."
        if o["target_met"]
        else f"**Target not met**: the module's apply takes {ratio(apply)} times the baseline's (target ≤ "
        f"{o['target']:.2f}), a gap of {(apply['median'] - o['target']) * 100:.0f} points."
    )
    if apply["max"] > o["target"]:
        verdict += (
            f" Single runs range up to {apply['max']:.2f}: on this machine one command's time varies by about a "
            f"second from run to run (the baseline's own apply spans {spread:.1f} s), which is as much as the "
            "whole difference being measured, hence the median over alternating runs."
        )
    caveat = (
        f" These differences are smaller than the run-to-run spread of one root's apply ({spread:.1f} s), so the "
        "split is indicative only."
        if abs(med["module"] - med["baseline"]) < spread
        else ""
    )
    lines += [
        "",
        verdict,
        "",
        f"Between the medians of module and baseline apply there are {med['module'] - med['baseline']:+.2f} s; "
        f"{lookup:+.2f} s of them go away when `account_id` is given (no `aws_caller_identity` data source to "
        f"read: one `sts:GetCallerIdentity` less per command), and {rest:+.2f} s remain for loading and "
        "evaluating the module itself (variable validations, `templatefile`, preconditions, the `aws_partition` "
        f"data source, which makes no API call).{caveat} Apart from that one call, the two roots make the same "
        "API calls and create the same resources, so the module's overhead is terraform-side work paid once per "
        "command, whatever the number of users: a constant, small next to the provider's start-up (section 2) and "
        "smaller still, relatively, once the module manages more than a couple of resources.",
        "",
    ]
    return lines


def _scaling(r: dict[str, Any]) -> list[str]:
    sc = r["scaling"]
    sizes, fixed = sc["sizes"], sc["fixed"]
    latency = fixed["api_call_seconds"]
    milliseconds = fmt({k: latency[k] * 1000 for k in ("median", "min", "max")}, 1, " ms")
    lines = [
        "## 2. Scaling: 10 to 1,000 users",
        "",
        "Per-user attachments (`users = [...]`: one `aws_iam_user_policy_attachment` per user) versus one group "
        "with members (`create_group = true, group_users = [...]`: one group, one group attachment, one "
        "`aws_iam_user_group_membership` per user). The users (`bench-user-NNNN`, path `/bench/`) are created "
        "first with boto3, idempotently. Each run: per mode, alternating users, group: `terraform plan` (empty "
        "state: nothing to refresh), `terraform apply -auto-approve` (plans again, then creates), `terraform "
        "plan -detailed-exitcode` (refreshes every resource; it must find nothing to change) and `terraform "
        "destroy -auto-approve` (refreshes, then deletes); then a plan of a control root without the module (a "
        "literal policy and a plain `for_each` of `aws_iam_user_policy_attachment` over the same users).",
        "",
    ]
    runs = {n: sc["by_size"][str(n)]["runs"] for n in sizes}
    fewer = [n for n in sizes if runs[n] < max(runs.values())]
    if fewer:
        lines += [
            f"**Fewer runs at {', '.join(f'{n:,}' for n in fewer)} users ({', '.join(str(runs[n]) for n in fewer)} "
            f"instead of {max(runs.values())})**: one run of both modes at that size takes "
            + ", ".join(f"{sc['by_size'][str(n)]['wall_seconds'] / runs[n] / 60:.1f} min" for n in fewer)
            + " on this machine, so five would take the benchmark far past its 25-minute aim on their own; the "
            "figures there are the median of those runs and their (min–max), to be read with that in mind. Even "
            f"so the whole benchmark took {r['total_seconds'] / 60:.0f} min; `--large-runs 1` would save about "
            + ", ".join(f"{sc['by_size'][str(n)]['wall_seconds'] / runs[n] / 60:.0f} min" for n in fewer)
            + " more, at the price of single measurements without a spread.",
            "",
        ]
    lines += [
        "### Fixed cost of a terraform command",
        "",
        "| What | Seconds |",
        "| --- | --- |",
        f"| `terraform version` (no provider started) | {seconds(fixed['terraform_version_seconds'])} |",
        f"| `terraform plan` of a root with the provider and no resource | {seconds(fixed['empty_plan_seconds'])} |",
        f"| `terraform init` (once, providers from the local mirror) | {fixed['init_seconds']:.2f} s |",
        f"| One IAM API call to LocalStack ({fixed['api_call_measured_with']}) | {milliseconds} |",
        "",
        "### Times",
        "",
        "| Mode | Phase | " + " | ".join(f"{n:,} users ({runs[n]} runs)" for n in sizes) + " |",
        "| --- | --- |" + " --- |" * len(sizes),
    ]
    for mode in sc["modes"]:
        for phase in sc["phases"]:
            cells = [seconds(sc["by_size"][str(n)]["seconds"][mode][phase]) for n in sizes]
            lines.append(f"| {MODE_TITLES[mode]} | {PHASE_TITLES[phase]} | " + " | ".join(cells) + " |")
    lines.append(
        "| control (no module) | plan | "
        + " | ".join(seconds(sc["by_size"][str(n)]["control_plan_seconds"]) for n in sizes)
        + " |"
    )
    lines += [
        "",
        "| Ratio, same run | Phase | " + " | ".join(f"{n:,} users" for n in sizes) + " |",
        "| --- | --- |" + " --- |" * len(sizes),
    ]
    for phase in sc["phases"]:
        lines.append(
            f"| group / per-user | {PHASE_TITLES[phase]} | "
            + " | ".join(ratio(sc["by_size"][str(n)]["group_over_users"][phase]) for n in sizes)
            + " |"
        )
    lines.append(
        "| module per-user / control | plan | "
        + " | ".join(ratio(sc["by_size"][str(n)]["users_plan_over_control_plan"]) for n in sizes)
        + " |"
    )
    noop = {n: sc["by_size"][str(n)]["noop_plan_exit_codes"] for n in sizes}
    clean = all(code == 0 for n in sizes for codes in noop[n].values() for code in codes)
    lines += [
        "",
        "No-change plans: "
        + ("every one found nothing to change (exit code 0)." if clean else f"**some found changes**: {noop}"),
        "",
        "![time vs users](scaling.png)",
        "",
        "### Marginal cost per user",
        "",
        "Slope of the median between consecutive sizes, in milliseconds per user; *growth* is the second slope "
        "over the first (about 1 for linear cost, clearly above 1 for worse than linear).",
        "",
        "| Mode | Phase | "
        + " | ".join(f"{a:,}→{b:,}" for a, b in zip(sizes, sizes[1:], strict=False))
        + " | growth |",
        "| --- | --- |" + " --- |" * len(sizes),
    ]
    growth: dict[tuple[str, str], float] = {}
    for mode in sc["modes"]:
        for phase in sc["phases"]:
            slopes = sc["marginal"][mode][phase]
            g = (
                slopes[-1]["ms_per_user"] / slopes[0]["ms_per_user"]
                if len(slopes) > 1 and slopes[0]["ms_per_user"] > 0
                else float("nan")
            )
            growth[mode, phase] = g
            lines.append(
                f"| {MODE_TITLES[mode]} | {PHASE_TITLES[phase]} | "
                + " | ".join(f"{s['ms_per_user']:.1f}" for s in slopes)
                + f" | {g:.1f} |"
            )

    control = [sc["by_size"][str(n)]["control_plan_seconds"]["median"] for n in sizes]
    slopes = [(b - a) / (m - n) * 1000 for a, b, n, m in zip(control, control[1:], sizes, sizes[1:], strict=False)]
    g = slopes[-1] / slopes[0] if len(slopes) > 1 and slopes[0] > 0 else float("nan")
    growth["control", "plan"] = g
    lines.append("| control (no module) | plan | " + " | ".join(f"{x:.1f}" for x in slopes) + f" | {g:.1f} |")

    lines += _where_the_time_goes(r, growth)
    return lines


def _where_the_time_goes(r: dict[str, Any], growth: dict[tuple[str, str], float]) -> list[str]:
    sc = r["scaling"]
    sizes, fixed = sc["sizes"], sc["fixed"]
    n = sizes[-1]
    big = sc["by_size"][str(n)]
    small = sc["by_size"][str(sizes[0])]
    latency = fixed["api_call_seconds"]["median"]
    empty = fixed["empty_plan_seconds"]["median"]
    has_cpu = "cpu_seconds" in big
    lines = [
        "",
        f"### Where the time goes at {n:,} users",
        "",
        "Medians. *API calls*: counted in LocalStack's request log (first run); *× latency*: those calls times the "
        "latency of one call made alone, i.e. what they would cost one after the other (terraform runs up to 10 "
        "resource operations at once, its `-parallelism` default). CPU seconds (user + system): *terraform* is "
        "terraform's own process, *provider* the AWS provider's processes (sampled every 0.5 s: a lower bound, "
        "so *terraform* is an upper bound), *LocalStack* its server process; *CPUs busy* is their sum over the "
        f"wall time, out of {r['machine']['nproc']}.",
        "",
    ]
    if has_cpu:
        lines += [
            "| Mode | Phase | Wall | API calls | × latency | terraform CPU | provider CPU | LocalStack CPU "
            "| CPUs busy |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
    else:
        lines += ["| Mode | Phase | Wall | API calls | × latency |", "| --- | --- | --- | --- | --- |"]
    for mode in sc["modes"]:
        for phase in sc["phases"]:
            t = big["seconds"][mode][phase]["median"]
            calls = _calls(big["api_calls"][mode].get(phase, {}))
            row = f"| {MODE_TITLES[mode]} | {PHASE_TITLES[phase]} | {t:.1f} s | {calls:,} | {calls * latency:.1f} s |"
            if has_cpu:
                cpu = {k: v["median"] for k, v in big["cpu_seconds"][mode][phase].items()}
                row += (
                    f" {cpu['terraform']:.1f} s | {cpu['provider']:.1f} s | {cpu['localstack']:.1f} s | "
                    f"{sum(cpu.values()) / t:.2f} |"
                )
            lines.append(row)
    users = big["seconds"]["users"]
    control = big["control_plan_seconds"]["median"]
    refresh = users["noop_plan"]["median"] - users["plan"]["median"]
    small_share = empty / small["seconds"]["users"]["apply"]["median"]
    finite = {k: g for k, g in growth.items() if g == g}
    superlinear = [f"{MODE_TITLES[m]} {PHASE_TITLES[p]} ({g:.1f})" for (m, p), g in finite.items() if g > 1.5]
    per_user_calls = {
        mode: {p: _calls(big["api_calls"][mode].get(p, {})) / n for p in sc["phases"]} for mode in sc["modes"]
    }
    empty_cpu = ""
    if "empty_plan_cpu_seconds" in fixed:
        c = fixed["empty_plan_cpu_seconds"]
        empty_cpu = (
            f" (CPU: terraform {c['terraform']['median']:.1f} s, provider {c['provider']['median']:.1f} s: "
            "loading and exchanging the provider's schema)"
        )
    lines += [
        "",
        "What this shows:",
        "",
        "* **Provider start-up is the floor.** `terraform version` takes "
        f"{fixed['terraform_version_seconds']['median']:.2f} s, but any command that loads the AWS provider takes "
        f"{empty:.1f} s even with no resource and no API call{empty_cpu}. At {sizes[0]:,} users that is "
        f"{_pct(small_share)} of a per-user apply: small configurations are mostly start-up, and so is the "
        "module's constant overhead (section 1).",
    ]
    if has_cpu:
        apply = {k: v["median"] for k, v in big["cpu_seconds"]["users"]["apply"].items()}
        wall = users["apply"]["median"]
        lines.append(
            f"* **At {n:,} users terraform itself is the bottleneck, on CPU.** In the per-user apply "
            f"({wall:.0f} s), terraform's own process uses {apply['terraform']:.0f} CPU-seconds, the provider "
            f"{apply['provider']:.0f} and LocalStack {apply['localstack']:.0f}: "
            f"{sum(apply.values()) / wall:.1f} of {r['machine']['nproc']} CPUs busy, most of it terraform core "
            "walking, planning and writing state for each instance, not waiting for API answers."
        )
    lines += [
        f"* **The fresh plan makes no API call per user**, only terraform work: {users['plan']['median']:.1f} s at "
        f"{n:,} users, against {control:.1f} s for the control root without the module "
        f"(per-run ratio {ratio(big['users_plan_over_control_plan'])}). The module adds nothing per user that a "
        "plain `for_each` does not cost.",
        f"* **Refresh** (the no-change plan minus the fresh plan) costs {refresh:.1f} s at {n:,} users, "
        f"{refresh / n * 1000:.1f} ms per user: one read per resource (`ListAttachedUserPolicies` per "
        "attachment, `ListGroupsForUser` per membership).",
        "* **API calls per user**: "
        + "; ".join(
            f"{MODE_TITLES[m]}: " + ", ".join(f"{PHASE_TITLES[p]} {v:.1f}" for p, v in per_user_calls[m].items())
            for m in sc["modes"]
        )
        + ". Apply creates and reads back each attachment or membership; destroy refreshes, then deletes. Both "
        "modes make the same number of calls per user, so neither is cheaper on the API side. At "
        f"{latency * 1000:.1f} ms a call, even one after the other they would take a fraction of the wall time.",
        "* **`-parallelism=10` is not the limit here.** Ten operations in flight would hide API latency, but the "
        f"work is CPU in terraform's process on a {r['machine']['nproc']}-CPU machine shared with the provider "
        "and LocalStack, so more parallelism would not help. Against real IAM (tens of milliseconds per call, "
        "and request-rate limits) the API share would be larger and the default of 10 would matter more, up to "
        "IAM's throttling.",
    ]
    if superlinear:
        lines.append(
            f"* **Worse than linear**: the per-user slope grows between the size ranges (growth above 1.5) for "
            f"{', '.join(superlinear)}. The slope over the small sizes is measured on differences of a few tenths "
            "of a second, so the growth factors are rough, but the direction is clear, and the control root "
            "without the module shows it too: this is terraform's cost per resource instance rising with the "
            "number of instances, not something the module adds. It is consistent with what Terraform's pull "
            "request hashicorp/terraform#37154 (merged May 2025, after the 1.11 release measured here) describes: "
            "looking up one instance's planned change scanned the changes of all instances, n² over a plan."
        )
    else:
        lines.append("* **About linear**: no phase's per-user slope grows by more than 1.5× between the size ranges.")
    destroy = sc["by_size"][str(n)]["group_over_users"]["destroy"]
    if destroy["median"] < 0.85:
        lines.append(
            f"* **Destroy is where the modes differ most**: group / per-user {ratio(destroy)} at {n:,} users, with "
            "the same number of API calls. One structural difference is that the per-user attachments have "
            "`create_before_destroy` (so that a rename never leaves a user without the policy) and the "
            "memberships do not, which gives terraform's destroy graph more to order per instance; a likely "
            "cause, not measured separately here; the two modes' destroy slopes grow alike (table above), so it "
            "would be a constant factor per instance, not worse growth."
        )
    lines += [
        "* **Nothing in the module is worse than linear by itself.** `users`, `groups` and `group_users` are "
        "`set(string)` used directly as `for_each`: one instance per element, keyed by name, so adding a user "
        "adds one instance and changes no other. Their validations are one regex per element. The group mode has "
        "one `aws_iam_user_group_membership` per user, the same instance count as the per-user attachments, plus "
        "one group and one attachment: it costs about the same, not less. A single exclusive "
        "`aws_iam_group_membership` holding every user would be one instance and one read, but it removes "
        "members added outside terraform, which the module deliberately does not do.",
        "",
    ]
    return lines


def _evaluator(r: dict[str, Any]) -> list[str]:
    e = r["evaluator"]
    rps = e["requests_per_second"]
    lines = [
        "## 3. Evaluator versus oracle",
        "",
        f"{e['requests']:,} requests, the same for both: "
        + ", ".join(f"{v:,} {k}" for k, v in e["corpus"].items())
        + f" (seed {e['seed']}: random persona, user with random name, IAM path and unique ID, action among the "
        "matrix rows and the module's other actions, target user, and policy alone or beside `Allow *`). Our "
        "evaluator runs in-process with each policy set compiled once (`PolicySet`); iam-simulate runs in one "
        "node process (`tests/oracle/bench.mjs`). Excluded on both sides: process start-up, module loading, "
        "building the requests, compiling our policies, and the first request (iam-simulate loads the catalog "
        "files it needs then). "
        f"{e['rounds']} rounds, alternating ours and iam-simulate's fastest entry point, `runUnsafeSimulation` "
        "(synchronous, no validation; it parses the policies on each call, the library offers no compiled form).",
        "",
        "| | Requests per second | Seconds for all requests |",
        "| --- | --- | --- |",
        f"| ours (`PolicySet.evaluate`) | {fmt(rps['ours'], 0)} | {seconds(e['seconds']['ours'])} |",
        f"| iam-simulate `runUnsafeSimulation` | {fmt(rps['oracle_unsafe'], 0)} | "
        f"{seconds(e['seconds']['oracle_unsafe'])} |",
        f"| iam-simulate `runSimulation` (validating; what the oracle tests use), measured once | "
        f"{e['oracle_safe_once']['requests_per_second']:,.0f} | {e['oracle_safe_once']['seconds']:.2f} s |",
        "",
        f"Speed-up per request, ours over `runUnsafeSimulation` (per round: its seconds / ours): "
        f"**{fmt(e['speedup_over_oracle_unsafe'], 1, '×')}**, target ≥ {e['target']:.0f}×: "
        + ("**met**." if e["target_met"] else "**not met**.")
        + f" Over the validating `runSimulation`, once: {e['oracle_safe_once']['speedup_once']:.1f}×.",
        "",
        "Both entry points answered every request"
        + (
            " without error"
            if e["oracle_errors"] == 0 and e["oracle_safe_once"]["errors"] == 0
            else " (**with errors**)"
        )
        + "; decisions compared with ours: "
        + "; ".join(
            f"{k.replace('oracle_', '')}: {v['agree']:,} agree, {v['differ']:,} differ"
            + (f" ({v['differences_by_action']})" if v["differ"] else "")
            for k, v in e["agreement"].items()
        )
        + f". Our decisions: {', '.join(f'{k} {v:,}' for k, v in sorted(e['decisions'].items()))}.",
        "",
    ]
    return lines


def _make_test(r: dict[str, Any]) -> list[str]:
    t = r["make_test"]
    status = "passed" if t["exit_code"] == 0 else f"**failed with exit code {t['exit_code']}**"
    share = ""
    pytest_wall = t["make_phases"].get("pytest")
    if pytest_wall:
        tf = t["commands"]["all terraform commands"]["wall_seconds"]
        tests = sum(g["call_seconds"] for g in t["tests"].values())
        share = (
            f"At least one terraform command was running during {tf:.0f} s of pytest's {pytest_wall:.0f} s "
            f"({_pct(tf / pytest_wall)}): the suite is bound by terraform, while the evaluator and oracle tests "
            f"take {tests:.0f} worker-seconds in all. "
        )
    lines = [
        "## 4. `make test` by phase",
        "",
        f"One run (not five: it takes minutes, and the point is where its time goes), set-up already done: "
        f"{t['wall_seconds'] / 60:.1f} min wall, {status}. {share}Make's phases are timed from its `==>` lines; inside "
        "pytest, the harness's opt-in timing log (`MFA_REQUIRED_TIMINGS`, `src/mfa_required/timings.py`) gives "
        "each terraform command and LocalStack start, and pytest's `--durations=0` each test's setup and call. "
        f"pytest runs on {t['pytest_workers']} xdist workers, so terraform commands overlap: *worker-seconds* "
        "add up each command, *wall* counts the seconds during which at least one was running.",
        "",
        "| Phase | Wall seconds |",
        "| --- | --- |",
    ]
    for name, value in t["make_phases"].items():
        lines.append(f"| {name} | {value:.1f} |" if value is not None else f"| {name} | – |")
    lint = [(n, s) for n, s in t["make_steps"] if n in ("fmt", "validate", "checkov", "ruff", "mypy", "docs")]
    if lint:
        lines.append("| … lint steps: " + ", ".join(f"{n} {s:.1f} s" for n, s in lint) + " | |")
    lines += ["", "Inside pytest:", "", "| Part | Count | Worker-seconds | Wall seconds |", "| --- | --- | --- | --- |"]
    for name, c in t["commands"].items():
        if name == "other terraform commands" and not c["count"]:
            continue
        lines.append(f"| {name} | {c['count']} | {c['worker_seconds']:.1f} | {c['wall_seconds']:.1f} |")
    for name, g in t["tests"].items():
        lines.append(f"| {name} ({', '.join(f'`{f}`' for f in g['files'])}), call | – | {g['call_seconds']:.1f} | – |")
    lines += [
        "",
        "Per test file (seconds summed over its tests; a session fixture's terraform work lands in the setup of "
        "the first test that needs it):",
        "",
        "| File | Setup | Call | Teardown |",
        "| --- | --- | --- | --- |",
    ]
    for name, d in t["tests_by_file"].items():
        lines.append(f"| `{name}` | {d['setup']:.1f} | {d['call']:.1f} | {d['teardown']:.1f} |")
    if t["tail"]:
        lines += ["", "End of the output of the failed run:", "", "```", *t["tail"], "```"]
    lines.append("")
    return lines


def markdown(r: dict[str, Any]) -> str:
    lines = _header(r) + _headline(r)
    if "overhead" in r:
        lines += _overhead(r)
    if "scaling" in r:
        lines += _scaling(r)
    if "evaluator" in r:
        lines += _evaluator(r)
    if "make_test" in r:
        lines += _make_test(r)
    return "\n".join(lines).rstrip() + "\n"
