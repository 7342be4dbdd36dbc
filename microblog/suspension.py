"""Suspension at the door: a suspended account may read, sign in and out, export its data, and no more.

One ``before_request`` hook for the whole app, web and API alike: a request that can change state
(any method but GET, HEAD and OPTIONS) made by a suspended account is refused before its view
runs, unless the view is marked :func:`allowed_while_suspended`. A route added later is covered
without anyone remembering to: tests/security/test_suspension.py walks the URL map to prove it.
The rule and its message are ``services.roles.check_not_suspended``'s; the services that post,
follow and send messages still call it themselves, for the command line and the jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from microblog.bearer import current_api_user
from microblog.exceptions import AccountSuspended
from microblog.models import User
from microblog.redirects import is_safe_local_path
from microblog.services import roles
from microblog.web import abort_json, wants_json

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The Mastodon-compatible API (microblog.mastodon), whose own decorators check the token's account.
MASTODON_API = ("/api/v1/", "/api/v2/")


def allowed_while_suspended(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view a suspended account may still POST to: signing in or out, exporting its data."""
    view.allowed_while_suspended = True  # type: ignore[attr-defined]
    return view


def _acting_user() -> User | None:
    """Who is asking: the bearer token's account under /api (cookies do not sign API calls in), else
    the session's."""
    if request.path.startswith(MASTODON_API):
        return None  # its bearer tokens are OAuth's: mastodon.auth refuses a suspended account's writes
    if request.path.startswith("/api/"):
        return current_api_user()
    return current_user if current_user.is_authenticated else None


def _back() -> str:
    """The page the refused form was on (when it is one of ours), else the home page."""
    referrer = urlsplit(request.referrer or "")
    path = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    if referrer.netloc == request.host and is_safe_local_path(path):
        return path
    return url_for("main.index")


def refuse_writes_while_suspended():
    """The hook: None lets the request through; otherwise the refusal (JSON 403, or flash and back)."""
    if request.method in SAFE_METHODS:
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "allowed_while_suspended", False):
        return None
    user = _acting_user()
    if user is None:
        return None
    try:
        roles.check_not_suspended(user)
    except AccountSuspended as exc:
        if wants_json():
            abort_json(403, exc.message)
        flash(_("Your account is suspended: that change was not made."), "danger")
        return redirect(_back())
    return None
