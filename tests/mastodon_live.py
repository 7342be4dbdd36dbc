"""A live server for the tests that drive real Mastodon clients (Mastodon.py, toot) over HTTP.

tests/conftest.py registers this module as a plugin, so a test may ask for ``live`` (the base URL of
the app served on a free loopback port, with alice and bob signed up) or ``live_site`` (the URL and
the app itself). A test module changes the app's settings by overriding the ``live_settings`` fixture.
``consent_in_browser`` is what a person does with the authorize URL an app shows them;
``user_token`` is the whole code flow over plain HTTP, for a client that is handed a token.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from microblog.extensions import limiter
from tests.conftest import require_or_skip
from tests.factories import DEFAULT_PASSWORD, make_user

# The people of the live site, and what their profiles say.
USERS = {"alice": "I post things.", "bob": "I read things."}
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
HIDDEN_RE = re.compile(r'<input id="[^"]*" name="([^"]+)" type="hidden" value="([^"]*)"')
CODE_RE = re.compile(r'id="oauth-code" value="([^"]+)"')


@dataclass(frozen=True)
class LiveSite:
    url: str
    app: Flask


def require_client(available: bool, what: str) -> None:
    """Skip a test whose client is not installed; fail instead under REQUIRE_CLIENTS=1 (CI)."""
    require_or_skip(available, what, "REQUIRE_CLIENTS")


@pytest.fixture
def live_settings() -> dict[str, Any]:
    """Extra settings of the live app: a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
def live_site(make_app, live_settings) -> Iterator[LiveSite]:
    """The app (CSRF on, as in production) served on a free port in a thread, alice and bob signed up."""
    # Limits on: Mastodon.py reads the X-RateLimit-* headers (the reset as an ISO 8601 time).
    app: Flask = make_app(WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True, **live_settings)
    with app.app_context():
        limiter.reset()
        for username, about_me in USERS.items():
            make_user(username, about_me=about_me)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["SITE_URL"] = base  # the OAuth metadata and the entities' URLs name the live server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield LiveSite(base, app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def live(live_site: LiveSite) -> str:
    """The live server's base URL."""
    return live_site.url


def consent_in_browser(base: str, url: str, username: str = "alice") -> str:
    """What the person does in their browser: sign in when asked, press Authorize, read the code."""
    browser = requests.Session()
    page = browser.get(url, timeout=30)
    assert "/auth/login" in page.url  # signed out: sent to sign in first
    token = CSRF_RE.search(page.text).group(1)
    sign_in = {"username": username, "password": DEFAULT_PASSWORD, "csrf_token": token}
    page = browser.post(page.url, data=sign_in, timeout=30)
    assert page.url.startswith(f"{base}/oauth/authorize"), page.url  # and back to the consent page
    assert "Authorize" in page.text
    form = dict(HIDDEN_RE.findall(page.text))
    form["authorize"] = "Authorize"
    answer = browser.post(f"{base}/oauth/authorize", data=form, timeout=30)
    assert answer.status_code == 200
    return CODE_RE.search(answer.text).group(1)


def user_token(base: str, username: str, scopes: str = "read write follow push") -> str:
    """An access token for ``username``: register an app, consent in the browser, exchange the code."""
    oob = "urn:ietf:wg:oauth:2.0:oob"
    app = requests.post(f"{base}/api/v1/apps", timeout=30,
                        data={"client_name": f"{username}'s app", "redirect_uris": oob, "scopes": scopes})
    assert app.status_code == 200, app.text
    client = app.json()
    query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": oob, "scope": scopes}
    code = consent_in_browser(base, f"{base}/oauth/authorize?{urlencode(query)}", username)
    token = requests.post(f"{base}/oauth/token", timeout=30,
                          data={"grant_type": "authorization_code", "code": code, "redirect_uri": oob,
                                "client_id": client["client_id"], "client_secret": client["client_secret"]})
    assert token.status_code == 200, token.text
    return token.json()["access_token"]
