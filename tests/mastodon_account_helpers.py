"""Helpers for the Mastodon accounts API tests: people and tokens made through the services (the
consent page itself is tested in test_mastodon_oauth.py)."""

from __future__ import annotations

from microblog.services import oauth
from tests.factories import find_user, make_user
from tests.mastodon_helpers import CALLBACK, bearer


def token(app, username: str, scope: str = "read write follow") -> dict[str, str]:
    """Bearer headers of an app token of ``username`` with ``scope``, through the code grant."""
    with app.test_request_context():
        user = find_user(username)
        application, _secret = oauth.register_application("Test App", [CALLBACK], scope, None)
        asked = oauth.check_authorization_request(application, CALLBACK, "code", scope, None, None, None)
        plain = oauth.exchange_code(application, oauth.grant_code(user, asked), CALLBACK, None).access_token
    return bearer(plain)


def people(app, *names: str) -> dict[str, int]:
    """Make these users; their ids by name."""
    with app.app_context():
        return {name: make_user(name).id for name in names}
