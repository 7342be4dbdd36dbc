"""HTTP validators on public pages: an ETag, and 304 Not Modified when the client already has the page.

Public means the same for everyone who asks the same way: pages seen signed out, and API reads made
without a bearer token. The ETag is a hash of the response body, so it is right by construction (a new
post, a rename or the passing of time in "5 minutes ago" all change it); the gain is the bytes not
sent. Signed-in pages (CSRF tokens, the viewer's name) and token-authenticated API calls are left
alone. ``Cache-Control: no-cache`` lets browsers and proxies keep a copy but ask before reusing it.
"""

from __future__ import annotations

import hashlib
import re

from flask import Flask, Response, request
from flask_login import current_user

# Starts with a literal, so the scan is fast (a lookbehind made every page's scan slow).
_CSRF_VALUE = re.compile(rb'(name="csrf_token" (?:type="hidden" )?value=")[^"]*')

# Endpoints whose GET responses depend only on the URL and the request's language/time zone.
PUBLIC_PAGES = frozenset({"main.index", "main.explore", "main.user", "main.followers", "main.following"})
PUBLIC_API = frozenset({
    "api_users.get_users", "api_users.get_user", "api_users.get_followers", "api_users.get_following",
    "api_posts.get_posts", "api_posts.get_user_posts", "api_posts.get_post",
})


def add_validators(response: Response) -> Response:
    """ETag and conditional GET for public pages (see the module docstring)."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.direct_passthrough:
        return response
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_API:
        if "Authorization" in request.headers:
            return response
        response.cache_control.public = True
    elif endpoint in PUBLIC_PAGES:
        if current_user.is_authenticated:
            return response
        # The page carries this visitor's CSRF token (the language switcher), so only they may keep it.
        response.cache_control.private = True
    else:
        return response
    response.cache_control.no_cache = True
    response.vary.update(("Cookie", "Accept-Language"))
    # The CSRF token is signed with the current time, so it changes every second while staying valid
    # for the session: leave it out of the hash, or no two copies of a page would ever match.
    body = _CSRF_VALUE.sub(rb"\1", response.get_data())
    response.set_etag(hashlib.sha1(body, usedforsecurity=False).hexdigest())
    response.make_conditional(request)  # answers 304 in place when the ETag matches
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_validators)
