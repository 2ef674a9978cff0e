"""Unit tests for the IAM policy evaluator and the `mfa-required evaluate` command."""

from __future__ import annotations

import io
import json
import select
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mfa_required import cli
from mfa_required.evaluator import Match, PolicyError, PolicySet, Request, Result, cached_policy_set, evaluate

SEED = Path(__file__).parent.parent / "data" / "seed-policy.json"
CLI = Path(sys.executable).parent / "mfa-required"
KEY = "test:Key"


def policy(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    doc: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        doc["Version"] = version
    return doc


def allow(**fields: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **fields}


def deny(**fields: Any) -> dict[str, Any]:
    return {**allow(**fields), "Effect": "Deny"}


def decide(policies: list[dict[str, Any]], action: str = "s3:GetObject", resource: str = "*", **ctx: Any) -> str:
    return PolicySet(policies).evaluate(Request(action, resource, ctx)).decision


def holds(condition: dict[str, Any], context: dict[str, Any], version: str = "2012-10-17") -> bool:
    """Whether an Allow statement guarded only by `condition` allows a request with `context`."""
    doc = policy(allow(Condition=condition), version=version)
    return PolicySet([doc]).evaluate(Request("s3:GetObject", "*", context)).decision == "Allowed"


# --- condition operators: one key, policy value(s) against a request value (None = key absent) ---------------------

OPERATOR_CASES: list[tuple[str, Any, Any, bool]] = [
    # String
    ("StringEquals", "alice", "alice", True),
    ("StringEquals", "alice", "Alice", False),  # values are case-sensitive
    ("StringEquals", ["bob", "alice"], "alice", True),  # several policy values are OR-ed
    ("StringEquals", "alice", None, False),
    ("StringEquals", "a*", "abc", False),  # no wildcards outside *Like
    ("StringNotEquals", "alice", "bob", True),
    ("StringNotEquals", ["alice", "bob"], "bob", False),  # negated: must match none of the values
    ("StringNotEquals", ["alice", "bob"], "carol", True),
    ("StringNotEquals", "alice", None, True),  # negated operators are true when the key is absent
    ("StringEqualsIgnoreCase", "alice", "ALICE", True),
    ("StringEqualsIgnoreCase", "alice", "bob", False),
    ("StringEqualsIgnoreCase", "alice", None, False),
    ("StringNotEqualsIgnoreCase", ["alice", "bob"], "BOB", False),
    ("StringNotEqualsIgnoreCase", ["alice", "bob"], "carol", True),
    ("StringNotEqualsIgnoreCase", "alice", None, True),
    ("StringLike", "home/*", "home/alice/docs", True),
    ("StringLike", "home/*", "Home/alice", False),
    ("StringLike", "a?c", "abc", True),
    ("StringLike", "a?c", "abbc", False),  # ? is exactly one character
    ("StringLike", ["x*", "*.txt"], "notes.txt", True),
    ("StringLike", "*", None, False),
    ("StringNotLike", ["a*", "b*"], "bob", False),
    ("StringNotLike", ["a*", "b*"], "carol", True),
    ("StringNotLike", "a*", None, True),
    ("StringEqualsIfExists", "alice", None, True),
    ("StringEqualsIfExists", "alice", "bob", False),
    ("StringEqualsIfExists", "alice", "alice", True),
    ("StringNotEqualsIfExists", "alice", "alice", False),
    ("StringNotEqualsIfExists", "alice", None, True),
    ("StringLikeIfExists", "t2.*", "m5.large", False),
    # Numeric
    ("NumericEquals", "10", "10.0", True),  # compared as numbers, not strings
    ("NumericEquals", "1e2", "100", True),
    ("NumericEquals", "10", "11", False),
    ("NumericEquals", "10", None, False),
    ("NumericEquals", "10", "ten", False),  # an unparseable request value matches nothing
    ("NumericNotEquals", ["1", "2"], "2", False),
    ("NumericNotEquals", ["1", "2"], "3", True),
    ("NumericNotEquals", "1", None, True),
    ("NumericNotEquals", "1", "one", True),
    ("NumericLessThan", "10", "9.5", True),
    ("NumericLessThan", "10", "10", False),
    ("NumericLessThan", "10", "-20", True),
    ("NumericLessThanEquals", "10", "10", True),
    ("NumericLessThanEquals", "10", "11", False),
    ("NumericGreaterThan", "10", "11", True),
    ("NumericGreaterThan", "10", "10", False),
    ("NumericGreaterThanEquals", "10", "10", True),
    ("NumericGreaterThanEquals", "10", "9", False),
    ("NumericGreaterThanEquals", "10", None, False),
    ("NumericLessThanIfExists", "10", None, True),
    ("NumericLessThanIfExists", "10", "12", False),
    # Date: ISO 8601 and epoch seconds on either side
    ("DateEquals", "2020-01-01T00:00:00Z", "2020-01-01T01:00:00+01:00", True),
    ("DateEquals", "2020-01-01", "2020-01-01T00:00:00Z", True),  # no zone means UTC
    ("DateEquals", "2020-01-01T00:00:00Z", "1577836800", True),
    ("DateEquals", "1577836800", "2020-01-01T00:00:00.000Z", True),
    ("DateEquals", "2020", "1970-01-01T00:33:40Z", True),  # all digits: epoch seconds, not a year
    ("DateEquals", "2020-01-01T00:00:00Z", "yesterday", False),
    ("DateNotEquals", ["2020-01-01", "2021-01-01"], "2021-01-01T00:00:00Z", False),
    ("DateNotEquals", ["2020-01-01", "2021-01-01"], "2022-01-01T00:00:00Z", True),
    ("DateNotEquals", "2020-01-01", None, True),
    ("DateLessThan", "2020-01-01T00:00:00Z", "2019-12-31T23:59:59Z", True),
    ("DateLessThan", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", False),
    ("DateLessThan", "2020-01-01T00:00:00Z", "1577836799", True),
    ("DateLessThan", "2020-01-01T00:00:00Z", None, False),
    ("DateLessThanEquals", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", True),
    ("DateGreaterThan", "2020-01-01T00:00:00Z", "2020-01-01T00:00:01Z", True),
    ("DateGreaterThan", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", False),
    ("DateGreaterThanEquals", "2020-01", "2020-01-01T00:00:00Z", True),
    ("DateGreaterThanEquals", "2020-01-01T00:00:00Z", "2019-06-01T00:00:00Z", False),
    ("DateGreaterThanIfExists", "2020-01-01T00:00:00Z", None, True),
    # Bool
    ("Bool", "true", "true", True),
    ("Bool", "true", "TRUE", True),  # "true"/"false" compare case-insensitively
    ("Bool", "False", "false", True),
    ("Bool", "false", "true", False),
    ("Bool", True, "true", True),  # a JSON boolean in the policy
    ("Bool", "false", None, False),
    ("BoolIfExists", "false", None, True),
    ("BoolIfExists", "false", "true", False),
    # Binary
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", "QmluYXJ5VmFsdWU=", True),
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", "T3RoZXI=", False),
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", "not base64!", False),
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", None, False),
    ("BinaryEqualsIfExists", "QmluYXJ5VmFsdWU=", None, True),
    # IP address
    ("IpAddress", "203.0.113.0/24", "203.0.113.200", True),
    ("IpAddress", "203.0.113.0/24", "198.51.100.1", False),
    ("IpAddress", "203.0.113.5", "203.0.113.6", False),  # no prefix means /32
    ("IpAddress", "203.0.113.5", "203.0.113.5", True),
    ("IpAddress", ["198.51.100.0/24", "2001:DB8:1234:5678::/64"], "2001:db8:1234:5678::1", True),
    ("IpAddress", "2001:db8::/32", "203.0.113.5", False),  # IPv4 request, IPv6 range
    ("IpAddress", "0.0.0.0/0", "not-an-ip", False),
    ("IpAddress", "203.0.113.0/24", None, False),
    ("NotIpAddress", ["203.0.113.0/24", "198.51.100.0/24"], "198.51.100.7", False),
    ("NotIpAddress", ["203.0.113.0/24", "198.51.100.0/24"], "192.0.2.1", True),
    ("NotIpAddress", "203.0.113.0/24", None, True),
    ("IpAddressIfExists", "203.0.113.0/24", None, True),
    # ARN: component-wise, ArnEquals and ArnLike alike
    ("ArnLike", "arn:aws:iam::*:user/*", "arn:aws:iam::123456789012:user/alice", True),
    ("ArnEquals", "arn:aws:iam::*:user/*", "arn:aws:iam::123456789012:user/alice", True),
    ("ArnLike", "arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/Alice", False),
    ("ArnLike", "arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a:b/c", True),  # the 6th component may hold colons
    ("ArnLike", "arn:aws:sqs:us-east-?:*:queue", "arn:aws:sqs:us-east-2:123456789012:queue", True),
    # AWS's own example: * stays within one component, so this StringLike match is an ArnLike mismatch
    (
        "ArnLike",
        "arn:aws:someservice:*:111122223333:finance/*",
        "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
        False,
    ),
    (
        "StringLike",
        "arn:aws:someservice:*:111122223333:finance/*",
        "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",
        True,
    ),
    ("ArnLike", "arn:aws:iam::*:user/*", "not-an-arn", False),
    ("ArnLike", "arn:aws:iam::*:user/*", None, False),
    ("ArnNotLike", ["arn:aws:iam::*:user/a*", "arn:aws:iam::*:user/b*"], "arn:aws:iam::1:user/bob", False),
    ("ArnNotLike", ["arn:aws:iam::*:user/a*", "arn:aws:iam::*:user/b*"], "arn:aws:iam::1:user/carol", True),
    ("ArnNotEquals", "arn:aws:iam::1:user/a", None, True),
    ("ArnLikeIfExists", "arn:aws:iam::*:user/*", None, True),
    # Null
    ("Null", "true", None, True),
    ("Null", "true", "x", False),
    ("Null", "false", "x", True),
    ("Null", "false", None, False),
    ("Null", "TRUE", [], True),  # an empty list is an absent key
    ("Null", True, None, True),
]


@pytest.mark.parametrize(
    ("operator", "policy_values", "request_value", "expected"),
    OPERATOR_CASES,
    ids=[f"{op}-{pv}-{rv}" for op, pv, rv, _ in OPERATOR_CASES],
)
def test_condition_operator(operator: str, policy_values: Any, request_value: Any, expected: bool) -> None:
    context = {} if request_value is None else {KEY: request_value}
    assert holds({operator: {KEY: policy_values}}, context) is expected


# --- set qualifiers and multivalued request values -----------------------------------------------------------------

SET_CASES: list[tuple[str, Any, Any, bool]] = [
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "b"], True),
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "c"], False),
    ("ForAllValues:StringEquals", ["a", "b"], None, True),  # missing: true
    ("ForAllValues:StringEquals", ["a", "b"], [], True),  # empty: true
    ("ForAnyValue:StringEquals", ["a", "b"], ["c", "b"], True),
    ("ForAnyValue:StringEquals", ["a", "b"], ["c", "d"], False),
    ("ForAnyValue:StringEquals", ["a", "b"], None, False),  # missing: false
    ("ForAnyValue:StringEquals", ["a", "b"], [], False),
    ("ForAnyValue:StringEquals", "a", "a", True),  # a single string is a one-value set
    ("ForAllValues:StringLike", ["key1*", "key2*"], ["key1a", "key2b"], True),
    ("ForAllValues:StringNotLike", "key1*", ["key2", "key3"], True),  # every value is unlike all patterns
    ("ForAllValues:StringNotLike", "key1*", ["key1x", "key2"], False),
    ("ForAllValues:StringNotLike", "key1*", None, True),
    ("ForAnyValue:StringNotEquals", "a", ["a", "b"], True),  # some value equals none of the policy values
    ("ForAnyValue:StringNotEquals", "a", ["a"], False),
    ("ForAnyValue:StringNotEquals", "a", None, False),  # ForAnyValue wins over negation when missing
    ("ForAnyValue:StringEqualsIfExists", "a", None, True),
    ("ForAnyValue:NumericGreaterThan", "5", ["1", "9"], True),
    ("ForAllValues:NumericGreaterThan", "5", ["1", "9"], False),
    ("ForAnyValue:ArnLike", "arn:aws:iam::*:role/admin", ["arn:aws:iam::1:user/x", "arn:aws:iam::1:role/admin"], True),
    # no qualifier with a list in the request: any request value may match; the negation is its exact opposite
    ("StringEquals", "a", ["b", "a"], True),
    ("StringEquals", "a", ["b", "c"], False),
    ("StringNotEquals", "a", ["b", "a"], False),
    ("StringNotEquals", "a", ["b", "c"], True),
    ("StringEquals", "a", [], False),  # empty list: absent
    ("StringEqualsIfExists", "a", [], True),
]


@pytest.mark.parametrize(
    ("operator", "policy_values", "request_value", "expected"),
    SET_CASES,
    ids=[f"{op}-{pv}-{rv}" for op, pv, rv, _ in SET_CASES],
)
def test_set_qualifiers_and_multivalued_keys(
    operator: str, policy_values: Any, request_value: Any, expected: bool
) -> None:
    context = {} if request_value is None else {KEY: request_value}
    assert holds({operator: {KEY: policy_values}}, context) is expected


# --- structure of a Condition block --------------------------------------------------------------------------------

TWO_OPERATORS = {"StringEquals": {"a:x": "1"}, "Bool": {"a:y": "true"}}
TWO_KEYS = {"StringEquals": {"a:x": "1", "a:y": "2"}}


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        (TWO_OPERATORS, {"a:x": "1", "a:y": "true"}, True),
        (TWO_OPERATORS, {"a:x": "1", "a:y": "false"}, False),  # operators are AND-ed
        (TWO_OPERATORS, {"a:x": "2", "a:y": "true"}, False),
        (TWO_KEYS, {"a:x": "1", "a:y": "2"}, True),
        (TWO_KEYS, {"a:x": "1"}, False),  # keys under one operator are AND-ed
        ({"StringEquals": {"a:x": ["1", "2"]}}, {"a:x": "2"}, True),  # values are OR-ed
        ({}, {}, True),  # an empty block always holds
    ],
    ids=["and-both", "and-second-fails", "and-first-fails", "keys-both", "keys-one-missing", "values-or", "empty"],
)
def test_condition_block_structure(condition: dict[str, Any], context: dict[str, str], expected: bool) -> None:
    assert holds(condition, context) is expected


@pytest.mark.parametrize(
    ("policy_key", "request_key"),
    [
        ("aws:UserName", "aws:username"),
        ("aws:username", "AWS:USERNAME"),
        ("aws:PrincipalTag/Team", "aws:principaltag/team"),
    ],
)
def test_condition_keys_are_case_insensitive(policy_key: str, request_key: str) -> None:
    assert holds({"StringEquals": {policy_key: "alice"}}, {request_key: "alice"})
    assert holds({"Null": {policy_key: "false"}}, {request_key: "alice"})


# --- policy variables ----------------------------------------------------------------------------------------------

HOME = "arn:aws:s3:::bucket/home/${aws:username}/*"


@pytest.mark.parametrize(
    ("resource_pattern", "resource", "context", "expected"),
    [
        (HOME, "arn:aws:s3:::bucket/home/alice/f", {"aws:username": "alice"}, True),
        (HOME, "arn:aws:s3:::bucket/home/bob/f", {"aws:username": "alice"}, False),
        (HOME, "arn:aws:s3:::bucket/home/alice/f", {"AWS:UserName": "alice"}, True),  # key case-insensitive
        (
            "arn:aws:s3:::bucket/home/${AWS:USERNAME}/*",
            "arn:aws:s3:::bucket/home/alice/f",
            {"aws:username": "alice"},
            True,
        ),
        (HOME, "arn:aws:s3:::bucket/home/alice/f", {}, False),  # missing key: the entry does not match
        (HOME, "arn:aws:s3:::bucket/home//f", {}, False),
        (HOME, "arn:aws:s3:::bucket/home/alice/f", {"aws:username": ["alice", "bob"]}, False),  # multivalued key
        (HOME, "arn:aws:s3:::bucket/home/alice/f", {"aws:username": ["alice"]}, False),
        ("arn:aws:s3:::bucket/${aws:username, 'anon'}/*", "arn:aws:s3:::bucket/anon/f", {}, True),  # default
        ("arn:aws:s3:::bucket/${aws:username,'anon'}/*", "arn:aws:s3:::bucket/bob/f", {"aws:username": "bob"}, True),
        (
            "arn:aws:s3:::bucket/${aws:PrincipalTag/Team}",
            "arn:aws:s3:::bucket/red",
            {"aws:PrincipalTag/team": "red"},
            True,
        ),
        ("arn:aws:s3:::bucket/${*}", "arn:aws:s3:::bucket/*", {}, True),  # ${*} is a literal asterisk
        ("arn:aws:s3:::bucket/${*}", "arn:aws:s3:::bucket/x", {}, False),
        ("arn:aws:s3:::bucket/a${?}", "arn:aws:s3:::bucket/a?", {}, True),
        ("arn:aws:s3:::bucket/a${?}", "arn:aws:s3:::bucket/ab", {}, False),
        ("arn:aws:s3:::bucket/${$}x", "arn:aws:s3:::bucket/$x", {}, True),
        (
            "arn:aws:s3:::bucket/${aws:username}",
            "arn:aws:s3:::bucket/x",
            {"aws:username": "*"},
            False,
        ),  # value is literal
        ("arn:aws:s3:::bucket/${aws:username}", "arn:aws:s3:::bucket/*", {"aws:username": "*"}, True),
    ],
)
def test_variables_in_resource(resource_pattern: str, resource: str, context: dict[str, Any], expected: bool) -> None:
    assert (decide([policy(allow(Resource=resource_pattern))], resource=resource, **context) == "Allowed") is expected


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        (
            {"StringEquals": {"s3:prefix": "home/${aws:username}"}},
            {"s3:prefix": "home/alice", "aws:username": "alice"},
            True,
        ),
        (
            {"StringEquals": {"s3:prefix": "home/${aws:username}"}},
            {"s3:prefix": "home/bob", "aws:username": "alice"},
            False,
        ),
        ({"StringEquals": {"s3:prefix": "home/${aws:username}"}}, {"s3:prefix": "home/"}, False),  # missing variable
        (
            {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
            {"s3:prefix": "home/alice/x", "aws:username": "alice"},
            True,
        ),
        (
            {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
            {"s3:prefix": "home/bob/x", "aws:username": "alice"},
            False,
        ),
        ({"StringEqualsIgnoreCase": {"k:a": "${aws:username}"}}, {"k:a": "ALICE", "aws:username": "alice"}, True),
        ({"StringNotEquals": {"k:a": "${aws:username}"}}, {"k:a": "alice", "aws:username": "alice"}, False),
        ({"StringNotEquals": {"k:a": "${aws:username}"}}, {"k:a": "alice"}, True),  # missing variable: negation matches
        ({"StringNotEquals": {"k:a": ["${aws:username}", "bob"]}}, {"k:a": "bob"}, False),  # other values still apply
        ({"StringEquals": {"k:a": "${k:b, 'none'}"}}, {"k:a": "none"}, True),
        ({"StringEquals": {"k:a": "${*}"}}, {"k:a": "*"}, True),
        ({"StringLike": {"k:a": "${*}"}}, {"k:a": "anything"}, False),  # ${*} never acts as a wildcard
        (
            {"ArnLike": {"aws:SourceArn": "arn:aws:iam::*:user/${aws:username}"}},
            {"aws:SourceArn": "arn:aws:iam::1:user/alice", "aws:username": "alice"},
            True,
        ),
        ({"Bool": {"k:a": "${k:b}"}}, {"k:a": "TRUE", "k:b": "true"}, True),
    ],
)
def test_variables_in_condition_values(condition: dict[str, Any], context: dict[str, str], expected: bool) -> None:
    assert holds(condition, context) is expected


def test_condition_keys_are_not_variables() -> None:
    assert holds({"StringEquals": {"k:${aws:username}": "x"}}, {"k:${aws:username}": "x", "aws:username": "y"})


@pytest.mark.parametrize("version", ["2008-10-17", None])
def test_version_2008_and_missing_version_treat_variables_literally(version: str | None) -> None:
    doc = policy(allow(Resource="arn:aws:s3:::bucket/${aws:username}"), version=version)
    assert decide([doc], resource="arn:aws:s3:::bucket/alice", **{"aws:username": "alice"}) == "ImplicitlyDenied"
    assert decide([doc], resource="arn:aws:s3:::bucket/${aws:username}") == "Allowed"
    cond = {"StringEquals": {"k:a": "${aws:username}"}}
    assert holds(cond, {"k:a": "${aws:username}", "aws:username": "alice"}, version="2008-10-17")
    assert not holds(cond, {"k:a": "alice", "aws:username": "alice"}, version="2008-10-17")


def test_not_resource_entry_with_missing_variable_does_not_exclude() -> None:
    doc = policy({"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:iam::1:user/${aws:username}"})
    assert decide([doc], resource="arn:aws:iam::1:user/alice") == "ExplicitlyDenied"  # no aws:username
    assert decide([doc], resource="arn:aws:iam::1:user/alice", **{"aws:username": "alice"}) == "ImplicitlyDenied"


# --- actions, resources, wildcards, NotAction / NotResource --------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:GetObject", "s3:GetObject", True),
        ("s3:GetObject", "S3:getobject", True),  # actions are case-insensitive
        ("S3:GETOBJECT", "s3:GetObject", True),
        ("s3:Get*", "s3:GetObjectAcl", True),
        ("s3:Get*", "s3:PutObject", False),
        ("iam:?etUser", "iam:GetUser", True),
        ("iam:?etUser", "iam:GGetUser", False),
        ("iam:List*MFA*", "iam:ListVirtualMFADevices", True),
        ("*", "ec2:RunInstances", True),
        ("s3:GetObject", "s3:GetObjectAcl", False),  # whole-name match
    ],
)
def test_action_matching(pattern: str, action: str, expected: bool) -> None:
    assert (decide([policy(allow(Action=pattern))], action=action) == "Allowed") is expected


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", True),  # * spans "/"
        ("arn:aws:s3:::b*", "arn:aws:s3:::bucket/a:b", True),  # and ":"
        ("arn:aws:iam::*:user/*", "arn:aws:iam::123456789012:user/path/alice", True),
        ("arn:aws:s3:::bucket", "arn:aws:s3:::Bucket", False),  # resources are case-sensitive
        ("arn:aws:s3:::bucket-?", "arn:aws:s3:::bucket-1", True),
        ("arn:aws:s3:::bucket-?", "arn:aws:s3:::bucket-12", False),
        ("arn:aws:s3:::bucket.x", "arn:aws:s3:::bucketyx", False),  # regex characters are literal
        ("*", "arn:aws:s3:::anything", True),
        # a request resource "*" (action without a resource type) matches only a pattern that matches "*"
        ("*", "*", True),
        ("arn:aws:iam::1:user/x", "*", False),
        ("arn:aws:s3:::*", "*", False),
    ],
)
def test_resource_matching(pattern: str, resource: str, expected: bool) -> None:
    assert (decide([policy(allow(Resource=pattern))], resource=resource) == "Allowed") is expected


def test_not_action() -> None:
    doc = policy({"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"})
    assert decide([doc], action="s3:GetObject") == "Allowed"
    assert decide([doc], action="IAM:GetUser") == "ImplicitlyDenied"
    assert decide([doc], action="sts:GetSessionToken") == "ImplicitlyDenied"


def test_not_resource() -> None:
    doc = policy({"Effect": "Allow", "Action": "s3:*", "NotResource": ["arn:aws:s3:::secret", "arn:aws:s3:::secret/*"]})
    assert decide([doc], resource="arn:aws:s3:::public/x") == "Allowed"
    assert decide([doc], resource="arn:aws:s3:::secret/x") == "ImplicitlyDenied"
    assert decide([doc], resource="*") == "Allowed"  # "*" is not one of the excluded ARNs


def test_resource_list_is_or() -> None:
    doc = policy(allow(Resource=["arn:aws:s3:::a", "arn:aws:s3:::b/${aws:username}"]))
    assert decide([doc], resource="arn:aws:s3:::a") == "Allowed"
    assert decide([doc], resource="arn:aws:s3:::b/alice", **{"aws:username": "alice"}) == "Allowed"
    assert decide([doc], resource="arn:aws:s3:::c") == "ImplicitlyDenied"


# --- decisions and the matched list --------------------------------------------------------------------------------


def test_deny_wins_across_policies_and_matched_lists_only_denies() -> None:
    allows = policy(allow(Sid="AllowS3", Action="s3:*"), allow(Sid="AllowGet"))
    denies = policy(deny(Sid="DenyGet"), deny(Sid="DenyPut", Action="s3:PutObject"), deny(Sid="DenyAll", Action="*"))
    result = PolicySet([allows, denies]).evaluate(Request("s3:GetObject", "*"))
    assert result == Result("ExplicitlyDenied", (Match(1, 0, "DenyGet", "Deny"), Match(1, 2, "DenyAll", "Deny")))


def test_allowed_lists_every_matching_allow_in_order() -> None:
    first = policy(allow(Sid="A", Action="s3:*"), allow(Sid="B", Action="iam:*"))
    second = {"Version": "2012-10-17", "Statement": allow(Action="s3:Get*")}  # Statement as a single object
    result = PolicySet([first, json.dumps(second)]).evaluate(Request("s3:GetObject", "*"))
    assert result == Result("Allowed", (Match(0, 0, "A", "Allow"), Match(1, 0, None, "Allow")))


def test_implicit_deny_has_no_matches() -> None:
    assert PolicySet([policy(allow())]).evaluate(Request("s3:PutObject", "*")) == Result("ImplicitlyDenied", ())
    assert PolicySet([]).evaluate(Request("s3:PutObject", "*")) == Result("ImplicitlyDenied", ())


def test_deny_whose_condition_fails_does_not_deny() -> None:
    docs = [policy(allow(), deny(Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}))]
    assert decide(docs, **{"aws:MultiFactorAuthPresent": "true"}) == "Allowed"
    assert decide(docs) == "Allowed"  # key absent (long-term keys): Bool is false, Deny does not apply
    assert decide(docs, **{"aws:MultiFactorAuthPresent": "false"}) == "ExplicitlyDenied"


def test_evaluate_convenience_and_cache() -> None:
    doc = policy(allow())
    assert evaluate([doc], Request("s3:GetObject", "*")).decision == "Allowed"
    assert cached_policy_set([doc]) is cached_policy_set([json.dumps(doc, indent=2)])  # same canonical JSON


def test_context_values_may_be_json_scalars() -> None:
    """The CLI passes JSON through: booleans become "true"/"false", numbers their text."""
    assert holds({"Bool": {"k:b": "true"}, "NumericEquals": {"k:n": "3"}}, {"k:b": True, "k:n": 3})
    with pytest.raises(ValueError, match="context value for 'k:x' must be a string or a list of strings"):
        holds({}, {"k:x": {"nested": 1}})


# --- grammar errors ------------------------------------------------------------------------------------------------


def bad_statement(**changes: Any) -> dict[str, Any]:
    statement = allow()
    for key, value in changes.items():
        if value is None:
            statement.pop(key)
        else:
            statement[key] = value
    return policy(statement)


def cond(operator: str, values: Any) -> dict[str, Any]:
    return bad_statement(Condition={operator: {"k:a": values}})


POLICY_ERRORS: list[tuple[Any, str]] = [
    (bad_statement(Principal="*"), r"policy 0 statement 0: Principal is not allowed in an identity-based policy"),
    (bad_statement(NotPrincipal={"AWS": "*"}), r"NotPrincipal is not allowed"),
    (bad_statement(NotAction="iam:*"), r"needs exactly one of Action or NotAction"),
    (bad_statement(Action=None), r"needs exactly one of Action or NotAction"),
    (bad_statement(NotResource="*"), r"needs exactly one of Resource or NotResource"),
    (bad_statement(Resource=None), r"needs exactly one of Resource or NotResource"),
    (bad_statement(Foo="bar"), r"unknown statement key\(s\) Foo"),
    (bad_statement(Effect="allow"), r"Effect must be Allow or Deny, not 'allow'"),
    (bad_statement(Effect=None), r"Effect must be Allow or Deny, not None"),
    (bad_statement(Sid=5), r"Sid must be a string"),
    (bad_statement(Action=[]), r"Action must be a non-empty string or list"),
    (bad_statement(Action="s3"), r"Action 's3' is not '\*' or 'service:action'"),
    (bad_statement(Resource="bucket"), r"Resource 'bucket' is not '\*' or an ARN"),
    (bad_statement(Resource=["*", 3]), r"Resource must be a non-empty string or list"),
    (bad_statement(Condition="x"), r"Condition must be an object"),
    (policy(allow(Sid="Same"), allow(Sid="Same")), r"policy 0: duplicate Sid 'Same'"),
    (policy("not a statement"), r"policy 0 statement 0: statement must be an object"),  # type: ignore[arg-type]
    ({"Version": "2012-10-17", "Statement": [], "Extra": 1}, r"policy 0: unknown top-level key\(s\) Extra"),
    ({"Version": "2020-01-01", "Statement": []}, r"policy 0: unsupported Version '2020-01-01'"),
    ({"Version": "2012-10-17"}, r"policy 0: missing Statement"),
    ("{not json", r"policy 0: invalid JSON"),
    ("[1, 2]", r"policy 0: must be a JSON object"),
    (cond("StringEqual", "x"), r"unknown condition operator 'StringEqual'"),
    (cond("IfExists", "x"), r"unknown condition operator 'IfExists'"),
    (cond("ForSomeValues:StringEquals", "x"), r"unknown set qualifier 'ForSomeValues'"),
    (cond("NullIfExists", "true"), r"IfExists cannot be used with Null"),
    (cond("ForAnyValue:Null", "true"), r"set qualifiers cannot be used with Null"),
    (cond("Null", "maybe"), r"Null takes true or false"),
    (cond("Bool", "yes"), r"Bool value 'yes' is not true or false"),
    (cond("NumericEquals", "ten"), r"invalid value 'ten'"),
    (cond("NumericEquals", "${aws:username}"), r"policy variables are not supported with NumericEquals"),
    (cond("DateLessThan", "someday"), r"invalid value 'someday'"),
    (cond("IpAddress", "203.0.113.0/33"), r"invalid value '203.0.113.0/33'"),
    (cond("BinaryEquals", "%%%"), r"invalid value '%%%'"),
    (cond("ArnLike", "arn:aws:iam"), r"is not an ARN"),
    (cond("StringEquals", []), r"values must be a non-empty string or list"),
    (cond("StringEquals", {"nested": 1}), r"values must be a non-empty string or list"),
    (cond("StringEquals", "${aws:username"), r"unterminated policy variable"),
    (cond("StringEquals", "${}"), r"invalid policy variable \$\{\}"),
    (bad_statement(Resource="arn:aws:s3:::b/${a b}"), r"Resource: invalid policy variable"),
    (bad_statement(Condition={"StringEquals": "x"}), r"must map condition keys to values"),
]


@pytest.mark.parametrize(("doc", "message"), POLICY_ERRORS, ids=[m for _, m in POLICY_ERRORS])
def test_policy_errors(doc: Any, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        PolicySet([doc])


def test_policy_error_names_statement_and_sid() -> None:
    doc = policy(allow(), allow(Sid="Second", Condition={"Strange": {"k:a": "x"}}))
    with pytest.raises(PolicyError, match=r"^policy 0 statement 1 \(Second\): condition 'Strange'"):
        PolicySet([doc])


def test_policy_error_is_a_value_error_and_policies_must_be_a_list() -> None:
    assert issubclass(PolicyError, ValueError)
    with pytest.raises(PolicyError, match="must be a list"):
        PolicySet(policy(allow()))  # type: ignore[arg-type]


# --- the seed policy -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> PolicySet:
    return PolicySet([SEED.read_text().replace("YOUR_ACCOUNT_ID", "123456789012")])


ALICE = "arn:aws:iam::123456789012:user/alice"


@pytest.mark.parametrize(
    ("action", "resource", "mfa", "expected"),
    [
        ("s3:ListBucket", "*", "false", "ExplicitlyDenied"),
        ("s3:ListBucket", "*", "true", "ImplicitlyDenied"),  # the seed alone grants nothing else
        ("s3:ListBucket", "*", None, "ImplicitlyDenied"),  # long-term keys: no MFA key, Bool deny does not apply
        ("iam:ListMFADevices", ALICE, "false", "Allowed"),
        ("iam:EnableMFADevice", "arn:aws:iam::123456789012:mfa/alice", "false", "Allowed"),
        ("iam:ChangePassword", ALICE, "false", "Allowed"),
        ("iam:ChangePassword", "arn:aws:iam::123456789012:user/bob", "false", "ExplicitlyDenied"),
        ("iam:GetAccountSummary", "*", "false", "ExplicitlyDenied"),  # scoped to a user ARN, denied on "*"
        ("iam:ListUsers", "*", "false", "Allowed"),
    ],
)
def test_seed_policy(seed: PolicySet, action: str, resource: str, mfa: str | None, expected: str) -> None:
    context = {"aws:username": "alice"} | ({} if mfa is None else {"aws:MultiFactorAuthPresent": mfa})
    assert seed.evaluate(Request(action, resource, context, principal=ALICE)).decision == expected


def test_seed_deny_reports_its_sid(seed: PolicySet) -> None:
    result = seed.evaluate(
        Request("s3:ListBucket", "*", {"aws:MultiFactorAuthPresent": "false", "aws:username": "alice"})
    )
    assert result.matched == (Match(0, 4, "DenyEverythingExceptForBelowUnlessMFAd", "Deny"),)


# --- the command line ----------------------------------------------------------------------------------------------

CLI_POLICY = policy(
    allow(Sid="Get"), deny(Sid="NoMfa", Action="*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}})
)


def test_cli_evaluate_lines_in_order_with_errors() -> None:
    lines = [
        json.dumps({"policies": [CLI_POLICY], "principal": ALICE, "action": "s3:GetObject", "resource": "*"}),
        "{this is not json",
        "",
        json.dumps(
            {
                "policies": [json.dumps(CLI_POLICY)],
                "action": "s3:GetObject",
                "resource": "*",
                "context": {"aws:MultiFactorAuthPresent": "false"},
            }
        ),
        json.dumps({"policies": [policy(allow(Principal="*"))], "action": "s3:GetObject", "resource": "*"}),
        json.dumps({"policies": [CLI_POLICY], "resource": "*"}),
        "   ",
        json.dumps(
            {"policies": [CLI_POLICY], "action": "s3:PutObject", "resource": "*", "context": {"k:list": ["a", "b"]}}
        ),
    ]
    done = subprocess.run(
        [str(CLI), "evaluate"], input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert out[0] == {
        "decision": "Allowed",
        "matched": [{"policy_index": 0, "statement_index": 0, "sid": "Get", "effect": "Allow"}],
    }
    assert out[1]["error"].startswith("invalid JSON")
    assert out[2] == {
        "decision": "ExplicitlyDenied",
        "matched": [{"policy_index": 0, "statement_index": 1, "sid": "NoMfa", "effect": "Deny"}],
    }
    assert "Principal is not allowed" in out[3]["error"]
    assert out[4] == {"error": "missing field(s): action"}
    assert out[5] == {"decision": "ImplicitlyDenied", "matched": []}
    assert len(out) == 6  # blank lines produce nothing


def test_cli_answers_each_line_before_the_next_arrives() -> None:
    request = json.dumps({"policies": [CLI_POLICY], "action": "s3:GetObject", "resource": "*"}) + "\n"
    with subprocess.Popen([str(CLI), "evaluate"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for _ in range(2):
            proc.stdin.write(request)
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], 30)
            assert ready, "no answer while stdin is still open"
            assert json.loads(proc.stdout.readline())["decision"] == "Allowed"
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0


# --- outside identity policies' reach: a resource policy is required --------------------------------------------

ALLOW_EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
USER = "arn:aws:iam::123456789012:user/alice"


@pytest.mark.parametrize(
    ("action", "resource", "why"),
    [
        ("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "key policy"),
        ("sts:AssumeRole", "arn:aws:iam::123456789012:role/admin", "trust policy"),
        ("sts:AssumeRoleWithWebIdentity", "arn:aws:iam::123456789012:role/ci", "trust policy"),
        ("s3:GetObject", "arn:aws:s3:::bucket/key", None),  # S3 ARNs name no account
        ("iam:GetRole", "arn:aws:iam::210987654321:role/admin", "another account"),
        ("iam:GetUser", USER, None),
        ("kms:ListKeys", "*", None),
    ],
)
def test_never_allowed_where_a_resource_policy_is_required(action: str, resource: str, why: str | None) -> None:
    result = evaluate([ALLOW_EVERYTHING], Request(action, resource, {}, USER))
    if why is None:
        assert (result.decision, result.note) == ("Allowed", None)
    else:
        assert result.decision == "ImplicitlyDenied" and result.matched == ()
        assert result.note and why in result.note


def test_explicit_deny_is_kept_where_a_resource_policy_is_required() -> None:
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]}
    key = "arn:aws:kms:us-east-1:123456789012:key/k"
    result = evaluate([ALLOW_EVERYTHING, deny], Request("kms:Decrypt", key, {}, USER))
    assert (result.decision, result.note) == ("ExplicitlyDenied", None)


def test_evaluate_command_prints_the_note(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    line = json.dumps(
        {
            "policies": [ALLOW_EVERYTHING],
            "principal": USER,
            "action": "sts:AssumeRole",
            "resource": "arn:aws:iam::123456789012:role/r",
        }
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(line + "\n"))
    assert cli.main(["evaluate"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["decision"] == "ImplicitlyDenied" and "trust policy" in answer["note"]
