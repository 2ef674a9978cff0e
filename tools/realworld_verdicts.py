"""Derive the real-world corpus' expected verdicts with iam-simulate alone (never with our evaluator).

    PYTHONPATH=tests .venv/bin/python -m tools.realworld_verdicts [--write] [SLUG ...]

For each tests/data/realworld/<slug>.yaml, with `Allow *` beside the policies (harness.realworld): every candidate
door in the base context of a session without MFA and in each context the Deny statements' keys let an attacker
bring about; then, when no door opens, a broad sample (an action of each service, IAM writes, other sessions) that a
complete guard must deny explicitly. Prints the verdicts; --write replaces each file's `expected:` block.

kind, in the audit's vocabulary (README "What the audit calls covered"; mfa_required.audit.GuardKind), the first
that holds: allow-only (no Deny statement, an Allow tests an MFA key) or no-guard (no Deny statement and none), no-guard
(a door is open and no candidate is denied explicitly in the base context: nothing denies), partial (a door opens in
the base context), fail-open (a door opens only when aws:ViaAWSService is absent), conditional (a door opens for a
value, or the absence, of another key the attacker chooses), complete (no door; the sample is denied explicitly).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from harness import realworld
from harness.oracle import Oracle
from mfa_required.evaluator import Request

SAMPLES_PER_ESCAPE = 2


def verdict(oracle: Oracle, entry: realworld.Entry) -> dict[str, Any]:
    questions = realworld.door_questions(entry.policies)
    requests = [
        (entry.judged, Request(action, resource, realworld.context(overrides), realworld.ALICE))
        for action, resource, overrides in questions
    ]
    answers = oracle.decide(requests, trusting=True)
    base: list[dict[str, Any]] = []
    escapes: list[dict[str, Any]] = []
    open_in_base = set()
    for (action, resource, overrides), answer in zip(questions, answers, strict=True):
        if answer != "Allowed":
            continue
        door = {"action": action, "resource": resource, "context": dict(overrides)}
        if not overrides:
            base.append(door)
            open_in_base.add((action, resource))
        elif (action, resource) not in open_in_base:
            escapes.append(door)
    by_context: dict[str, list[dict[str, Any]]] = {}
    for door in escapes:
        by_context.setdefault(repr(door["context"]), []).append(door)
    sampled = [door for doors in by_context.values() for door in doors[:SAMPLES_PER_ESCAPE]]

    denied_in_base = any(
        answer == "ExplicitlyDenied"
        for (_, _, overrides), answer in zip(questions, answers, strict=True)
        if not overrides
    )
    fails_open = any(door["context"] == {"aws:ViaAWSService": None} for door in escapes)
    if not realworld.has_deny(entry.policies) and (base or escapes):
        kind = "allow-only" if realworld.allow_tests_mfa(entry.policies) else "no-guard"
    elif base and not escapes and not denied_in_base:
        kind = "no-guard"
    elif base:
        kind = "partial"
    elif fails_open:
        kind = "fail-open"
    elif escapes:
        kind = "conditional"
    else:
        kind = "complete"
    covered = False
    if kind == "complete":
        sample = realworld.covered_sample()
        refused: list[str] = []
        decisions = oracle.decide([(entry.judged, request) for request in sample], refusals=refused)
        escaped = [
            (r.action, r.resource, d)
            for r, d in zip(sample, decisions, strict=True)
            if d not in ("ExplicitlyDenied", "")
        ]
        print(f"{entry.slug}: {len(sample) - len(refused)} sample requests asked, {len(refused)} refused by the oracle")
        if escaped:
            raise SystemExit(f"{entry.slug}: no door among the candidates, but the sample escapes: {escaped[:5]}")
        covered = True
    return {"covered": covered, "kind": kind, "open_doors": base + sampled}


def write(slug: str, expected: dict[str, Any]) -> None:
    path = realworld.CORPUS_DIR / f"{slug}.yaml"
    text = path.read_text()
    marker = "\n# Derived with iam-simulate"
    head = text[: text.index(marker)] if marker in text else text.rstrip("\n")
    block = yaml.safe_dump({"expected": expected}, sort_keys=False, width=120, default_flow_style=None)
    path.write_text(
        head + "\n# Derived with iam-simulate by tools/realworld_verdicts.py (Allow * beside the policies).\n" + block
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="replace each file's expected: block")
    parser.add_argument("slugs", nargs="*", help="corpus files (default: all)")
    args = parser.parse_args(argv)
    with Oracle() as oracle:
        for slug in args.slugs or realworld.slugs():
            entry = realworld.load(slug)
            expected = verdict(oracle, entry)
            doors = ", ".join(
                f"{d['action']} {d['resource'].rsplit(':', 1)[-1]} {d['context'] or ''}" for d in expected["open_doors"]
            )
            print(f"{slug}: {expected['kind']} covered={expected['covered']} doors: {doors or '-'}")
            if args.write:
                write(slug, expected)
    return 0


if __name__ == "__main__":
    sys.exit(main())
