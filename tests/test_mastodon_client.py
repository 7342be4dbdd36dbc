"""A real Mastodon client against a running server (tests/mastodon_live.py): Mastodon.py registers an
app, sends a person to the consent page (here a requests session that signs in and presses Authorize,
CSRF token and all), logs in with the code, and reads the account and the instance, over HTTP as any
app would."""

from __future__ import annotations

import time

import pytest

from tests.mastodon_live import consent_in_browser, require_client

try:
    from mastodon import Mastodon, MastodonUnauthorizedError
except ImportError:  # the fixture turns this into a skip (or a failure under REQUIRE_CLIENTS=1)
    Mastodon = MastodonUnauthorizedError = None

SCOPES = ["read", "write", "follow", "push"]
OOB = "urn:ietf:wg:oauth:2.0:oob"


@pytest.fixture(autouse=True)
def _mastodon_py_installed() -> None:
    require_client(Mastodon is not None, "Mastodon.py (requirements-dev.txt)")


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
