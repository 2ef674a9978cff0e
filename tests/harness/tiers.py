"""pytest plugin (tests/conftest.py loads it): the `localstack` marker on every test whose fixtures reach the
`localstack` fixture, so that `pytest -m "not localstack"` is the offline tier; and a guard that LocalStack is
started for no test without the marker (one that asks for the fixture at run time, with getfixturevalue)."""

from __future__ import annotations

import pytest

LOCALSTACK = "localstack"  # the fixture's name and the marker's (declared in pyproject.toml)
RUNNING = pytest.StashKey[pytest.Item]()


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects (pytest's own collection_modifyitems)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test whose fixture closure (its fixtures and theirs, transitively) includes `localstack` gets the marker."""
    for item in items:
        if LOCALSTACK in getattr(item, "fixturenames", ()) and not item.get_closest_marker(LOCALSTACK):
            item.add_marker(LOCALSTACK)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> object:
    item.config.stash[RUNNING] = item
    try:
        return (yield)
    finally:
        del item.config.stash[RUNNING]


def pytest_fixture_setup(fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest) -> None:
    if fixturedef.argname != LOCALSTACK:
        return
    item = request.config.stash.get(RUNNING, None)
    if item is None or not item.get_closest_marker(LOCALSTACK):
        name = item.nodeid if item is not None else "a test"
        pytest.fail(
            f"{name} starts LocalStack without the `{LOCALSTACK}` marker, so `-m 'not {LOCALSTACK}'` would run it: "
            f"request the `{LOCALSTACK}` fixture (or one that needs it) as an argument, or mark the test",
            pytrace=False,
        )
