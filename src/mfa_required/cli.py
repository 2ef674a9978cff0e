"""The `mfa-required` command line."""

import argparse
import getpass
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mfa_required import audit, matrix, scp
from mfa_required.evaluator import Request, cached_policy_set, evaluate_with_scps


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
    if "scps" in doc:
        return _evaluate_with_scps(doc, context)
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


def _evaluate_with_scps(doc: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """A request line with "scps": the SCP levels on the account's path, root first (FullAWSAccess is not added)."""
    levels = doc["scps"]
    if not isinstance(levels, list) or not all(isinstance(level, list) for level in levels):
        return {"error": "scps must be a list of levels (root first), each a list of policies"}
    try:
        request = Request(doc["action"], doc["resource"], context, doc.get("principal"))
        result = evaluate_with_scps(doc["policies"], request, levels)
    except ValueError as e:  # PolicyError, or a malformed context value
        return {"error": str(e)}
    answer: dict[str, Any] = {
        "decision": result.decision,
        "matched": [
            {"policy_index": m.policy_index, "statement_index": m.statement_index, "sid": m.sid, "effect": m.effect}
            for m in result.matched
        ],
        "scp_matched": [
            {
                "level": m.level,
                "policy_index": m.match.policy_index,
                "statement_index": m.match.statement_index,
                "sid": m.match.sid,
                "effect": m.match.effect,
            }
            for m in result.scp_matched
        ],
    }
    if result.denied_at is not None:
        answer["denied_at_level"] = result.denied_at
    if result.note:
        answer["note"] = result.note
    return answer


def _line_batches(stream: Any) -> Iterator[list[str]]:
    """Stdin's complete lines, as many as have arrived at each read (a read returns what is there, never waits
    for more), so a caller that writes one line and waits gets its answer, and a pipe is answered in batches."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        fd = None
    if fd is None:
        for line in iter(stream.readline, ""):
            yield [line]
        return
    pending = b""
    while chunk := os.read(fd, 1 << 16):
        *lines, pending = (pending + chunk).split(b"\n")
        if lines:
            yield [line.decode("utf-8", errors="replace") for line in lines]
    if pending:
        yield [pending.decode("utf-8", errors="replace")]


def evaluate_command(args: argparse.Namespace) -> int:
    """Read request JSON lines on stdin; write one decision (or error) JSON line per request, flushed per batch."""
    for batch in _line_batches(sys.stdin):
        answers = [json.dumps(_evaluate_line(line)) + "\n" for line in batch if line.strip()]
        if answers:
            sys.stdout.write("".join(answers))
            sys.stdout.flush()
    return 0


def matrix_command(args: argparse.Namespace) -> int:
    """Print the access matrix of a policy file, or of a service control policy (--scp)."""
    if (args.policy is None) == (args.scp is None):
        print("mfa-required matrix: give a policy file or --scp FILE (one of them)", file=sys.stderr)
        return 2
    policy = json.loads(Path(args.scp or args.policy).read_text())
    compute = scp.compute if args.scp else matrix.compute
    result = compute(policy, args.account, args.partition)
    fmt = args.format or ("table" if sys.stdout.isatty() else "markdown")
    if fmt == "table":
        matrix.render_table(result, sys.stdout)
    else:
        sys.stdout.write(matrix.render_json(result) if fmt == "json" else matrix.render_markdown(result))
    return 0


def audit_command(args: argparse.Namespace) -> int:
    """Audit the account (or accounts): print the report, exit by --fail-on; errors in one sentence, exit 2."""
    if args.print_policy:
        sys.stdout.write(json.dumps(audit.least_privilege_policy(), indent=2) + "\n")
        return 0
    options = audit.Options(
        endpoint_url=args.endpoint_url,
        profile=args.profile,
        region=args.region,
        fmt=args.format or ("table" if sys.stdout.isatty() else "json"),
        fail_on=args.fail_on,
        role_arn=args.role_arn,
        accounts=args.accounts,
        concurrency=args.concurrency,
        page_size=args.page_size,
        report_timeout=args.report_timeout,
        account_timeout=args.account_timeout,
        verify_passwords=args.verify_passwords,
        external_id=args.external_id,
        session_name=args.session_name,
        duration=args.duration,
        mfa_serial=args.mfa_serial,
        token_code=args.token_code,
    )
    try:
        reports, multi = audit.run(options, prompt=getpass.getpass if sys.stdin.isatty() else None)
    except audit.AuditError as e:
        print(f"mfa-required audit: {e}", file=sys.stderr)
        return 2
    audit.render(reports, options.fmt, multi, sys.stdout)
    return audit.exit_status(reports, options.fail_on)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mfa-required")
    commands = parser.add_subparsers(dest="command", required=True)

    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate IAM requests read as JSON lines on stdin",
        description=(
            'Each stdin line: {"policies": [...], "principal": "arn:...", "action": "...", "resource": "...", '
            '"context": {"key": "value" or ["values"]}}, optionally with "scps": [[...], ...], the service control '
            "policies at each level from the organization root to the account (FullAWSAccess is not added). Each "
            'stdout line: {"decision": ..., "matched": [...]} (with SCPs also "scp_matched" and '
            '"denied_at_level") or {"error": "..."}.'
        ),
    )
    evaluate.set_defaults(func=evaluate_command)

    matrix_parser = commands.add_parser(
        "matrix",
        help="print which persona may do what under a policy (alone, and with Allow * beside it)",
        description="Account and partition default to those in the policy's ARNs, else 123456789012 and aws. With "
        "--scp, the policy is a service control policy attached at the organization root beside FullAWSAccess "
        "(FullAWSAccess alone at the OU and the account), under Allow * as identity policy, and under none.",
    )
    matrix_parser.add_argument("policy", metavar="POLICY.json", nargs="?")
    matrix_parser.add_argument("--scp", metavar="SCP.json", help="the access matrix of a service control policy")
    matrix_parser.add_argument("--account", help="account ID of the requests' ARNs")
    matrix_parser.add_argument("--partition", help="partition of the requests' ARNs (aws, aws-cn, aws-us-gov)")
    matrix_parser.add_argument(
        "--format", choices=["table", "markdown", "json"], help="default: table in a terminal, else markdown"
    )
    matrix_parser.set_defaults(func=matrix_command)

    audit_parser = commands.add_parser(
        "audit",
        help="tell which IAM users an MFA requirement protects, who must enrol, who is exposed",
        description=(
            "Reads the account with GetAccountAuthorizationDetails and the credential report (boto3's standard "
            "credential chain) and judges each user's policies with the evaluator. Classes: "
            + "; ".join(f"{name}: {meaning}" for name, meaning in audit.CLASSES.items())
            + ". Exit status: 0, or 1 when --fail-on finds a user of its classes or an account could not be "
            "audited, 2 when the audit could not run."
        ),
    )
    audit_parser.add_argument("--endpoint-url", help="IAM and STS endpoint (LocalStack: http://localhost:4566)")
    audit_parser.add_argument("--profile", help="AWS profile (default: the standard credential chain)")
    audit_parser.add_argument("--region", help="region for STS (IAM is global; default: the profile's, else us-east-1)")
    audit_parser.add_argument(
        "--format", choices=["table", "json", "markdown"], help="default: table in a terminal, else json"
    )
    audit_parser.add_argument(
        "--fail-on",
        choices=list(audit.FAIL_ON),
        default="never",
        help="exit 1 when a user is exposed (exposed), exposed or must enrol (unenrolled), or an account failed; "
        "default never",
    )
    audit_parser.add_argument(
        "--role-arn",
        help="role to assume in each account, with an {account} placeholder: arn:aws:iam::{account}:role/X",
    )
    audit_parser.add_argument("--accounts", help="account IDs for --role-arn: 111111111111,222222222222 or @FILE")
    audit_parser.add_argument("--concurrency", type=int, default=4, help="accounts audited at once (default 4)")
    audit_parser.add_argument(
        "--page-size", type=int, default=audit.DEFAULT_PAGE_SIZE, help=argparse.SUPPRESS
    )  # GetAccountAuthorizationDetails MaxItems: small values exercise pagination
    audit_parser.add_argument(
        "--report-timeout",
        type=float,
        default=audit.DEFAULT_REPORT_TIMEOUT,
        help="seconds to wait for the credential report (default 60)",
    )
    audit_parser.add_argument(
        "--account-timeout",
        type=float,
        default=audit.DEFAULT_ACCOUNT_TIMEOUT,
        help="seconds an account may take before it is reported as failed (default 900)",
    )
    audit_parser.add_argument(
        "--no-verify-passwords",
        dest="verify_passwords",
        action="store_false",
        help="trust the credential report (up to 4 hours old) for users without a password: no GetLoginProfile per "
        "such user (very large accounts)",
    )
    audit_parser.add_argument("--external-id", help="external ID the member roles' trust policy requires")
    audit_parser.add_argument(
        "--session-name", default="mfa-required-audit", help="role session name (default mfa-required-audit)"
    )
    audit_parser.add_argument("--duration", type=int, help="role session duration in seconds (900 to 43200)")
    audit_parser.add_argument(
        "--mfa-serial", help="MFA device ARN, for member roles whose trust policy requires MFA (GetSessionToken first)"
    )
    audit_parser.add_argument("--token-code", help="the MFA device's code (asked for in a terminal when left out)")
    audit_parser.add_argument(
        "--print-policy", action="store_true", help="print the least-privilege IAM policy the audit needs, and exit"
    )
    audit_parser.set_defaults(func=audit_command)

    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
