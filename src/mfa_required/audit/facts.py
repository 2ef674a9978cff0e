"""What the audit reads from an account, as data: users, groups, policies, roles' trust policies, sign-in facts.
Made by `collect`, judged by `report` (through `judge`); nothing here calls AWS."""

from __future__ import annotations

import json
import urllib.parse
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from mfa_required.evaluator import PolicyError


class Described(str, Enum):
    """An enum whose members carry their meaning (for legends and JSON) and their terminal style; a member is
    declared as (value, meaning, style) and compares equal to its value."""

    meaning: str
    style: str

    def __new__(cls, value: str, meaning: str, style: str) -> Described:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.meaning = meaning
        obj.style = style
        return obj


__all__ = [
    "AccessKey",
    "AccountFacts",
    "AuditError",
    "PolicyRef",
    "ScpLevel",
    "ScpRef",
    "UserFacts",
    "decode_policy_document",
]


class AuditError(Exception):
    """The account could not be audited; the message says why and what to do."""


@dataclass(frozen=True)
class PolicyRef:
    """One identity policy that applies to a user, and how it gets there."""

    name: str
    kind: str  # "managed" | "inline"
    via: str  # "user" or the group's name
    arn: str | None = None  # managed policies
    document: Mapping[str, Any] | None = None
    error: str | None = None  # the document could not be read or parsed

    @property
    def label(self) -> str:
        where = "attached to the user" if self.via == "user" else f"via group {self.via}"
        kind = "managed" if self.kind == "managed" else "inline"
        return f"{self.name} ({kind}, {where})"


@dataclass(frozen=True)
class AccessKey:
    number: int  # 1 or 2: the credential report's access_key_1 / access_key_2
    active: bool
    last_used: datetime | None
    created: datetime | None


@dataclass
class UserFacts:
    name: str
    path: str
    arn: str
    user_id: str
    groups: tuple[str, ...] = ()
    policies: list[PolicyRef] = field(default_factory=list)
    console_password: bool | None = None  # None: unknown
    mfa_active: bool | None = None
    access_keys: list[AccessKey] = field(default_factory=list)
    permissions_boundary: str | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)  # aws:PrincipalTag/* of the user's requests
    password_since: datetime | None = None  # when the password was set (credential report), for must-enrol users
    password_verified: bool = False  # GetLoginProfile asked, the credential report (up to 4 hours old) not trusted


@dataclass(frozen=True)
class ScpRef:
    """A service control policy attached to one level of the account's path (DescribePolicy)."""

    name: str
    policy_id: str
    document: Mapping[str, Any]
    aws_managed: bool = False

    def label(self, level: ScpLevel) -> str:
        return f"SCP {self.name} ({self.policy_id}, attached to {level.name})"


@dataclass(frozen=True)
class ScpLevel:
    """One level of the account's path from the organization root: the root, an OU, the account itself."""

    target_id: str
    target_type: str  # "ROOT" | "ORGANIZATIONAL_UNIT" | "ACCOUNT"
    policies: tuple[ScpRef, ...]

    @property
    def name(self) -> str:
        kind = {"ROOT": "root", "ORGANIZATIONAL_UNIT": "OU", "ACCOUNT": "account"}.get(self.target_type, "target")
        return f"{kind} {self.target_id}"


@dataclass
class AccountFacts:
    account: str
    partition: str
    users: list[UserFacts]
    groups: dict[str, list[PolicyRef]]  # group name -> its policies
    managed_guards: dict[str, PolicyRef]  # customer managed policies by ARN (candidates for a fix)
    report_generated: datetime | None = None
    warnings: list[str] = field(default_factory=list)
    api_calls: Counter[str] = field(default_factory=Counter)
    pages: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds by step
    roles: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # role ARN -> trust policy (RoleDetailList)
    # The SCPs on the account's path, root first, account last (--organization); None: not read, or they do not apply
    scp_levels: list[ScpLevel] | None = None


def decode_policy_document(raw: object) -> dict[str, Any]:
    """A policy document as IAM or a client gives it: a dict (boto3 decodes), JSON text, or URL-encoded JSON text."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if not isinstance(raw, str):
        raise PolicyError(f"policy document is a {type(raw).__name__}, not JSON")
    text = raw.strip()
    if not text.startswith("{"):
        text = urllib.parse.unquote(text)  # IAM's wire form: urlencode(json)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        raise PolicyError(f"policy document is not valid JSON: {e}") from None
    if not isinstance(document, dict):
        raise PolicyError("policy document is not a JSON object")
    return document
