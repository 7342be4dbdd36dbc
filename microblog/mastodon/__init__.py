"""The Mastodon-compatible client API under /api/v1 and /api/v2, its OAuth 2 server under /oauth, and
what Mastodon apps and other servers read about the site (instance, NodeInfo).

Mastodon's documentation is the contract: its entity shapes, its error shape (``{"error": "..."}``),
its rate-limit headers. Our own JSON API under /api stays as it is, beside this one.
"""

from __future__ import annotations

from flask import Blueprint, Flask, request
from werkzeug.exceptions import HTTPException

from microblog.extensions import csrf, db
from microblog.mastodon import (
    account_actions,
    account_lists,
    accounts,
    apps,
    authorized_apps,
    conversations,
    instance,
    markers,
    media,
    nodeinfo,
    notifications,
    oauth,
    ratelimit,
    search,
    statuses,
    tags,
    timelines,
)

# The JSON API: bearer tokens and client secrets are the credentials, never the session cookie.
API_BLUEPRINTS: tuple[Blueprint, ...] = (
    apps.bp,
    accounts.bp,
    account_actions.bp,
    account_lists.bp,
    instance.bp,
    notifications.bp,
    conversations.bp,
    search.bp,
    tags.bp,
    media.bp,
    statuses.bp,
    timelines.bp,
    markers.bp,
)
# Mastodon's words for the errors its API answers itself.
ERRORS = {400: "Bad request", 401: "The access token is invalid", 403: "This action is not allowed",
          404: "Record not found", 405: "Method not allowed", 413: "Request too large",
          415: "Unsupported media type", 422: "Validation failed", 429: "Too many requests",
          500: "Internal server error", 503: "Service unavailable"}


def _json_error(exc: HTTPException):
    """A Mastodon API error: ``{"error": "..."}`` with the status, whatever raised it."""
    code = exc.code or 500
    if code >= 500:
        db.session.rollback()
    headers = {}
    allowed = getattr(exc, "valid_methods", None)
    if allowed:
        headers["Allow"] = ", ".join(allowed)
    return {"error": ERRORS.get(code, exc.name)}, code, headers


def _drain_unread_body(response):
    """Read what is left of the request's body before answering. A refusal that never read it (a 401
    before an upload was parsed) would leave bytes unread when gunicorn closes the connection: the kernel
    then resets it, and nginx, still sending the body, answers 502 instead of our 401."""
    try:
        stream = request.stream
        while stream.read(1 << 16):
            pass
    except (HTTPException, OSError, ValueError):
        pass  # too large, or the client went away: nothing more to do
    return response


for _bp in API_BLUEPRINTS:
    csrf.exempt(_bp)
    _bp.after_request(_drain_unread_body)
    ratelimit.apply(_bp)
    _bp.register_error_handler(HTTPException, _json_error)


def register_mastodon(app: Flask) -> None:
    """Register the Mastodon-compatible blueprints."""
    for blueprint in (*API_BLUEPRINTS, oauth.bp, nodeinfo.bp, authorized_apps.bp):
        app.register_blueprint(blueprint)
