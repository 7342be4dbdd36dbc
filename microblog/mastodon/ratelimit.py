"""Rate limits of the Mastodon-compatible API, with Mastodon's headers on every answer.

Mastodon (docs: api/rate-limits) allows 300 calls per 5 minutes per account, or per address without
one, and says so on each answer: ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (an ISO 8601 time). Flask-Limiter's own headers give the reset as a Unix time,
so these views are exempt from its decorators and count here, in the same storage (Redis, or the
shared SQLite file), through the limiter's strategy. Calls count per valid token (made-up tokens count
per address: they buy no fresh allowance); over the limit: 429 ``{"error": "Too many requests"}``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, g, request
from limits import RateLimitItem, parse

from microblog.extensions import limiter
from microblog.mastodon.auth import current_token, mastodon_abort

log = logging.getLogger(__name__)
NAMESPACE = "mastodon-api"


def _item() -> RateLimitItem:
    return parse(current_app.config["RATELIMIT_MASTODON"])


def _caller() -> str:
    token = current_token()
    return f"token:{token.id}" if token is not None else f"ip:{request.remote_addr}"


def count_call() -> None:
    """before_request: count this call; 429 past the allowance. Headers are kept for the answer."""
    if not limiter.enabled or not current_app.config["RATELIMIT_ENABLED"]:
        return
    item, key = _item(), _caller()
    try:
        strategy = limiter.limiter
        allowed = strategy.hit(item, NAMESPACE, key)
        stats = strategy.get_window_stats(item, NAMESPACE, key)
    except Exception:  # noqa: BLE001  # storage down: serve unlimited, as RATELIMIT_SWALLOW_ERRORS does
        log.exception("rate limit storage failed; the Mastodon API call is not counted")
        return
    reset = datetime.fromtimestamp(stats.reset_time, UTC).isoformat(timespec="milliseconds")
    g.mastodon_rate = {"X-RateLimit-Limit": str(item.amount),
                       "X-RateLimit-Remaining": str(max(stats.remaining, 0)),
                       "X-RateLimit-Reset": reset.replace("+00:00", "Z")}
    if not allowed:
        mastodon_abort(429, "Too many requests", headers=g.mastodon_rate)


def add_headers(response: Response) -> Response:
    """after_request: the counts of count_call, on errors too."""
    for name, value in g.get("mastodon_rate", {}).items():
        response.headers[name] = value
    response.headers.setdefault("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
    return response


def apply(bp: Blueprint) -> None:
    """Count every call to ``bp``'s views; Flask-Limiter's own limits and headers stay off them."""
    limiter.exempt(bp)
    bp.before_request(count_call)
    bp.after_request(add_headers)
