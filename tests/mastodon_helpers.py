"""Helpers for the Mastodon-compatible API tests: register an app, get a code through the consent
page, exchange it for a token, as a Mastodon app and its user would."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlsplit

OOB = "urn:ietf:wg:oauth:2.0:oob"
CALLBACK = "https://app.example/callback"


def register_app(client, scopes: str = "read write follow push", redirect_uris: str | list = CALLBACK,
                 **extra) -> dict:
    """POST /api/v1/apps; the CredentialApplication."""
    response = client.post("/api/v1/apps", data={"client_name": "Test App", "redirect_uris": redirect_uris,
                                                 "scopes": scopes, "website": "https://app.example", **extra})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def pkce_pair(verifier: str = "v" * 50) -> tuple[str, str]:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_query(app: dict, redirect_uri: str = CALLBACK, scope: str = "read write follow push",
                    **extra) -> dict:
    return {"response_type": "code", "client_id": app["client_id"], "redirect_uri": redirect_uri,
            "scope": scope, **extra}


def consent(client, app: dict, redirect_uri: str = CALLBACK, scope: str = "read write follow push",
            button: str = "authorize", **extra):
    """The signed-in ``client`` says yes (or no) on the consent page; the POST's response."""
    query = authorize_query(app, redirect_uri, scope, **extra)
    page = client.get("/oauth/authorize", query_string=query)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    form = dict(re.findall(r'<input id="[^"]*" name="([^"]+)" type="hidden" value="([^"]*)"',
                           page.get_data(as_text=True)))
    form[button] = "x"
    return client.post("/oauth/authorize", data=form)


def code_from(response) -> str:
    """The code of a consent's redirect (or of the oob page)."""
    if response.status_code == 302:
        return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
    match = re.search(r'id="oauth-code" value="([^"]+)"', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:500]
    return match.group(1)


def exchange(client, app: dict, code: str, redirect_uri: str = CALLBACK, **extra):
    data = {"grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
            "client_secret": app["client_secret"], "redirect_uri": redirect_uri, **extra}
    return client.post("/oauth/token", data=data)


def user_token(client, app: dict, scope: str = "read write follow push") -> str:
    """A user's access token through the whole code flow (``client`` signed in)."""
    response = exchange(client, app, code_from(consent(client, app, scope=scope)))
    assert response.status_code == 200, response.json
    return response.json["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issued_token(user, scope: str = "read write follow push") -> dict[str, str]:
    """Bearer headers of a token issued straight to ``user`` (inside an app context), as the code flow
    would end: for tests of the endpoints rather than of OAuth."""
    from microblog.extensions import db
    from microblog.models import OAuthAccessToken
    from microblog.services import oauth

    application, _secret = oauth.register_application("Test App", [CALLBACK], scope, None)
    plain = f"test-token-{user.id}-{application.id}"
    db.session.add(OAuthAccessToken(token_digest=oauth.digest(plain), application_id=application.id,
                                    user_id=user.id, scopes=scope))
    db.session.commit()
    return bearer(plain)


def token_with(client, scope: str = "read write follow push") -> dict[str, str]:
    """Bearer headers of a token of ``client``'s signed-in user, through the code flow, with ``scope``."""
    return bearer(user_token(client, register_app(client, scopes=scope), scope=scope))


def token_of(app, username: str, scope: str = "read write follow push") -> dict[str, str]:
    """Bearer headers of a token of ``username`` (signed in on a client of their own), with ``scope``."""
    from tests.factories import signed_in_client

    return token_with(signed_in_client(app, username), scope)
