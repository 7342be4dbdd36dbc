"""A Mastodon app's sign-in in a real browser: the consent page after signing in, the oob code to copy, and
the answer's redirect to the app, which CSP's form-action must let through (Chromium enforces it on the
redirect that follows a form)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.browser.helpers import Watch
from tests.factories import DEFAULT_PASSWORD, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser

OOB = "urn:ietf:wg:oauth:2.0:oob"


def test_sign_in_authorize_and_copy_the_code(live_app, live_server, page):
    with live_app.app_context():
        make_user("alice")
    callback = f"http://localhost:{urlsplit(live_server).port}/explore"
    registered = requests.post(f"{live_server}/api/v1/apps", timeout=30, data={
        "client_name": "Pocket Toots", "redirect_uris": f"{OOB}\n{callback}", "scopes": "read write"}).json()
    watch = Watch(page)
    query = {"response_type": "code", "client_id": registered["client_id"], "redirect_uri": OOB,
             "scope": "read write"}
    page.goto(f"/oauth/authorize?{urlencode(query)}")
    # Signed out: the sign-in page first, then back to the consent page.
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Authorize Pocket Toots?")).to_be_visible()
    expect(page.locator("#oauth-scopes")).to_contain_text("Read all your account's data")
    page.get_by_role("button", name="Authorize").click()
    code = page.get_by_label("Authorization code")
    expect(code).to_be_visible()
    token = requests.post(f"{live_server}/oauth/token", timeout=30, data={
        "grant_type": "authorization_code", "code": code.input_value(), "redirect_uri": OOB,
        "client_id": registered["client_id"], "client_secret": registered["client_secret"]})
    assert token.status_code == 200 and token.json()["scope"] == "read write"

    # An app with a web callback, on another origin than the site's (localhost, not 127.0.0.1): the
    # browser follows the redirect off the site, with the code.
    page.goto(f"/oauth/authorize?{urlencode({**query, 'redirect_uri': callback, 'state': 'st8'})}")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{callback}?**")
    answer = parse_qs(urlsplit(page.url).query)
    assert answer["state"] == ["st8"] and answer["code"][0]
    assert watch.errors == []
