"""Lists of the Mastodon-compatible API: ``max_id``, ``since_id``, ``min_id`` and ``limit`` in, a ``Link``
header out (docs: api/guidelines#pagination).

- ``max_id``: entries older than this one (the next page, going down);
- ``since_id``: the newest entries newer than this one (a gap may be left between them);
- ``min_id``: the entries just newer than this one (the previous page, going up, without a gap);
- ``limit``: how many, 20 by default and 40 at most (Mastodon's defaults); a bad one is clamped, as
  Mastodon clamps it.

An id names an entry of the list (a status, an account's follow, a notification). A list resolves it
to its own sort key, so ids need not follow the list's order: a bookmark list is ordered by when the
bookmark was made, not by the post's id. An id that is not a number names no entry and is ignored.

The ``Link`` header names the next page (``rel="next"``, ``max_id`` of the last entry) and then the
previous one (``rel="prev"``, ``min_id`` of the first), both absolute on SITE_URL, with the request's
other arguments kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Response, jsonify, request

from microblog.extensions import db
from microblog.mastodon.entities import absolute
from microblog.models import ID_MAX

# A number above this is no id a client got from us (a BIGINT's largest value).
BIGINT_MAX = 2**63 - 1
DEFAULT_LIMIT = 20
MAX_LIMIT = 40
_PAGING_ARGS = ("max_id", "since_id", "min_id")


def parse_id(raw: Any, highest: int = ID_MAX) -> int | None:
    """A decimal id as clients send it (``"123"``), or None for anything else. A row's id (``highest``
    ID_MAX, the default) fits PostgreSQL's integer column; a status id may be larger (a reblog's, a
    direct message's: ``BIGINT_MAX``)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 19:
        value = int(raw)
    else:
        return None
    return value if 0 < value <= highest else None


@dataclass(frozen=True)
class Window:
    """What a list request asks for: at most ``limit`` entries, below ``max_id`` and above ``since_id``
    or ``min_id`` (ids as given; each list resolves them to its own keys)."""

    limit: int
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None

    @property
    def upward(self) -> bool:
        """``min_id``: the entries just above it, oldest first, then turned round (no gap)."""
        return self.min_id is not None


def window(default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> Window:
    """The request's paging arguments (query string). A ``limit`` that is no number takes the default;
    one out of range is clamped to 1..maximum, as Mastodon does."""
    raw = request.args.get("limit")
    try:
        limit = int(raw) if raw not in (None, "") else default
    except ValueError:
        limit = default
    return Window(
        limit=min(max(limit, 1), maximum),
        max_id=parse_id(request.args.get("max_id"), BIGINT_MAX),
        since_id=parse_id(request.args.get("since_id"), BIGINT_MAX),
        min_id=parse_id(request.args.get("min_id"), BIGINT_MAX),
    )


def page_of(query: sa.Select, key: sa.ColumnElement[int], page: Window) -> list[Any]:
    """The entities of ``query`` (one per row) that ``page`` asks for, newest first, where ``key`` is the
    integer the list is ordered by and its paging ids resolve to (ids resolved by the caller when they
    differ). One statement; ``min_id`` reads upward from it and turns the page round."""
    query = query.order_by(None)
    # Ids past the column's range are compared in Python: every row is below one, none above.
    if page.max_id is not None and page.max_id <= ID_MAX:
        query = query.where(key < page.max_id)
    for lower in (page.since_id, page.min_id):
        if lower is not None and lower > ID_MAX:
            return []
        if lower is not None:
            query = query.where(key > lower)
    query = query.order_by(key.asc() if page.upward else key.desc()).limit(page.limit)
    rows = list(db.session.scalars(query))
    return rows[::-1] if page.upward else rows


def link_header(first_id: str | None, last_id: str | None) -> str | None:
    """``Link: <...max_id=LAST>; rel="next", <...min_id=FIRST>; rel="prev"`` for the page shown (None
    for an empty page: there is nothing to page from)."""
    if first_id is None or last_id is None:
        return None
    kept = [(key, value) for key, value in request.args.items(multi=True) if key not in _PAGING_ARGS]
    base = absolute(request.path)

    def url(name: str, value: str) -> str:
        return f"{base}?{urlencode([*kept, (name, value)])}"

    return f'<{url("max_id", last_id)}>; rel="next", <{url("min_id", first_id)}>; rel="prev"'


def list_response(entities: Sequence[dict[str, Any]], first_id: str | None = None,
                  last_id: str | None = None) -> Response:
    """A JSON array with its ``Link`` header. The paging ids default to the entities' own ``id``; a list
    paged by something else (follows, bookmarks) names its own."""
    if entities and first_id is None:
        first_id, last_id = str(entities[0]["id"]), str(entities[-1]["id"])
    response = jsonify(list(entities))
    link = link_header(first_id, last_id)
    if link:
        response.headers["Link"] = link
    return response
