"""The `mfa-required` command line."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mfa_required import matrix
from mfa_required.evaluator import Request, cached_policy_set


def _evaluate_line(line: str) -> dict[str, Any]:
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as e:
        return {"error": f"invalid JSON: {e}"}
    if not isinstance(doc, dict):
        return {"error": "each line must be a JSON object"}
    missing = [k for k in ("policies", "action", "resource") if k not in doc]
    if missing:
        return {"error": f"missing field(s): {', '.join(missing)}"}
    if not isinstance(doc["policies"], list):
        return {"error": "policies must be a list"}
    if not isinstance(doc["action"], str) or not isinstance(doc["resource"], str):
        return {"error": "action and resource must be strings"}
    context = doc.get("context", {})
    if not isinstance(context, dict):
        return {"error": "context must be an object"}
    try:
        # compiled sets are cached by the policies' canonical JSON, so a batch over one policy compiles it once
        policy_set = cached_policy_set(doc["policies"])
        result = policy_set.evaluate(Request(doc["action"], doc["resource"], context, doc.get("principal")))
    except ValueError as e:  # PolicyError, or a malformed context value
        return {"error": str(e)}
    matched = [
        {"policy_index": m.policy_index, "statement_index": m.statement_index, "sid": m.sid, "effect": m.effect}
        for m in result.matched
    ]
    answer: dict[str, Any] = {"decision": result.decision, "matched": matched}
    if result.note:
        answer["note"] = result.note
    return answer


def evaluate_command(args: argparse.Namespace) -> int:
    """Read request JSON lines on stdin; write one decision (or error) JSON line per request, flushed."""
    for line in iter(sys.stdin.readline, ""):
        if line.strip():
            sys.stdout.write(json.dumps(_evaluate_line(line)) + "\n")
            sys.stdout.flush()
    return 0


def matrix_command(args: argparse.Namespace) -> int:
    """Print the access matrix of a policy file."""
    policy = json.loads(Path(args.policy).read_text())
    result = matrix.compute(policy, args.account, args.partition)
    sys.stdout.write(matrix.render_json(result) if args.format == "json" else matrix.render_markdown(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mfa-required")
    commands = parser.add_subparsers(dest="command", required=True)

    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate IAM requests read as JSON lines on stdin",
        description=(
            'Each stdin line: {"policies": [...], "principal": "arn:...", "action": "...", "resource": "...", '
            '"context": {"key": "value" or ["values"]}}. Each stdout line: {"decision": ..., "matched": [...]} '
            'or {"error": "..."}.'
        ),
    )
    evaluate.set_defaults(func=evaluate_command)

    matrix_parser = commands.add_parser(
        "matrix",
        help="print which persona may do what under a policy (alone, and with Allow * beside it)",
        description="Account and partition default to those in the policy's ARNs, else 123456789012 and aws.",
    )
    matrix_parser.add_argument("policy", metavar="POLICY.json")
    matrix_parser.add_argument("--account", help="account ID of the requests' ARNs")
    matrix_parser.add_argument("--partition", help="partition of the requests' ARNs (aws, aws-cn, aws-us-gov)")
    matrix_parser.add_argument("--format", choices=["markdown", "json"], default="markdown")
    matrix_parser.set_defaults(func=matrix_command)

    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
