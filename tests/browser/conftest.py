"""Fixtures for browser tests: a live server on a real SQLite file, one Chromium per session.

Chromium comes from the system (Debian's ``chromium`` package), never from ``playwright install``.
Without it, or without the ``playwright`` package, the tests skip; with ``REQUIRE_BROWSER=1`` (CI)
they fail instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import require_or_skip

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # the browser fixture turns this into a skip (or a failure in CI)
    sync_playwright = None

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000  # fail fast: every page here is local and small


@pytest.fixture
def database(tmp_path) -> dict:
    """SQLite only: the browser checks the pages, the main suite covers both databases."""
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.db'}"}


@pytest.fixture
def live_app(make_app) -> Flask:
    """The app the live server runs. CSRF is on: a real browser submits real forms with their tokens."""
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    """Serve ``live_app`` on a free port in a daemon thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    require_or_skip(sync_playwright is not None, "Playwright for Python (the playwright package)",
                    "REQUIRE_BROWSER")
    require_or_skip(os.access(CHROMIUM, os.X_OK), f"Chromium ({CHROMIUM})", "REQUIRE_BROWSER")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, live_server):
    """Open fresh browser contexts (own cookies and cache) on the live server; all closed at teardown."""
    contexts = []

    def _new(**options):
        context = browser.new_context(base_url=live_server, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context, request, tmp_path):
    """A fresh page in a fresh context. On failure, a screenshot is left in the test's tmp_path."""
    page = new_context().new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and not page.is_closed():
        path = tmp_path / "failure.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failing page: {path} (at {page.url})")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep the call-phase report on the item, so the ``page`` fixture knows whether the test failed."""
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
