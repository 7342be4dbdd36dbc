"""A real Mastodon client against a running server: Mastodon.py registers an app, sends a person to the
consent page (here a requests session that signs in and presses Authorize, CSRF token and all), logs in
with the code, and reads the account and the instance, over HTTP as any app would."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from microblog.extensions import limiter
from tests.conftest import require_or_skip
from tests.factories import DEFAULT_PASSWORD, make_user

try:
    from mastodon import Mastodon, MastodonUnauthorizedError
except ImportError:  # the fixture turns this into a skip (or a failure under REQUIRE_CLIENTS=1)
    Mastodon = MastodonUnauthorizedError = None

SCOPES = ["read", "write", "follow", "push"]
OOB = "urn:ietf:wg:oauth:2.0:oob"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def live(make_app) -> Iterator[str]:
    """The app (CSRF on, as in production) served on a free port in a thread; its base URL."""
    require_or_skip(Mastodon is not None, "Mastodon.py (requirements-dev.txt)", "REQUIRE_CLIENTS")
    # Limits on: Mastodon.py reads the X-RateLimit-* headers (the reset as an ISO 8601 time).
    app: Flask = make_app(WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True)
    with app.app_context():
        limiter.reset()
        make_user("alice", about_me="I post things.")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["SITE_URL"] = base  # the OAuth metadata and the entities' URLs name the live server
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def consent_in_browser(base: str, url: str) -> str:
    """What the person does in their browser: sign in when asked, press Authorize, read the code."""
    browser = requests.Session()
    page = browser.get(url, timeout=30)
    assert "/auth/login" in page.url  # signed out: sent to sign in first
    token = CSRF_RE.search(page.text).group(1)
    sign_in = {"username": "alice", "password": DEFAULT_PASSWORD, "csrf_token": token}
    page = browser.post(page.url, data=sign_in, timeout=30)
    assert page.url.startswith(f"{base}/oauth/authorize?"), page.url  # and back to the consent page
    assert "Authorize" in page.text
    form = dict(re.findall(r'<input id="[^"]*" name="([^"]+)" type="hidden" value="([^"]*)"', page.text))
    form["authorize"] = "Authorize"
    answer = browser.post(f"{base}/oauth/authorize", data=form, timeout=30)
    assert answer.status_code == 200
    return re.search(r'id="oauth-code" value="([^"]+)"', answer.text).group(1)


def test_mastodon_py_signs_in_and_reads_the_account_and_the_instance(live):
    client_id, client_secret = Mastodon.create_app("pytest client", scopes=SCOPES, redirect_uris=OOB,
                                                   website="https://example.com", api_base_url=live)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=live)
    url = api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True)
    assert url.startswith(f"{live}/oauth/authorize?")
    code = consent_in_browser(live, url)
    token = api.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
    assert token

    me = api.account_verify_credentials()
    assert me.username == "alice" and me.acct == "alice"
    assert me.source.note == "I post things."
    assert api.app_verify_credentials().name == "pytest client"

    v1 = api.instance_v1()
    assert v1.version.startswith("4.3.0 (compatible; microblog")
    v2 = api.instance_v2()
    assert v2.api_versions["mastodon"] == 2
    assert v2.configuration.statuses.max_characters > 0
    assert api.verify_minimum_version("4.3.0", cached=False)
    assert api.ratelimit_limit == 300 and 250 < api.ratelimit_remaining < 300
    assert api.ratelimit_reset > time.time()

    # Revoking (the app's own call) ends the token.
    api.revoke_access_token(allow_http=True)
    revoked = Mastodon(access_token=token, api_base_url=live, version_check_mode="none")
    with pytest.raises(MastodonUnauthorizedError):
        revoked.account_verify_credentials()
