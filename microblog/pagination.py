"""Pages from the request: ``?page=N`` and the ``?before=`` / ``?after=`` cursors, with a 404 for
anything that names no page. The paging itself (keyset cursors, no COUNT(*)) is ``microblog.paging``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import abort, request

from microblog import paging, timeline
from microblog.paging import MAX_PAGE, Page, Position, decode_cursor


def requested_page() -> int:
    """The ``page`` query argument; anything but a whole number from 1 to MAX_PAGE is a 404."""
    raw = request.args.get("page", "1")
    if not raw.isascii() or not raw.isdigit():
        abort(404)
    page = int(raw)
    if not 1 <= page <= MAX_PAGE:
        abort(404)
    return page


def has_request_cursor() -> bool:
    return "before" in request.args or "after" in request.args


def requested_position() -> Position | None:
    """The cursor in ``?before=`` or ``?after=``, None when there is none; a bad one is a 404."""
    before, after = request.args.get("before"), request.args.get("after")
    if before is None and after is None:
        return None
    if before is not None and after is not None:
        abort(404)
    direction, raw = ("before", before) if before is not None else ("after", after)
    decoded = decode_cursor(raw or "")
    if decoded is None:
        abort(404)
    key, page = decoded
    return Position(direction, key, page)


def self_args(page: Page) -> dict[str, Any]:
    """Query arguments that show ``page`` again (what the request asked for)."""
    if page.keyset and has_request_cursor():
        return {k: request.args[k] for k in ("before", "after") if k in request.args}
    return {"page": page.page}


def paginate(query: sa.Select, page: int, per_page: int) -> Page:
    """Page ``page`` of ``query`` by number; a page past the end (other than the first) is a 404."""
    try:
        return paging.paginate(query, page, per_page)
    except paging.PageNotFound:
        abort(404)


def post_page(query: sa.Select, per_page: int, page: int | None = None) -> Page:
    """The page of a list of posts that the request's cursor names, else page ``page`` (default: the
    request's ``?page=``); 404 past the end."""
    position = requested_position()
    number = 1 if position else page if page is not None else requested_page()
    try:
        return paging.post_page(query, per_page, position, number)
    except paging.PageNotFound:
        abort(404)


def home_page(user: Any, per_page: int) -> Page:
    """The page of ``user``'s home timeline (posts and reposts) that the request names; 404 past the end."""
    position = requested_position()
    number = 1 if position else requested_page()
    try:
        return timeline.home_page(user, per_page, position, number)
    except paging.PageNotFound:
        abort(404)


def follow_page(query: sa.Select, per_page: int, page: int | None = None) -> Page:
    """The page of a followers/following list that the request names, as ``post_page`` does."""
    position = requested_position()
    number = 1 if position else page if page is not None else requested_page()
    try:
        return paging.follow_page(query, per_page, position, number)
    except paging.PageNotFound:
        abort(404)


def url_args(args: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """``args`` and ``extra`` together, for ``url_for`` (templates cannot merge two ``**`` maps)."""
    return {**extra, **args}
