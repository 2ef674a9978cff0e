"""The offline tier (`pytest -m "not localstack"`): the harness marks every test whose fixtures reach `localstack`,
and LocalStack is never started for a test without the marker. Checked on a small suite run in process, with a
`localstack` fixture that records its set-up instead of starting anything."""

from __future__ import annotations

import pytest

CONFTEST = """
import pytest

pytest_plugins = ("harness.tiers",)
STARTED = []


@pytest.fixture(scope="session")
def localstack():
    STARTED.append("localstack")
    return "http://127.0.0.1:9"


@pytest.fixture
def endpoint(localstack):
    return localstack


def pytest_sessionfinish(session):
    print(f"localstack set up {len(STARTED)} time(s)")
"""
TESTS = """
import pytest


def test_offline():
    pass


def test_through_another_fixture(endpoint):
    pass


def test_directly(localstack):
    pass


@pytest.mark.localstack
def test_marked_by_hand(request):
    request.getfixturevalue("localstack")


def test_asks_at_run_time(request):
    request.getfixturevalue("localstack")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_suite=TESTS)
    pytester.makeini("[pytest]\nmarkers =\n    localstack: needs LocalStack\naddopts = --strict-markers -p no:xdist\n")
    return pytester


def test_offline_tier_deselects_every_test_that_reaches_localstack(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-m", "not localstack", "-s")
    result.assert_outcomes(passed=1, failed=1, deselected=3)
    result.stdout.fnmatch_lines(["*localstack set up 0 time(s)*"])
    # The one failure: a test that would start LocalStack unmarked fails before it starts, saying why.
    result.stdout.fnmatch_lines(["*test_asks_at_run_time*starts LocalStack without the `localstack` marker*"])


def test_localstack_tier_is_the_rest(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-m", "localstack", "-s")
    result.assert_outcomes(passed=3, deselected=2)
    result.stdout.fnmatch_lines(["*localstack set up 1 time(s)*"])
