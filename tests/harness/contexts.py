"""The request-context lattice the fail-closed tests walk: every key AWS may send or leave out, for alice."""

from __future__ import annotations

import itertools
from typing import Any

ACCOUNT = "123456789012"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
# Every key AWS may send or leave out, with the value it has for alice's request when sent.
OPTIONAL_KEYS: dict[str, Any] = {
    "aws:ViaAWSService": "false",
    "aws:CalledVia": ["cloudformation.amazonaws.com"],
    "aws:TokenIssueTime": "2026-01-05T09:00:00Z",
    "aws:MultiFactorAuthAge": "300",
    "aws:PrincipalType": "User",
    "aws:userid": "AIDAALICEEXAMPLE00001",
    "aws:username": "alice",
    "aws:PrincipalArn": ALICE,
    "aws:PrincipalAccount": ACCOUNT,
    "aws:SecureTransport": "true",
}
# Every subset of them: 1,024 contexts.
SUBSETS: list[dict[str, Any]] = [
    dict(itertools.compress(OPTIONAL_KEYS.items(), mask))
    for mask in itertools.product((0, 1), repeat=len(OPTIONAL_KEYS))
]
