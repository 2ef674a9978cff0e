"""Bad input to every command is one sentence on stderr naming the file (and the statement) and what is wrong, exit
status 2, never a traceback; `evaluate`, a line protocol on stdin, answers a bad request with one error line and
goes on. `--version` prints the installed package's version."""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

import pytest

from mfa_required import cli

TEN_MB = 10 * 1024 * 1024
STATEMENT = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
POLICY = {"Version": "2012-10-17", "Statement": [STATEMENT]}

# name: (file content, what the sentence must say after the file's name)
MATRIX_CASES: dict[str, tuple[bytes | None, str]] = {
    "missing file": (None, "cannot read an IAM policy document (JSON): No such file or directory"),
    "empty file": (b"", "the file is empty"),
    "blank file": (b"  \n\n", "the file is empty"),
    "not UTF-8": (b'{"Statement": "\xff"}', "not UTF-8 text (byte 0xff at offset 15)"),
    "not JSON": (b"{this is not json", "not JSON: Expecting property name"),
    "nested too deeply": (b"[" * 100_000, "nested too deeply"),
    "a list": (b"[1]", "a policy is a JSON object with a Statement, not a list"),
    "statement of the wrong shape": (b'{"Statement": 5}', "statement 0: statement must be an object"),
    "statement without Resource": (
        json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}).encode(),
        "statement 0: needs exactly one of Resource or NotResource",
    ),
    "rejected by AWS: Effect": (
        json.dumps({"Statement": [STATEMENT, {"Sid": "Odd", "Effect": "Permit", "Action": "*"}]}).encode(),
        "statement 1 (Odd): Effect must be Allow or Deny, not 'Permit'",
    ),
    "rejected by AWS: Principal in an identity policy": (
        json.dumps({"Statement": [{**STATEMENT, "Principal": "*"}]}).encode(),
        "statement 0: Principal is not allowed in an identity-based policy",
    ),
    "rejected by AWS: a character outside U+0020-U+00FF": (
        '{"Statement": [{"Sid": "Go\u2028", "Effect": "Allow", "Action": "*", "Resource": "*"}]}'.encode(),
        "character U+2028 at offset 26: IAM accepts only tab, line feed, carriage return and U+0020 to U+00FF",
    ),
    "rejected by AWS: a terminal escape": (
        b'{"Statement": [{"Sid": "\x1b[2J", "Effect": "Allow", "Action": "*", "Resource": "*"}]}',
        "character U+001B at offset 24",
    ),
    "10 MB": (b" " * TEN_MB, f"{TEN_MB:,} bytes, too large for an IAM policy document (JSON)"),
}

ACCOUNTS_CASES: dict[str, tuple[bytes | None, str]] = {
    "missing file": (None, "cannot read account IDs: No such file or directory"),
    "empty file": (b"", "the file is empty"),
    "only comments": (b"# prod\n# staging\n", "--accounts names no account"),
    "not UTF-8": (b"123456789012\n\xfe\n", "not UTF-8 text (byte 0xfe at offset 13)"),
    "wrong shape": (b'{"accounts": ["123456789012"]}', "not 12-digit account IDs"),
    "rejected by AWS: 11 digits": (b"123456789012\n12345678901 # typo\n", "not 12-digit account IDs: 12345678901"),
    "10 MB": (b"123456789012\n" * (TEN_MB // 13 + 1), "bytes, too large for account IDs"),
}


def _file(tmp_path: Path, content: bytes | None, name: str) -> Path:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    return path


def _one_sentence(capsys: pytest.CaptureFixture[str], command: str, path: Path, expected: str) -> None:
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"mfa-required {command}: {path}: "), err
    assert expected in err, err
    assert len(err) <= cli.MAX_MESSAGE_CHARS + 100


@pytest.mark.parametrize(("content", "expected"), MATRIX_CASES.values(), ids=MATRIX_CASES.keys())
def test_matrix_bad_policy_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, expected: str
) -> None:
    path = _file(tmp_path, content, "policy.json")
    assert cli.main(["matrix", str(path), "--format", "json"]) == 2
    _one_sentence(capsys, "matrix", path, expected)


def test_matrix_quotes_a_hostile_value_in_a_short_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    statement = {"Effect": "Allow", "Action": "x" * 500_000, "Resource": "*"}
    path = _file(tmp_path, json.dumps({"Statement": statement}).encode(), "policy.json")
    assert cli.main(["matrix", str(path)]) == 2
    _one_sentence(capsys, "matrix", path, "statement 0: Action 'xxx")


@pytest.mark.parametrize(("content", "expected"), ACCOUNTS_CASES.values(), ids=ACCOUNTS_CASES.keys())
def test_audit_bad_accounts_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, expected: str
) -> None:
    """Refused before any AWS call: the endpoint is a closed port."""
    path = _file(tmp_path, content, "accounts.txt")
    argv = ["audit", "--endpoint-url", "http://127.0.0.1:9", "--role-arn", "arn:aws:iam::{account}:role/Audit"]
    assert cli.main([*argv, "--accounts", f"@{path}"]) == 2
    _one_sentence(capsys, "audit", path, expected)


def _evaluate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: bytes
) -> list:
    path = _file(tmp_path, stdin, "requests.jsonl")
    with path.open(encoding="utf-8") as handle:
        monkeypatch.setattr(sys, "stdin", handle)
        assert cli.main(["evaluate"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return [json.loads(line) for line in out.splitlines()]


def _request(policy: object) -> bytes:
    return json.dumps({"policies": [policy], "action": "s3:GetObject", "resource": "*"}).encode() + b"\n"


EVALUATE_CASES: dict[str, tuple[bytes, str]] = {
    "not UTF-8": (
        b'{"policies": [], "action": "s3:GetObject", "resource": "arn:aws:s3:::caf\xe9"}\n',
        "not UTF-8 text (byte 0xe9 at offset 72)",
    ),
    "not JSON": (b"{this is not json\n", "invalid JSON"),
    "nested too deeply": (b"[" * 100_000 + b"\n", "invalid JSON: nested too deeply"),
    "statement of the wrong shape": (_request({"Statement": 5}), "policy 0 statement 0: statement must be an object"),
    "statement without Resource": (
        _request({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}),
        "policy 0 statement 0: needs exactly one of Resource or NotResource",
    ),
    "rejected by AWS": (
        _request({"Statement": [{"Sid": "Odd", "Effect": "Permit", "Action": "*", "Resource": "*"}]}),
        "policy 0 statement 0 (Odd): Effect must be Allow or Deny, not 'Permit'",
    ),
    "10 MB": (b'{"policies": ["' + b"x" * TEN_MB + b'"]}\n', "request line longer than 1,048,576 bytes"),
}


@pytest.mark.parametrize(("line", "expected"), EVALUATE_CASES.values(), ids=EVALUATE_CASES.keys())
def test_evaluate_answers_a_bad_request_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], line: bytes, expected: str
) -> None:
    """`evaluate` reads stdin (no file of its own): the bad line gets an error answer, the next one its decision."""
    answers = _evaluate(tmp_path, monkeypatch, capsys, line + _request(POLICY))
    assert len(answers) == 2
    assert expected in answers[0]["error"]
    assert answers[1]["decision"] == "Allowed"


def test_evaluate_empty_input_answers_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _evaluate(tmp_path, monkeypatch, capsys, b"") == []


def test_matrix_unknown_persona(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["matrix", "policy-never-read.json", "--personas", "console,admin"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "mfa-required matrix: --personas: unknown persona 'admin': choose from access-key, console, console-mfa, "
        "federated, role, service, sts, sts-mfa\n"
    )


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (["--account", "12345"], "argument --account: '12345' is not a 12-digit account ID"),
        (["--partition", "aws:evil"], "argument --partition: 'aws:evil' is not a partition"),
    ],
)
def test_matrix_bad_arn_parts(capsys: pytest.CaptureFixture[str], option: list[str], expected: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["matrix", "policy-never-read.json", *option])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"mfa-required {metadata.version('mfa-required-tools')}\n"
