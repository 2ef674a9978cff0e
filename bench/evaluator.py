"""Evaluator: ours (in-process, policies compiled once) versus iam-simulate (one node process), same requests.

The corpus: every access-matrix cell (matrix.cell_requests) of default.json and each example-*.json, plus
GENERATED requests over default.json with a seeded random persona, user (name, IAM path, unique ID), action,
target and mode (alone / beside Allow *). Start-up is excluded on both sides: our policies are compiled and the
requests built before the clock starts; node loads its modules, parses the requests and answers the first one
(catalog loading) before its clock starts (tests/oracle/bench.mjs). Each of ROUNDS rounds measures ours, then the
oracle's fastest entry point (runUnsafeSimulation, sync, no validation); the validating entry point the oracle
tests use (runSimulation) is measured once after them, for context and for the agreement check.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import string
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.context import Bench
from bench.report import seconds, table
from bench.stats import fmt, summary
from harness.oracle import DEFAULT_PRINCIPAL
from harness.paths import ORACLE_DIR
from mfa_required.evaluator import PolicySet, Request
from mfa_required.matrix import (
    ALLOW_ALL,
    CAROLS,
    MODES,
    OWN,
    ROWS,
    Row,
    account_and_partition,
    cell_requests,
)
from mfa_required.personas import PERSONAS, User

POLICIES_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "policies"
BENCH_SCRIPT = ORACLE_DIR / "bench.mjs"
SEED = 20260105
GENERATED = 10_000
ROUNDS = 3
TARGET = 4.0

# Actions of the module's statements that the matrix rows do not ask about, plus a few unrelated ones.
EXTRA_ACTIONS = (
    "iam:DeleteAccessKey",
    "iam:GetAccessKeyLastUsed",
    "iam:UpdateAccessKey",
    "iam:DeleteSSHPublicKey",
    "iam:GetSSHPublicKey",
    "iam:UpdateSSHPublicKey",
    "iam:DeleteSigningCertificate",
    "iam:UpdateSigningCertificate",
    "iam:DeleteServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
    "iam:UpdateServiceSpecificCredential",
    "iam:CreateUser",
    "iam:AttachUserPolicy",
    "iam:ListGroups",
    "s3:PutObject",
    "s3:ListBucket",
)
PATHS = ("/", "/", "/engineering/", "/teams/platform/")


@dataclass(frozen=True)
class Item:
    policies: str  # key into Corpus.documents
    request: Request


@dataclass
class Corpus:
    documents: dict[str, list[Mapping[str, Any]]]
    items: list[Item]
    sizes: dict[str, int]

    def wire(self) -> str:
        """The requests as simulate.mjs / bench.mjs read them (tests/oracle/README.md)."""
        lines = []
        for item in self.items:
            r = item.request
            context = {k: v if isinstance(v, str) else list(v) for k, v in r.context.items()}
            lines.append(
                json.dumps(
                    {
                        "policies": self.documents[item.policies],
                        "principal": r.principal or DEFAULT_PRINCIPAL,
                        "action": r.action,
                        "resource": r.resource,
                        "context": context,
                    }
                )
            )
        return "\n".join(lines) + "\n"


def _random_user(rng: random.Random) -> User:
    userid = "AIDA" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=17))
    return User(f"user{rng.randrange(100_000):05d}", rng.choice(PATHS), userid)


def _resource(row: Row, user: User, other: User, account: str, partition: str) -> str:
    """Row.resource with a random other user in place of carol."""
    return row.resource(user, account, partition, other=other)


def corpus() -> Corpus:
    documents: dict[str, list[Mapping[str, Any]]] = {}
    items: list[Item] = []
    sizes: dict[str, int] = {}
    names = ["default"] + sorted(p.stem for p in POLICIES_DIR.glob("example-*.json"))
    for name in names:
        policy = json.loads((POLICIES_DIR / f"{name}.json").read_text())
        account, partition = account_and_partition(policy)
        cells = cell_requests(policy, account, partition)
        for (_, _, _, mode), (_, request) in cells.items():
            key = f"{name}/{mode}"
            documents.setdefault(key, [policy, ALLOW_ALL] if mode == "beside-allow-all" else [policy])
            items.append(Item(key, request))
        sizes[f"matrix cells of {name}.json"] = len(cells)

    rng = random.Random(SEED)
    policy = json.loads((POLICIES_DIR / "default.json").read_text())
    account, partition = account_and_partition(policy)
    rows = list(ROWS) + [Row("extra", action, target) for action in EXTRA_ACTIONS for target in (OWN, CAROLS)]
    for _ in range(GENERATED):
        persona, row, mode = rng.choice(PERSONAS), rng.choice(rows), rng.choice(list(MODES))
        user, other = _random_user(rng), _random_user(rng)
        request = Request(
            row.action,
            _resource(row, user, other, account, partition),
            persona.context(user, account, partition),
            user.arn(partition, account),
        )
        items.append(Item(f"default/{mode}", request))
    sizes["generated over default.json"] = GENERATED
    return Corpus(documents, items, sizes)


def ours(corpus: Corpus) -> tuple[float, list[str]]:
    """Seconds for every request through PolicySet.evaluate, and the decisions. Compiling is not timed, nor is the
    first request (the per-action statement index fills as it goes, as iam-simulate's catalog cache does)."""
    sets = {key: PolicySet(docs) for key, docs in corpus.documents.items()}
    pairs = [(sets[item.policies], item.request) for item in corpus.items]
    pairs[0][0].evaluate(pairs[0][1])
    decisions: list[str] = []
    append = decisions.append
    start = time.perf_counter()
    for policy_set, request in pairs:
        append(policy_set.evaluate(request).decision)
    return time.perf_counter() - start, decisions


def node(args: Sequence[str], wire: str) -> dict[str, Any]:
    executable = shutil.which("node")
    if executable is None:
        raise RuntimeError("node is not on PATH")
    done = subprocess.run(
        [executable, *args], input=wire, cwd=ORACLE_DIR, capture_output=True, text=True, check=False, timeout=900
    )
    if done.returncode != 0:
        raise RuntimeError(f"node {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(log: Callable[[str], None]) -> dict[str, Any]:
    data = corpus()
    wire = data.wire()
    n = len(data.items)
    log(f"  {n} requests ({', '.join(f'{k}: {v}' for k, v in data.sizes.items())})")

    def agreement(ours_decisions: list[str], theirs: list[str]) -> dict[str, Any]:
        differ = [i for i, (a, b) in enumerate(zip(ours_decisions, theirs, strict=True)) if a != b]
        return {
            "requests": n,
            "agree": n - len(differ),
            "differ": len(differ),
            "differences_by_action": dict(Counter(data.items[i].request.action for i in differ)),
        }

    seconds: dict[str, list[float]] = {"ours": [], "oracle_unsafe": []}
    errors: list[int] = []
    agree: dict[str, Any] = {}
    ours_decisions: list[str] = []
    for round_ in range(ROUNDS):  # alternating: ours, oracle, ours, oracle, ...
        took, ours_decisions = ours(data)
        seconds["ours"].append(took)
        result = node([str(BENCH_SCRIPT), "--entry", "unsafe", *(["--decisions"] if round_ == 0 else [])], wire)
        seconds["oracle_unsafe"].append(float(result["seconds"]))
        errors.append(int(result["errors"]))
        if round_ == 0:
            agree["oracle_unsafe"] = agreement(ours_decisions, result["decisions"])
        log(
            f"  round {round_ + 1}/{ROUNDS}: ours {n / seconds['ours'][-1]:,.0f} req/s, "
            f"iam-simulate runUnsafeSimulation {n / seconds['oracle_unsafe'][-1]:,.0f} req/s"
        )
    # Once, for context and for the agreement check: the validating entry point the oracle tests use.
    safe = node([str(BENCH_SCRIPT), "--entry", "safe", "--decisions"], wire)
    agree["oracle_safe"] = agreement(ours_decisions, safe["decisions"])
    log(f"  once: iam-simulate runSimulation {n / float(safe['seconds']):,.0f} req/s")

    speedup = summary([o / u for u, o in zip(seconds["ours"], seconds["oracle_unsafe"], strict=True)])
    return {
        "requests": n,
        "corpus": data.sizes,
        "seed": SEED,
        "rounds": ROUNDS,
        "decisions": dict(Counter(ours_decisions)),
        "seconds": {k: summary(v) for k, v in seconds.items()},
        "requests_per_second": {k: summary([n / s for s in v]) for k, v in seconds.items()},
        "speedup_over_oracle_unsafe": speedup,  # per round: oracle seconds / our seconds
        "oracle_safe_once": {
            "seconds": float(safe["seconds"]),
            "requests_per_second": n / float(safe["seconds"]),
            "errors": int(safe["errors"]),
            "speedup_once": float(safe["seconds"]) / statistics.median(seconds["ours"]),
        },
        "oracle_errors": max(errors),
        "agreement": agree,
        "target": TARGET,
        "target_met": speedup["median"] >= TARGET,
    }


TITLE = "Evaluator versus oracle"


def run(bench: Bench) -> dict[str, Any]:
    return measure(bench.log)


def render(e: dict[str, Any]) -> str:
    rps = e["requests_per_second"]
    safe = e["oracle_safe_once"]
    return "\n\n".join(
        [
            f"{e['requests']:,} requests, the same for both: "
            + ", ".join(f"{v:,} {k}" for k, v in e["corpus"].items())
            + f" (seed {e['seed']}); {e['rounds']} rounds, alternating.",
            table(
                ["Entry point", "Requests per second", "Seconds for all requests"],
                [
                    ["ours (`PolicySet.evaluate`)", fmt(rps["ours"], 0), seconds(e["seconds"]["ours"])],
                    [
                        "iam-simulate `runUnsafeSimulation`",
                        fmt(rps["oracle_unsafe"], 0),
                        seconds(e["seconds"]["oracle_unsafe"]),
                    ],
                    [
                        "iam-simulate `runSimulation` (validating), once",
                        f"{safe['requests_per_second']:,.0f}",
                        f"{safe['seconds']:.2f} s",
                    ],
                ],
            ),
            table(
                ["Speed-up per request", "Measured", "Target"],
                [
                    [
                        "ours over `runUnsafeSimulation` (per round)",
                        fmt(e["speedup_over_oracle_unsafe"], 1, "×"),
                        f"≥ {e['target']:.0f}×",
                    ],
                    ["ours over `runSimulation` (once)", f"{safe['speedup_once']:.1f}×", ""],
                ],
            ),
            table(
                ["Decisions compared with ours", "Agree", "Differ", "Errors"],
                [
                    [k.replace("oracle_", ""), f"{v['agree']:,}", f"{v['differ']:,}", ""]
                    for k, v in e["agreement"].items()
                ]
                + [["errors (unsafe / safe)", "", "", f"{e['oracle_errors']} / {safe['errors']}"]],
            ),
            "Our decisions: " + ", ".join(f"{k} {v:,}" for k, v in sorted(e["decisions"].items())) + ".",
        ]
    )
