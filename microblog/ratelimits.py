"""Rate limits counted per account or per address, shared by the web pages and the API.

The per-client-address limits of the web forms sit on the routes themselves (RATELIMIT_LOGIN, _SIGNUP,
_RESET). The JSON API counts per account: every call (RATELIMIT_API, ``api_calls``) and every write
(RATELIMIT_API_WRITES, ``api_writes``) count against one allowance each, across the whole API, of the
account behind the bearer token, whichever of its tokens is used; calls without a valid token count
per client address.
These add the limits that follow a person from one address to another:

- sign-in failures per account named (RATELIMIT_LOGIN_ACCOUNT): the login form and POST /api/tokens
  count against one allowance; only failed attempts count, so signing in often costs nothing;
- reset requests per email address (RATELIMIT_RESET_ADDRESS), known or not (a limit only on known
  addresses would tell which have accounts);
- posts and follows per signed-in account (RATELIMIT_POSTS, RATELIMIT_FOLLOWS), web and API together;
- wrong two-factor codes per account (RATELIMIT_TWO_FACTOR_ACCOUNT, ``two_factor_per_account``): the
  sign-in's code step counts against the account whose password was given (kept in the session), so
  signing in again buys no fresh guesses; turning two-factor sign-in on or off counts against the
  signed-in account. Only refused codes count;
- requests to change the account's email address (RATELIMIT_EMAIL_CHANGE, ``email_changes_per_account``),
  web and API together: each one mails an address the requester typed;
- image uploads per signed-in account (RATELIMIT_UPLOADS, ``uploads_per_account``): each one is
  stored and costs a job's decoding and resizing, so they have an allowance of their own;
- imports per signed-in account (RATELIMIT_IMPORTS, ``imports_per_account``): each one starts a job
  that may follow thousands of people; only imports that were accepted count (a refused file does not).

Counters are keyed by a keyed digest (logs.digest), not by the name or address typed.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, request, session
from flask_login import current_user

from microblog.bearer import bearer_token, current_api_user
from microblog.extensions import limiter
from microblog.logs import digest


def _setting(name: str):
    return lambda: current_app.config[f"RATELIMIT_{name}"]


def _named_account() -> str:
    """The account a sign-in attempt names: the form's username, or the HTTP Basic user name."""
    name = request.form.get("username") if request.mimetype != "application/json" else None
    if name is None and request.authorization is not None:
        name = request.authorization.username
    return "account:" + digest((name or "")[:200])


def _named_address() -> str:
    return "address:" + digest((request.form.get("email") or "")[:300])


def api_caller() -> str:
    """Who an API call counts against: the account behind a valid bearer token, else the client address.

    A token that is not valid counts as none, so made-up tokens buy no fresh allowance (nor free
    guesses at real ones). The token is looked up once per request; the views reuse the answer.
    """
    user = current_api_user()
    return f"user:{user.id}" if user is not None else f"ip:{request.remote_addr}"


def _acting_account() -> str:
    """The signed-in user (the API's bearer token owner, or the web session's), else the client address."""
    if bearer_token():
        user = current_api_user()
        if user is not None:
            return f"user:{user.id}"
    elif current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{request.remote_addr}"


# The session key of a sign-in waiting for its code (auth/two_factor.py).
PENDING_SIGN_IN = "two_factor_pending"


def _two_factor_account() -> str:
    """The account a two-factor code is for: a pending sign-in's, else the signed-in user's."""
    pending = session.get(PENDING_SIGN_IN)
    if isinstance(pending, dict) and isinstance(pending.get("id"), int):
        return f"user:{pending['id']}"
    return _acting_account()


def _sign_in_failed(response) -> bool:
    # The login form answers a failure with the form again (200), the token endpoint with 401.
    return response.status_code in (200, 401)


login_per_account = limiter.shared_limit(
    _setting("LOGIN_ACCOUNT"), scope="login-account", key_func=_named_account, methods=["POST"],
    deduct_when=_sign_in_failed,
)
reset_per_address = limiter.shared_limit(
    _setting("RESET_ADDRESS"), scope="reset-address", key_func=_named_address, methods=["POST"],
)
posts_per_account = limiter.shared_limit(
    _setting("POSTS"), scope="posts", key_func=_acting_account, methods=["POST"],
)
follows_per_account = limiter.shared_limit(
    _setting("FOLLOWS"), scope="follows", key_func=_acting_account, methods=["POST"],
)
def _code_refused(response) -> bool:
    # The code forms answer a refused code with the form again (200); a success redirects, or shows the
    # recovery codes (200 too, marked in g by the view).
    return response.status_code in (200, 401) and not g.get("two_factor_succeeded", False)


two_factor_per_account = limiter.shared_limit(
    _setting("TWO_FACTOR_ACCOUNT"), scope="two-factor-account", key_func=_two_factor_account,
    methods=["POST"], deduct_when=_code_refused,
)
# Requests to change the address, every one counted (each mails an address of the requester's choice).
email_changes_per_account = limiter.shared_limit(
    _setting("EMAIL_CHANGE"), scope="email-change", key_func=_acting_account, methods=["POST"],
)
uploads_per_account = limiter.shared_limit(
    _setting("UPLOADS"), scope="uploads", key_func=_acting_account, methods=["POST"],
)
imports_per_account = limiter.shared_limit(
    _setting("IMPORTS"), scope="imports", key_func=_acting_account, methods=["POST"],
    deduct_when=lambda response: response.status_code in (202, 302),
)
# Every call to the JSON API, and every API write, each one allowance per caller across the whole API.
api_calls = limiter.shared_limit(_setting("API"), scope="api", key_func=api_caller)
api_writes = limiter.shared_limit(_setting("API_WRITES"), scope="api-writes", key_func=api_caller)


def check_storage_at_boot(app: Flask, production: bool) -> None:
    """A serving process whose limits are counted in its own memory says so, loudly; in production
    it refuses to start unless RATELIMIT_ALLOW_PER_WORKER says that is accepted.

    With memory:// each gunicorn worker keeps its own counters, so N workers allow N times every
    limit. The default (Redis, or else the SQLite file in the instance folder) is shared.
    Flask CLI commands serve nothing and are skipped, as are apps built with an explicit config
    class (tests, tools).
    """
    import click

    config = app.config
    if not config["RATELIMIT_ENABLED"] or click.get_current_context(silent=True) is not None:
        return
    if not config["RATELIMIT_STORAGE_URI"].startswith("memory:"):
        return
    message = ("RATELIMIT_STORAGE_URI is memory://: every rate limit is counted separately in each worker "
               "process, so N gunicorn workers allow N times each limit. Leave RATELIMIT_STORAGE_URI unset "
               "(Redis when REDIS_URL is set, else a SQLite file in the instance folder that all workers "
               "share)")
    if production and not config["RATELIMIT_ALLOW_PER_WORKER"]:
        raise RuntimeError(message + ", or set RATELIMIT_ALLOW_PER_WORKER=1 to accept per-worker limits.")
    logging.getLogger("microblog.ratelimits").warning("%s.", message)
