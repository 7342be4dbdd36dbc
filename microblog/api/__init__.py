"""The JSON API under /api, documented by OpenAPI at /api/openapi.json and /api/docs."""

from __future__ import annotations

from flask import Flask

from microblog import ratelimits
from microblog.api import (
    account,
    admin,
    exports,
    imports,
    leaving,
    media,
    messages,
    notifications,
    passkeys,
    posts,
    reactions,
    reports,
    search,
    sessions,
    tags,
    threads,
    tokens,
    two_factor,
    users,
)
from microblog.api.auth import SECURITY_SCHEMES
from microblog.extensions import api, csrf

BLUEPRINTS = (tokens.bp, users.bp, posts.bp, threads.bp, reactions.bp, search.bp, messages.bp,
              notifications.bp, reports.bp, admin.bp, tags.bp, media.bp, two_factor.bp, account.bp,
              exports.bp, sessions.bp, passkeys.bp, imports.bp, leaving.bp)


for _bp in BLUEPRINTS:
    # Bearer tokens, not cookies, authenticate the API: CSRF tokens do not apply.
    csrf.exempt(_bp)
    # Every API request counts against the caller's one allowance for the whole API (per account
    # with a valid token, else per address). Declared once here: the blueprints are module-level
    # objects shared by every app.
    ratelimits.api_calls(_bp)


def register_api(app: Flask) -> None:
    api.init_app(app)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
