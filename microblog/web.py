"""What every web blueprint stands on: quiet (polling) views, recording activity, HTML or JSON, the
navbar badge's answer."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, Any, NoReturn

from flask import Flask, Request, Response, abort, current_app, jsonify, request
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from microblog import sessions
from microblog.extensions import db
from microblog.models import ID_MAX, User
from microblog.services import accounts, notifications


class IdConverter(IntegerConverter):
    """``<id:name>``: a row id, 1 to ID_MAX. Anything else matches no route (a 404), so no view sees an
    id the database would refuse to compare (PostgreSQL errors past 2**31 - 1)."""

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=ID_MAX)


def get_or_404(model: Any, ident: int) -> Any:
    """The row of ``model`` with this id, or a 404 (an id outside the key range included)."""
    if not 0 < ident <= ID_MAX:
        abort(404)
    return db.get_or_404(model, ident)


def user_or_404(username: str, *, include_deactivated: bool = False) -> User:
    """The account with this username (any case), or a 404. A deactivated account is a 404 too (its
    owner is signed out; admin pages pass ``include_deactivated``)."""
    user = accounts.get_user_by_username(username)
    if user is None or (user.deactivated_at is not None and not include_deactivated):
        abort(404)
    return user


def active_user_or_404(user_id: int) -> User:
    """The account with this id, or a 404, also when it is deactivated (the API's lookups by id)."""
    user = get_or_404(User, user_id)
    if user.deactivated_at is not None:
        abort(404)
    return user


class InMemoryUploadsRequest(Request):
    """Flask's request, with uploaded files kept in memory instead of spooled to a temporary file.

    Every upload is read whole anyway (its bytes are checked, then stored), the body is capped
    (MAX_CONTENT_LENGTH, or what ``accepts_files`` allows), and receiving a post must not need free
    disk space: on a full disk the spool failed while the form was parsed, a 500 before the view could
    say why (tests/faults/test_media_faults.py).
    """

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()


# The attribute a view carries when its POSTs may bring files (``accepts_files``).
_FILES_ATTRIBUTE = "accepts_files"
# The methods that may bring them (the Mastodon API sends a profile's pictures with a PATCH).
FILE_METHODS = ("POST", "PATCH")


def accepts_files(count: int | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let this view's POST (and PATCH) requests carry ``count`` files of MEDIA_MAX_BYTES on top of the form
    (None: a post's images, MEDIA_PER_POST); every other request stays under MAX_CONTENT_LENGTH.

    The view is only marked here: ``_allow_files`` applies the allowance when the URL is matched,
    before any before_request hook reads the body (the CSRF check reads the form there).
    """

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, _FILES_ATTRIBUTE, count)
        return view

    return mark


def _allow_files(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Raise the request's size limit for views marked with ``accepts_files`` (an URL value preprocessor:
    it runs before every before_request hook). The decorators above a view copy its marks
    (functools.wraps), so the registered view function carries it."""
    if request.method not in FILE_METHODS or endpoint is None:
        return
    view = current_app.view_functions.get(endpoint)
    if view is None or not hasattr(view, _FILES_ATTRIBUTE):
        return
    config = current_app.config
    count = getattr(view, _FILES_ATTRIBUTE)
    files = config["MEDIA_PER_POST"] if count is None else count
    request.max_content_length = files * config["MEDIA_MAX_BYTES"] + config["MAX_CONTENT_LENGTH"]


def quiet(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view that pages call on their own (polling): it is not the user being active, so
    ``record_activity`` neither loads the account nor writes ``last_seen`` for it."""
    view.quiet = True  # type: ignore[attr-defined]
    return view


def record_activity() -> None:
    """Note when a signed-in person was last active (at most one write a minute, in the service)."""
    if getattr(current_app.view_functions.get(request.endpoint or ""), "quiet", False):
        return
    if current_user.is_authenticated:
        accounts.touch_last_seen(current_user)
        sessions.touch_current_session()


def wants_json() -> bool:
    """True when the client prefers JSON to HTML (API clients, fetch calls)."""
    if request.path.startswith("/api/"):
        return True
    accepted = request.accept_mimetypes
    best = accepted.best_match(["text/html", "application/json"])
    return best == "application/json" and accepted[best] > accepted["text/html"]


def abort_json(status: int, message: str | None = None, errors: dict | None = None,
               headers: dict[str, str] | None = None) -> NoReturn:
    """Stop with an error that errors/handlers.py renders as ``{"error", "message", "errors"}`` (or as a
    page for a browser)."""
    try:
        abort(status)
    except HTTPException as exc:
        exc.data = {"message": message, "errors": errors, "headers": headers}  # type: ignore[attr-defined]
        raise


def badge_response(user_id: int) -> Response:
    """The navbar badge's JSON (unread count), for pages' fetch calls after marking things read."""
    response = jsonify(notifications.badge(notifications.unread_count(user_id)))
    response.cache_control.no_store = True
    return response


def init_app(app: Flask) -> None:
    app.request_class = InMemoryUploadsRequest
    app.url_value_preprocessor(_allow_files)
    app.before_request(record_activity)
