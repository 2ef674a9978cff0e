"""bench/scaling.png: terraform time against the number of users (scaling phase)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
from matplotlib.ticker import FuncFormatter  # noqa: E402

PHASE_TITLES = {"plan": "plan", "apply": "apply", "noop_plan": "no-change plan", "destroy": "destroy"}
MODE_TITLES = {"users": "per-user attachments", "group": "group + memberships"}


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
