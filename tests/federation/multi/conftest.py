"""Fixtures of the multi-instance suite: real instances of the app (harness.py), started once per
module, and their logs shown with a failed test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.federation.multi.harness import Instance, migrated_database


@dataclass
class Fediverse:
    """Three sites: ``a`` and ``b`` for most flows, ``c`` the one a test may take down and bring back."""

    a: Instance
    b: Instance
    c: Instance

    def __iter__(self) -> Iterator[Instance]:
        return iter((self.a, self.b, self.c))


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Iterator:
    """One database migrated by ``flask db upgrade``: each instance starts as a copy of it."""
    yield migrated_database(tmp_path_factory.mktemp("fediverse-template"))


@pytest.fixture(scope="module")
def fediverse(tmp_path_factory, migrated_template) -> Iterator[Fediverse]:
    """Three instances of the app, each its own process, database, folder and SITE_URL."""
    root = tmp_path_factory.mktemp("fediverse")
    sites = Fediverse(*(Instance.create(name, root / name, migrated_template) for name in ("a", "b", "c")))
    try:
        for site in sites:
            site.start()
        yield sites
    finally:
        for site in sites:
            site.stop()


@pytest.fixture(autouse=True)
def _server_logs(request) -> Iterator[None]:
    """Remember where each instance's log stood when the test began, for the report of a failure."""
    if "fediverse" not in request.fixturenames:
        yield
        return
    sites: Fediverse = request.getfixturevalue("fediverse")
    request.node.stash[LOGS] = [(site, site.log_size()) for site in sites]
    yield


LOGS = pytest.StashKey[list]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and LOGS in item.stash:
        for site, offset in item.stash[LOGS]:
            report.sections.append((f"instance {site.name} ({site.url}) log: {site.log}",
                                    site.log_since(offset)))
