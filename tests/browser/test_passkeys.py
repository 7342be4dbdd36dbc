"""Passkeys in headless Chromium with its virtual authenticator (DevTools' WebAuthn domain): add one on
the settings page, sign out, sign in with it and no password; then with two-factor sign-in on, use it
as the second step after the password."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from microblog import totp
from microblog.extensions import db
from microblog.models import User, WebAuthnCredential
from microblog.timeutil import utcnow
from tests.browser.helpers import Watch, seed_user, sign_in, sign_out
from tests.factories import DEFAULT_PASSWORD

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    expect = None

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[str]:
    """The live server, addressed as http://localhost: WebAuthn needs a secure context and a domain
    for its RP ID, and Chromium counts localhost as both (127.0.0.1 is no domain)."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server",
                              daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def virtual_authenticator(page) -> None:
    """A platform authenticator that keeps discoverable credentials and verifies its user at once."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})


def test_add_a_passkey_sign_in_with_it_then_use_it_as_the_second_step(page, live_app):
    watch = Watch(page)
    virtual_authenticator(page)
    seed_user(live_app, "alice")
    sign_in(page, "alice")

    page.goto("/edit_profile")
    page.get_by_role("link", name="manage your passkeys").click()
    expect(page.get_by_text("You have no passkeys yet.")).to_be_visible()
    expect(page.get_by_text("This browser cannot make passkeys")).to_be_hidden()  # it can
    page.get_by_label("Name").fill("Laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("alert").filter(has_text="Your passkey was added.")).to_be_visible()
    expect(page.locator("#passkey-list")).to_contain_text("Laptop")
    expect(page.locator("#passkey-list")).to_contain_text("Not used yet.")
    sign_out(page)

    # No username, no password: the passkey alone.
    page.goto("/auth/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", name="Hi, alice!")).to_be_visible()
    with live_app.app_context():
        passkey = db.session.scalar(sa.select(WebAuthnCredential))
        assert passkey.last_used_at is not None and passkey.sign_count >= 1
    sign_out(page)

    # With two-factor sign-in on, the passkey serves as the second step after the password.
    with live_app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "alice"))
        user.totp_secret, user.totp_enabled_at = totp.new_secret(), utcnow()
        db.session.commit()
    page.goto("/auth/login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url("/auth/two_factor/verify")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("heading", name="Hi, alice!")).to_be_visible()
    assert watch.errors == []


def test_without_webauthn_the_page_says_the_browser_cannot(new_context, live_app):
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    seed_user(live_app, "bob")
    sign_in(page, "bob")
    page.goto("/settings/passkeys")
    expect(page.get_by_text("This browser cannot make passkeys")).to_be_visible()
    expect(page.get_by_role("button", name="Add a passkey")).to_be_hidden()
    page.goto("/auth/login")
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
