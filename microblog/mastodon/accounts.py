"""Mastodon's accounts API (docs: methods/accounts): the signed-in user's own account, for now."""

from __future__ import annotations

from flask import Blueprint

from microblog.mastodon import entities
from microblog.mastodon.auth import current_mastodon_user, oauth_required
from microblog.mastodon.paths import route

bp = Blueprint("mastodon_accounts", __name__)


@route(bp, "/api/v1/accounts/verify_credentials", methods=["GET"])
@oauth_required("read:accounts", "profile")
def verify_credentials():
    """The token's user as a CredentialAccount (the ``profile`` scope is enough)."""
    return entities.credential_account(current_mastodon_user())
