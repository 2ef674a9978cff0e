"""Independent IAM decision oracle: @cloud-copilot/iam-simulate in a separate node process.

The library is AGPL-licensed; we only run it, unmodified, as its own process (tests/oracle/README.md), talking
JSON lines over a pipe. One process serves a whole test session; requests go in batches so that node's start-up
and the library's catalog loading are paid once, and a batch sends each distinct question once.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from harness.paths import ORACLE_DIR
from mfa_required.evaluator import Request, needs_resource_policy, protected_resource

if TYPE_CHECKING:
    from types import TracebackType


SCRIPT = ORACLE_DIR / "simulate.mjs"
LIBRARY = ORACLE_DIR / "node_modules" / "@cloud-copilot" / "iam-simulate"
DEFAULT_PRINCIPAL = "arn:aws:iam::123456789012:user/alice"


class OracleError(RuntimeError):
    """The oracle is not installed, died, or could not answer a request."""


UNRELATED_ACCOUNT = "999999999999"


def _allowing_only(account: str, sid: str, request: Request) -> dict[str, Any]:
    """A resource policy (trust or key policy) that allows this request to `account`'s principals and no one else."""
    partition = request.resource.split(":")[1]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": request.action,
                "Resource": request.resource,
            }
        ],
    }


def _grants_nothing(request: Request) -> dict[str, Any]:
    """A resource policy that allows only an unrelated account: the question our evaluator answers when a resource
    policy is required and none is given (evaluator.needs_resource_policy). Without it the oracle takes a
    same-account role with no trust policy as trusting the account."""
    return _allowing_only(UNRELATED_ACCOUNT, "UnrelatedAccountOnly", request)


def _trusts_the_account(request: Request) -> dict[str, Any]:
    """A resource policy that allows the caller's account: the question "do the identity policies let this request
    through?" where AWS also needs the resource's own policy."""
    return _allowing_only((request.principal or DEFAULT_PRINCIPAL).split(":")[4], "CallerAccount", request)


_VARIABLE = re.compile(r"\$\{([^},']+)")
_AWS_MANAGED_POLICY = re.compile(r"arn:[^:]+:iam::aws:policy/")


def _statements(policies: Sequence[Mapping[str, Any] | str]) -> list[Mapping[str, Any]]:
    out = []
    for policy in policies:
        document = json.loads(policy) if isinstance(policy, str) else policy
        statements = document.get("Statement", [])
        out += statements if isinstance(statements, list) else [statements]
    return out


def known_deviation(policies: Sequence[Mapping[str, Any] | str], request: Request) -> bool:
    """Whether a documented oracle deviation can decide this question:

    - NotResource (tests/unit/test_oracle.py KNOWN_DEVIATIONS): a statement that takes the action has a NotResource
      entry whose policy variable the request context cannot resolve. AWS says such an entry matches no resource;
      the oracle skips the statement.
    - AWS-protected resources (evaluator.protected_resource): the oracle refuses a change to them as
      ImplicitlyDenied even where a Deny statement matches, which we report as ExplicitlyDenied (both refuse).
    - AWS managed policies: simulate.mjs takes the resource's account from the ARN, "aws", so the oracle sees a read
      of an AWS managed policy as a cross-account request and refuses it; every account may read them."""
    statements = _statements(policies)
    if protected_resource(request) and any(s.get("Effect") == "Deny" for s in statements):
        return True
    if _AWS_MANAGED_POLICY.match(request.resource) and not protected_resource(request):
        return True
    present = {key.lower() for key in request.context}
    action = request.action.lower()
    for statement in statements:
        unresolved = {v.strip().lower() for v in _VARIABLE.findall(json.dumps(statement.get("NotResource", "")))}
        if not unresolved - present - {"*", "?", "$"}:
            continue
        if "NotAction" in statement:
            return True  # conservatively: the action may fall outside the NotAction list
        actions = statement.get("Action", [])
        patterns = [actions] if isinstance(actions, str) else actions
        if any(fnmatch.fnmatchcase(action, pattern.lower()) for pattern in patterns):
            return True
    return False


Policies = Sequence[Mapping[str, Any] | str]
ScpLevels = Sequence[Sequence[Mapping[str, Any]]]
# A question: (identity policies, request), or (identity policies, request, SCP levels root first).
Question = tuple[Policies, Request] | tuple[Policies, Request, ScpLevels]


def _parts(question: Question) -> tuple[Policies, Request, ScpLevels | None]:
    return (question[0], question[1], question[2] if len(question) == 3 else None)  # type: ignore[misc]


def _wire(
    policies: Sequence[Mapping[str, Any] | str], request: Request, scps: ScpLevels | None = None, trusting: bool = False
) -> str:
    """One request as the JSON line simulate.mjs reads; `scps`: SCP levels, root first; `trusting`: a required
    resource policy trusts the caller's account instead of granting nothing."""
    context = {key: value if isinstance(value, str) else list(value) for key, value in request.context.items()}
    line: dict[str, Any] = {
        "policies": [json.loads(p) if isinstance(p, str) else p for p in policies],
        "principal": request.principal or DEFAULT_PRINCIPAL,
        "action": request.action,
        "resource": request.resource,
        "context": context,
    }
    if needs_resource_policy(request):
        line["resourcePolicy"] = _trusts_the_account(request) if trusting else _grants_nothing(request)
    if scps is not None:
        line["scps"] = [list(level) for level in scps]
    return json.dumps(line)


class Oracle:
    """`with Oracle() as oracle: oracle.decide([(policies, request), ...])` -> decision strings."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: Any = None

    def __enter__(self) -> Oracle:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        if self._proc is not None:
            return
        # Never skip: a missing oracle is a broken checkout, not an optional extra.
        if not LIBRARY.is_dir():
            raise OracleError(f"{LIBRARY} is missing: run `make test` or `npm ci --prefix tests/oracle`")
        node = shutil.which("node")
        if node is None:
            raise OracleError("node is not on PATH: the oracle needs Node.js 20 or newer")
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the process; close()
        self._proc = subprocess.Popen(
            [node, str(SCRIPT)],
            cwd=ORACLE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,  # a file, so that a chatty node can never block on a full pipe
            text=True,
            encoding="utf-8",
        )

    def close(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
            with contextlib.suppress(OSError):  # already dead: nothing to end
                self._proc.stdin.close()  # EOF ends simulate.mjs
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
            self._stderr.close()

    def _died(self, what: str) -> OracleError:
        self._stderr.seek(0)
        return OracleError(f"oracle process {what}; node stderr:\n{self._stderr.read()}")

    def decide(
        self,
        requests: Sequence[Question],
        *,
        trusting: bool = False,
        refusals: list[str] | None = None,
    ) -> list[str]:
        """Decisions ("Allowed", "ExplicitlyDenied", "ImplicitlyDenied") for each (policies, request) or (policies,
        request, SCP levels root first), in order. `trusting`: where AWS needs the resource's own policy too (a role's
        trust policy, a key policy), it trusts the caller's account, so that the answer is the identity policies' own.
        `refusals`: a question the oracle refuses (an action or resource its catalogue does not know) is answered ""
        and its error appended here, instead of failing the batch."""
        self.start()
        assert self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None
        stdin, stdout = self._proc.stdin, self._proc.stdout
        # The same question asked twice (matrices repeat requests across personas and policy variants) is sent once:
        # the library is deterministic, and its answer is what each copy would get.
        lines = [_wire(*_parts(question), trusting=trusting) for question in requests]
        unique = list(dict.fromkeys(lines))
        payload = "".join(line + "\n" for line in unique)
        failure: list[OSError] = []

        def write() -> None:
            # Writing on its own thread: node answers while we are still sending, so neither side can fill a
            # pipe buffer and wait for the other forever.
            try:
                stdin.write(payload)
                stdin.flush()
            except OSError as e:
                failure.append(e)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        answered = {}
        for question_line in unique:
            line = stdout.readline()
            if not line:
                writer.join()
                raise self._died("exited before answering every request")
            answered[question_line] = json.loads(line)
        writer.join()
        if failure:
            raise self._died(f"stopped reading its input ({failure[0]})")
        answers = [answered[line] for line in lines]
        decisions = []
        for question, answer in zip(requests, answers, strict=True):
            policies, request, scps = _parts(question)
            if "error" in answer and refusals is not None:
                refusals.append(f"{request.action} {request.resource}: {answer['error']}")
                decisions.append("")
                continue
            if "error" in answer:
                raise OracleError(
                    f"oracle error: {answer['error']}\nrequest: {_wire(policies, request, scps, trusting)}"
                )
            decisions.append(answer["decision"])
        return decisions
