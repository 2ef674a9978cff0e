"""pytest plugin (tests/conftest.py loads it): xdist groups from each test module's XDIST_GROUP, and a check that
they hold, since a split group costs time silently (each worker then runs the group's terraform fixtures)."""

from __future__ import annotations

import pytest

UNGROUPED = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests sharing a session fixture that runs terraform stay on one xdist worker (--dist loadgroup)."""
    for item in items:
        group = getattr(getattr(item, "module", None), "XDIST_GROUP", None)
        if group and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(group))


def pytest_collection_finish(session: pytest.Session) -> None:
    """On an xdist worker with --dist loadgroup, note the grouped tests whose node id lacks its `@group` suffix.

    xdist's controller groups tests by that suffix, which xdist appends to node ids on the worker. With pytest 9.2
    and pytest-xdist 3.8 it never reaches the node id (pytest-dev/pytest-xdist#1386): every group is split across
    workers and each worker runs every shared terraform fixture, slower and silently. Such tests fail instead.
    """
    if not getattr(session.config.option, "loadgroup", False):  # xdist sets it on workers for --dist loadgroup
        return
    for item in session.items:
        marks = item.iter_markers("xdist_group")
        groups = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default")) for mark in marks})
        if groups and not item.nodeid.endswith("@" + "_".join(groups)):
            item.stash[UNGROUPED] = "_".join(groups)


@pytest.hookimpl(tryfirst=True)  # before any fixture is set up
def pytest_runtest_setup(item: pytest.Item) -> None:
    if UNGROUPED in item.stash:
        pytest.fail(
            f"--dist loadgroup does not hold: this test's node id lacks @{item.stash[UNGROUPED]}, so xdist may run "
            "its group on several workers (pytest-dev/pytest-xdist#1386; see requirements/harness.txt)",
            pytrace=False,
        )
