"""Wildcard matching (Resource, StringLike, ArnLike): decided without backtracking, with the semantics of a plain
regular-expression translation, which is the reference here on inputs small enough for it to backtrack freely."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mfa_required.evaluator import PolicySet, Request

ACCOUNT = "123456789012"
VARIABLE = "${aws:username}"
KEY = "aws:SourceArn"


def allowed(statement: dict[str, Any], request: Request) -> bool:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}
    return PolicySet([document]).evaluate(request).decision == "Allowed"


def hostile(wildcards: int) -> str:
    """The issue's inline policy resource, grown: each `*a` multiplies a backtracking matcher's work."""
    return f"arn:aws:iam::*:user/{'*a' * wildcards}*c?"


LONG_PATH = "a" * (1000 - len(f"arn:aws:iam::{ACCOUNT}:user/") - 2)


@pytest.mark.parametrize(
    ("name", "expected"),
    [(LONG_PATH + "ab", False), (LONG_PATH + "cb", True), (LONG_PATH[:-30] + "c", False), ("ac", False)],
)
def test_twenty_wildcards_against_a_1000_character_arn(name: str, expected: bool) -> None:
    """A backtracking matcher takes longer than any test run on the mismatches (each added `*a` multiplies the
    work); a linear one answers in milliseconds. Speed itself is a bench figure: this checks the answers."""
    arn = f"arn:aws:iam::{ACCOUNT}:user/{name}"
    if name.startswith(LONG_PATH):
        assert len(arn) == 1000
    request = Request("iam:GetUser", arn, {KEY: arn, "aws:username": "alice"})
    assert allowed({"Action": "iam:GetUser", "Resource": hostile(20)}, request) is expected
    for operator in ("ArnLike", "StringLike"):
        condition = {operator: {KEY: hostile(20)}}
        assert allowed({"Action": "iam:GetUser", "Resource": "*", "Condition": condition}, request) is expected
    # The same pattern behind a policy variable: compiled per request, matched alike
    dynamic = f"arn:aws:iam::*:user/{'*a' * 20}*${{aws:username}}?"
    request = Request("iam:GetUser", arn, {"aws:username": "c"})
    assert allowed({"Action": "iam:GetUser", "Resource": dynamic}, request) is expected


# --- property: the same answers as a regular-expression translation --------------------------------------------------

PIECES = ["a", "b", ":", "/", "*", "?", VARIABLE]
TEXT = st.text(alphabet="ab:/*?", max_size=6)


def reference(pieces: list[str], username: str, value: str, arn: bool) -> bool:
    """The pattern as a backtracking regex: `*` is `.*` and `?` is `.`, except in the first five colon-separated
    components of an ARN pattern, where they are `[^:]*` and `[^:]`; a variable's value is literal text and its
    own colon (in `aws:username`) is no separator."""
    source, colons = [], 0
    for piece in pieces:
        if piece == VARIABLE:
            source.append(re.escape(username))
        elif piece in "*?":
            inside = arn and colons < 5
            source.append(("[^:]" if inside else ".") + ("*" if piece == "*" else ""))
        else:
            colons += piece == ":"
            source.append(re.escape(piece))
    return re.fullmatch("".join(source), value, re.DOTALL) is not None


def concrete(data: st.DataObject, pieces: list[str], username: str) -> str:
    """A value the pattern is likely to match, then perhaps mutated: random values alone would almost never match."""
    out = []
    for piece in pieces:
        if piece == "*":
            out.append(data.draw(st.text(alphabet="ab:/", max_size=3)))
        elif piece == "?":
            out.append(data.draw(st.sampled_from("ab:/")))
        else:
            out.append(username if piece == VARIABLE else piece)
    value = "".join(out)
    if data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(value)))
        value = value[:i] + data.draw(TEXT) + value[i + data.draw(st.integers(0, 2)) :]
    return value


PATTERN = st.lists(st.sampled_from(PIECES), max_size=12)
PROPERTY = settings(max_examples=600, deadline=None, derandomize=True, database=None)


@PROPERTY
@given(PATTERN, TEXT, st.data())
def test_string_like_matches_as_the_regex_translation(pieces: list[str], username: str, data: st.DataObject) -> None:
    value = data.draw(st.one_of(TEXT, st.just(concrete(data, pieces, username))))
    condition = {"StringLike": {KEY: "".join(pieces)}}
    request = Request("s3:GetObject", "*", {KEY: value, "aws:username": username})
    assert allowed({"Action": "s3:GetObject", "Resource": "*", "Condition": condition}, request) is reference(
        pieces, username, value, arn=False
    )


@PROPERTY
@given(PATTERN, TEXT, st.data())
def test_resource_matches_as_the_regex_translation(pieces: list[str], username: str, data: st.DataObject) -> None:
    pieces = ["arn:aws:s3:::", *pieces]  # a Resource is an ARN, matched like StringLike
    value = concrete(data, pieces, username)
    request = Request("s3:GetObject", value, {"aws:username": username})
    assert allowed({"Action": "s3:GetObject", "Resource": "".join(pieces)}, request) is reference(
        pieces, username, value, arn=False
    )


COMPONENT = st.lists(st.sampled_from([p for p in PIECES if p != ":"]), max_size=3)


@PROPERTY
@given(st.lists(COMPONENT, min_size=6, max_size=6), PATTERN, TEXT, st.data())
def test_arn_like_keeps_wildcards_inside_components(
    components: list[list[str]], rest: list[str], username: str, data: st.DataObject
) -> None:
    pieces = [piece for i, c in enumerate(components) for piece in ([":"] if i else []) + c] + rest
    value = concrete(data, pieces, username)
    request = Request("s3:GetObject", "*", {KEY: value, "aws:username": username})
    for operator in ("ArnLike", "ArnEquals", "ArnNotLike"):
        condition = {operator: {KEY: "".join(pieces)}}
        expected = reference(pieces, username, value, arn=True) != (operator == "ArnNotLike")
        assert allowed({"Action": "s3:GetObject", "Resource": "*", "Condition": condition}, request) is expected


@PROPERTY
@given(st.lists(st.sampled_from(["Get", "get", "o", "*", "?"]), min_size=1, max_size=6), st.data())
def test_action_patterns_match_as_the_regex_translation(pieces: list[str], data: st.DataObject) -> None:
    """Actions: case-insensitive, and a wildcard stands for any text of the action's name."""
    name = "".join(
        data.draw(st.text(alphabet="GgEeTtOo", max_size=2)) if p == "*" else "o" if p == "?" else p for p in pieces
    )
    action = f"s3:{name}" if name else "s3:GetObject"
    expected = reference(["s3:", *[p.lower() for p in pieces]], "", action.lower(), arn=False)
    assert allowed({"Action": "s3:" + "".join(pieces), "Resource": "*"}, Request(action, "*")) is expected
