"""bench/results.md and bench/scaling.png from the results dictionary (bench/results.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first

from bench.stats import Summary, fmt  # noqa: E402

PHASE_TITLES = {"plan": "plan", "apply": "apply", "noop_plan": "no-change plan", "destroy": "destroy", "total": "total"}
MODE_TITLES = {"users": "per-user attachments", "group": "group + memberships"}


def seconds(s: Summary) -> str:
    return fmt(s, 2, " s")


def ratio(s: Summary) -> str:
    return fmt(s, 3)


def plot(scaling: dict[str, Any], path: Path) -> None:
    sizes = scaling["sizes"]
    colours = {"plan": "tab:blue", "apply": "tab:red", "noop_plan": "tab:green", "destroy": "tab:purple"}
    styles = {"users": ("-", "o"), "group": ("--", "s")}
    fig, ax = plt.subplots(figsize=(9, 6))
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
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.set_xlabel("users the policy is attached to (log scale)")
    ax.set_ylabel("wall time, seconds (log scale; median, bars min-max)")
    runs = ", ".join(f"{n:,}: {scaling['by_size'][str(n)]['runs']} runs" for n in sizes)
    ax.set_title(f"mfa_required against LocalStack: terraform time vs users ({runs})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(results: dict[str, Any]) -> str:
    return "# Benchmarks\n"
