"""The request-context lattice the fail-closed tests walk: every key AWS may send or leave out, for alice; the requests
they send through it, and the catch-all Deny's exempt actions."""

from __future__ import annotations

import fnmatch
import itertools
import re
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
# Requests an attacker with a password and no MFA wants most: compute, data, credentials of others, roles, policies.
SENSITIVE: list[tuple[str, str]] = [
    ("ec2:RunInstances", f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0123456789abcdef0"),
    ("s3:GetObject", "arn:aws:s3:::example-bucket/report.csv"),
    ("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/carol"),
    ("iam:AttachUserPolicy", ALICE),
    ("iam:DeactivateMFADevice", ALICE),
    ("iam:CreateLoginProfile", ALICE),
    ("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/admin"),
    ("sts:GetFederationToken", f"arn:aws:sts::{ACCOUNT}:federated-user/alice"),
    ("signin:CreateOAuth2Token", f"arn:aws:signin:us-east-1:{ACCOUNT}:oauth2/public-client/localhost"),
]


def exempt_patterns(policy: dict[str, Any]) -> re.Pattern[str]:
    """The catch-all Deny's (DenyAllExceptListedIfNoMFA) NotAction patterns, as one case-insensitive expression."""
    statement = next(s for s in policy["Statement"] if s.get("Sid") == "DenyAllExceptListedIfNoMFA")
    return action_patterns(statement["NotAction"])


def action_patterns(patterns: list[str]) -> re.Pattern[str]:
    """IAM action patterns (`*` and `?` wildcards, any letter case) as one expression."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns), re.IGNORECASE)


def is_exempt(action: str, patterns: re.Pattern[str]) -> bool:
    return patterns.match(action) is not None
