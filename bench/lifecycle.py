"""The terraform life cycle of a few roots, timed in turn: the loop the on-demand phases (overhead, scaling,
accounts) share.

Each run takes every root through its steps (by default plan with an empty state, apply, a no-change plan right
after the apply, destroy), one root after the other (A B C A B C ...), so that the roots of one run meet the same
machine: comparisons are made within a run. A failed step destroys what its root left behind and is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.stats import Summary, summary
from bench.tf import Root, Timing

STEPS = ("plan", "apply", "noop_plan", "destroy")
STEP_TITLES = {"plan": "plan", "apply": "apply", "noop_plan": "no-change plan", "destroy": "destroy"}


@dataclass
class Cycles:
    """What `time_cycles` measured: per root and step, one Timing per run; the state's size after each apply."""

    steps: tuple[str, ...]
    timings: dict[str, dict[str, list[Timing]]]
    state_bytes: dict[str, list[int]] = field(default_factory=dict)

    def seconds(self, root: str, step: str) -> list[float]:
        return [t.seconds for t in self.timings[root][step]]

    def summaries(self, root: str) -> dict[str, Summary]:
        return {step: summary(self.seconds(root, step)) for step in self.steps}

    def first_calls(self, root: str) -> dict[str, dict[str, int]]:
        """The API calls of each step in the first run, by operation."""
        return {step: dict(sorted(self.timings[root][step][0].calls.items())) for step in self.steps}

    def exit_codes(self, root: str, step: str = "noop_plan") -> list[int]:
        return [t.exit_code for t in self.timings[root][step]]

    def ratios(self, root: str, baseline: str, step: str) -> Summary:
        """root / baseline, run by run."""
        pairs = zip(self.seconds(root, step), self.seconds(baseline, step), strict=True)
        return summary([a / b for a, b in pairs])


def time_cycles(
    roots: Mapping[str, Root],
    runs: int,
    log: Callable[[str], None],
    steps: Sequence[str] = STEPS,
    after_run: Callable[[int], str] | None = None,
) -> Cycles:
    """`runs` runs of every root's steps, alternating roots; `after_run(i)` (e.g. a control measurement) returns a
    note for the run's log line."""
    cycles = Cycles(tuple(steps), {name: {step: [] for step in steps} for name in roots}, {name: [] for name in roots})
    for i in range(runs):
        for name, root in roots.items():
            try:
                for step in steps:
                    cycles.timings[name][step].append(getattr(root, step)())
                    if step == "apply":
                        cycles.state_bytes[name].append((root.root / "terraform.tfstate").stat().st_size)
            except Exception:
                root.cleanup()
                raise
        note = after_run(i) if after_run else ""
        log(
            f"  run {i + 1}/{runs}: "
            + "; ".join(
                f"{name} " + " ".join(f"{step} {cycles.timings[name][step][-1].seconds:.1f}s" for step in steps)
                for name in roots
            )
            + (f"; {note}" if note else "")
        )
    return cycles


def cpu_summary(timings: list[Timing]) -> dict[str, Any]:
    return {
        "terraform": summary([t.cpu_terraform for t in timings]),
        "provider": summary([t.cpu_provider for t in timings]),
        "localstack": summary([t.cpu_localstack for t in timings]),
    }
