"""The `mfa-required` command line."""

import argparse
import getpass
import io
import json
import os
import re
import sys
from collections.abc import Iterator
from importlib import metadata
from typing import Any

from mfa_required import audit, matrix, scp
from mfa_required.evaluator import PolicyError, Request, cached_policy_set, evaluate_with_scps
from mfa_required.personas import PERSONAS

# Far above any document this tool reads: the largest IAM policy quota, a role's inline policies, is 10,240
# characters without whitespace, and an accounts file of 1 MiB names ~80,000 accounts. Bigger files are refused
# before they are read. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
MAX_INPUT_BYTES = 1 << 20
# The same page: "Policy documents can contain only the following Unicode characters: horizontal tab (U+0009),
# linefeed (U+000A), carriage return (U+000D), and characters in the range U+0020 to U+00FF."
_NOT_IN_A_POLICY = re.compile(r"[^\t\n\r\x20-\xff]")
# An error quotes the user's values (repr): a hostile input must not turn one sentence into a megabyte.
MAX_MESSAGE_CHARS = 400


class InputError(Exception):
    """Bad input: one sentence for stderr, naming the file (and the statement) and what is wrong; exit status 2."""


def read_input(path: str, what: str) -> str:
    """The text of a small UTF-8 file that the user named, or an InputError that says why it cannot be read."""
    try:
        size = os.stat(path).st_size
        if size > MAX_INPUT_BYTES:
            raise InputError(
                f"{path}: {size:,} bytes, too large for {what} (this command reads at most {MAX_INPUT_BYTES:,})"
            )
        with open(path, "rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as e:
        raise InputError(f"{path}: cannot read {what}: {e.strerror or e}") from None
    if len(data) > MAX_INPUT_BYTES:  # a pipe or a device: its size was not known beforehand
        raise InputError(f"{path}: too large for {what} (this command reads at most {MAX_INPUT_BYTES:,} bytes)")
    if not data.strip():
        raise InputError(f"{path}: the file is empty; expected {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{path}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); expected {what}"
        ) from None


def read_policy(path: str) -> dict[str, Any]:
    """A policy document from a file, checked as the evaluator checks one (errors name the statement)."""
    text = read_input(path, "an IAM policy document (JSON)")
    if bad := _NOT_IN_A_POLICY.search(text):
        raise InputError(
            f"{path}: character U+{ord(bad[0]):04X} at offset {bad.start()}: IAM accepts only tab, line feed, "
            "carriage return and U+0020 to U+00FF in a policy document"
        )
    try:
        policy = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not JSON: {e}") from None
    except RecursionError:
        raise InputError(f"{path}: not a policy: JSON nested too deeply") from None
    if not isinstance(policy, dict):
        kind = _JSON_KINDS.get(type(policy), "null")
        raise InputError(f"{path}: a policy is a JSON object with a Statement, not {kind}")
    try:
        cached_policy_set([policy])
    except PolicyError as e:
        # "policy 0 statement 1 (Sid): ..." -> "statement 1 (Sid): ...": there is one policy, the file
        raise InputError(f"{path}: {str(e).removeprefix('policy 0: ').removeprefix('policy 0 ')}") from None
    return policy


_JSON_KINDS = {
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _sentence(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _evaluate_line(line: str | bytes) -> dict[str, Any]:
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as e:
            return {"error": f"not UTF-8 text (byte 0x{line[e.start]:02x} at offset {e.start})"}
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as e:
        return {"error": f"invalid JSON: {e}"}
    except RecursionError:
        return {"error": "invalid JSON: nested too deeply"}
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


OVERSIZED = None  # stands for a request line longer than MAX_INPUT_BYTES, dropped as it arrived


def _line_batches(stream: Any) -> Iterator[list[str | bytes | None]]:
    """Stdin's complete lines, as many as have arrived at each read (a read returns what is there, never waits
    for more), so a caller that writes one line and waits gets its answer, and a pipe is answered in batches.
    A line longer than MAX_INPUT_BYTES is not kept: it comes out as OVERSIZED."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        fd = None
    if fd is None:
        for line in iter(lambda: stream.readline(MAX_INPUT_BYTES + 1), ""):
            yield [OVERSIZED if len(line) > MAX_INPUT_BYTES else line]
        return
    pending, oversized = b"", False
    while chunk := os.read(fd, 1 << 16):
        *lines, pending = (pending + chunk).split(b"\n")
        batch: list[str | bytes | None] = []
        for line in lines:
            batch.append(OVERSIZED if oversized or len(line) > MAX_INPUT_BYTES else line)
            oversized = False
        if len(pending) > MAX_INPUT_BYTES:
            pending, oversized = b"", True
        if batch:
            yield batch
    if pending or oversized:
        yield [OVERSIZED if oversized else pending]


def evaluate_command(args: argparse.Namespace) -> int:
    """Read request JSON lines on stdin; write one decision (or error) JSON line per request, flushed per batch."""
    too_long = {"error": f"request line longer than {MAX_INPUT_BYTES:,} bytes, not read"}
    for batch in _line_batches(sys.stdin):
        answers = [
            json.dumps(too_long if line is OVERSIZED else _evaluate_line(line)) + "\n"
            for line in batch
            if line is OVERSIZED or line.strip()
        ]
        if answers:
            sys.stdout.write("".join(answers))
            sys.stdout.flush()
    return 0


def matrix_command(args: argparse.Namespace) -> int:
    """Print the access matrix of a policy file, or of a service control policy (--scp)."""
    if (args.policy is None) == (args.scp is None):
        raise InputError("mfa-required matrix: give a policy file or --scp FILE (one of them)")
    try:
        personas = matrix.select_personas([n.strip() for n in args.personas.split(",")] if args.personas else None)
    except ValueError as e:
        raise InputError(f"--personas: {e}") from None
    policy = read_policy(args.scp or args.policy)
    compute = scp.compute if args.scp else matrix.compute
    result = compute(policy, args.account, args.partition)
    fmt = args.format or ("table" if sys.stdout.isatty() else "markdown")
    if fmt == "table":
        matrix.render_table(result, sys.stdout, personas=personas)
    elif fmt == "json":
        sys.stdout.write(matrix.render_json(result, personas))
    else:
        sys.stdout.write(matrix.render_markdown(result, personas=personas))
    return 0


def _accounts(value: str | None) -> str | None:
    """--accounts, with an @FILE read here (so that a bad file is one sentence naming it) and passed on as a list."""
    if not value or not value.startswith("@"):
        return value
    path = value[1:]
    text = read_input(path, "account IDs")
    try:
        return ",".join(audit.parse_accounts(value, read_file=lambda _: text))
    except audit.AuditError as e:
        raise InputError(f"{path}: {e}") from None


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
        accounts=_accounts(args.accounts),
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
        organization=args.organization,
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
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
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
    matrix_parser.add_argument("--account", type=_account_id, help="account ID of the requests' ARNs")
    matrix_parser.add_argument(
        "--partition", type=_partition, help="partition of the requests' ARNs (aws, aws-cn, aws-us-gov)"
    )
    matrix_parser.add_argument(
        "--format", choices=["table", "markdown", "json"], help="default: table in a terminal, else markdown"
    )
    matrix_parser.add_argument(
        "--personas",
        metavar="KEY,...",
        help="the persona columns to show, by key: " + ", ".join(p.key for p in PERSONAS) + " (default: all)",
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
        "--organization",
        action="store_true",
        help="judge users with the SCPs on each account's path from the organization root (run from the management "
        "account or a delegated administrator; Organizations endpoint: AWS_ENDPOINT_URL_ORGANIZATIONS)",
    )
    audit_parser.add_argument(
        "--print-policy", action="store_true", help="print the least-privilege IAM policy the audit needs, and exit"
    )
    audit_parser.set_defaults(func=audit_command)

    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except InputError as e:
        print(f"mfa-required {args.command}: {_sentence(e)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `mfa-required matrix x.json | head`: the reader has gone, nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130
    return result


def _account_id(value: str) -> str:
    if not re.fullmatch(r"\d{12}", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a 12-digit account ID")
    return value


def _partition(value: str) -> str:
    # aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, ...: lower-case words joined by hyphens, never a colon
    if not re.fullmatch(r"aws(-[a-z]+)*", value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a partition (aws, aws-cn, aws-us-gov, ...)")
    return value


def _version() -> str:
    try:
        return metadata.version("mfa-required-tools")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


if __name__ == "__main__":
    sys.exit(main())
