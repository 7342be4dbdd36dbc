"""Mastodon's apps API: register a client app, and check an app token (docs: methods/apps)."""

from __future__ import annotations

from flask import Blueprint

from microblog.exceptions import ValidationError
from microblog.mastodon import entities
from microblog.mastodon.auth import current_token, mastodon_abort, oauth_required, params, text_param
from microblog.mastodon.paths import route
from microblog.services import oauth
from microblog.suspension import allowed_while_suspended

bp = Blueprint("mastodon_apps", __name__)


@route(bp, "/api/v1/apps", methods=["POST"])
@allowed_while_suspended  # no account is involved: anyone may register an app
def create_app():
    """Register a client app (form or JSON): its CredentialApplication, with the secret shown once."""
    values = params()
    uris = values.get("redirect_uris")
    uris = oauth.split_redirect_uris(uris if isinstance(uris, list | str) else None)
    try:
        app, secret = oauth.register_application(text_param(values, "client_name"), uris,
                                                 text_param(values, "scopes"), text_param(values, "website"))
    except ValidationError as exc:
        mastodon_abort(422, exc.message)
    return entities.credential_application(app, secret)


@route(bp, "/api/v1/apps/verify_credentials", methods=["GET"])
@oauth_required(user=False)
def verify_app():
    """The Application of the token sent (an app token or a user's token)."""
    token = current_token()
    assert token is not None  # oauth_required saw to it
    return entities.application(token.application)
