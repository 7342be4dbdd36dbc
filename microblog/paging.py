"""Paging without COUNT(*): keyset cursors for long lists, page numbers for old links and short ones.

Long lists (timelines, explore, a profile's posts, followers) are walked by *keyset*: the "Older" link
carries an opaque cursor ``?before=...`` naming the last row shown, and the next page is "the rows
after that one in the list's order", which an index finds directly, so page 2,000 costs what page 1
costs. ``?page=N`` still works (bookmarks, the URL map) with OFFSET, and the links out of such a page
are cursors again. A cursor is signed with the app's secret key: a malformed or altered one is refused.

Every list fetches one row more than a page to learn whether another page exists.

Nothing here reads the request: ``microblog.pagination`` takes the page and cursor from the query
string and turns ``PageNotFound`` into a 404.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from microblog.extensions import db
from microblog.models import ID_MAX, Post, User, followers

# Deeper pages than this are refused: nobody clicks that far, and huge offsets cost the database.
MAX_PAGE = 100_000
# Cursors longer than this are not ours (a signed cursor is about 70 characters).
MAX_CURSOR = 200
_CURSOR_SALT = "microblog.pagination.cursor"  # unchanged: links already out keep working
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

class PageNotFound(LookupError):
    """A page past the end of its list, or a cursor that names no row of it."""


# (time, id) of a row: the two keys every keyset list here is ordered by, newest first.
SortKey = tuple[datetime, int]


@dataclass(frozen=True)
class Page:
    """One page of results and what is needed to link to its neighbours.

    Keyset pages carry the cursors of their neighbours (``newer``/``older``); pages of lists paged
    by number only (search results) have none, and link by number.
    """

    items: Sequence[Any]
    page: int
    per_page: int
    has_next: bool
    older: str | None = None
    newer: str | None = None
    top: str | None = None  # the first entry's cursor, on the first page of the home timeline

    @property
    def keyset(self) -> bool:
        return self.older is not None or self.newer is not None

    @property
    def has_prev(self) -> bool:
        return self.newer is not None if self.keyset else self.page > 1

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def prev_num(self) -> int | None:
        return max(self.page - 1, 1) if self.has_prev else None

    @property
    def next_args(self) -> dict[str, Any]:
        """Query arguments of the next (older) page's URL; empty when there is none."""
        if not self.has_next:
            return {}
        return {"before": self.older} if self.older else {"page": self.page + 1}

    @property
    def prev_args(self) -> dict[str, Any]:
        """Query arguments of the previous (newer) page's URL; empty when there is none."""
        if not self.has_prev:
            return {}
        return {"after": self.newer} if self.newer else {"page": self.page - 1}


def paginate(query: sa.Select, page: int, per_page: int) -> Page:
    """Run ``query`` for one page by number. A page past the end (other than the first) is not found."""
    rows = db.session.scalars(query.limit(per_page + 1).offset((page - 1) * per_page)).unique().all()
    if page > 1 and not rows:
        raise PageNotFound(page)
    return Page(items=rows[:per_page], page=page, per_page=per_page, has_next=len(rows) > per_page)


# -- keyset ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Position:
    """Where a keyset page starts: strictly before (older than) or after (newer than) ``key``."""

    direction: str  # "before" or "after"
    key: SortKey
    page: int  # the number this page shows (cosmetic: "Page 3")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_CURSOR_SALT)


def encode_cursor(key: SortKey, page: int) -> str:
    """An opaque, signed cursor for the row with sort key ``key``, leading to page ``page``."""
    moment, row_id = key
    micros = (moment - _EPOCH) // _MICROSECOND
    return _serializer().dumps([micros, int(row_id), int(page)])


def decode_cursor(raw: str) -> tuple[SortKey, int] | None:
    """The (sort key, page number) in ``raw``, or None when it is not a cursor this site made."""
    if not raw or len(raw) > MAX_CURSOR:
        return None
    try:
        micros, row_id, page = _serializer().loads(raw)
        moment = _EPOCH + micros * _MICROSECOND
    except (BadData, ValueError, TypeError, OverflowError):
        return None
    if not all(type(n) is int for n in (micros, row_id, page)) or not 1 <= page <= MAX_PAGE:
        return None

    # Every list's ids are integer keys: past ID_MAX, PostgreSQL refuses the comparison with an error.
    if not 0 <= row_id <= ID_MAX:
        return None
    return (moment, row_id), page


Fetch = Callable[[sa.Select, bool], list[Any]]


def keyset_paginate(
    query: sa.Select,
    per_page: int,
    columns: tuple[Any, Any],
    key: Callable[[Any], SortKey],
    item: Callable[[Any], Any] | None = None,
    position: Position | None = None,
    page: int = 1,
    fetch: Fetch | None = None,
) -> Page:
    """One page of ``query``, which is ordered by ``columns`` (a time and an id) newest first.

    ``position`` (a decoded cursor) says where the page starts; without one, ``page`` picks a page
    by number, with OFFSET: old links keep working, and their neighbours are linked by cursor.
    ``key`` gives a result row's sort key; ``item`` turns a row into what the page lists
    (default: the row's first entity); ``fetch(query, ascending)`` runs the final query (default:
    as it is). Always one statement, whatever the depth.
    """
    pick = item or (lambda row: row[0])
    run = fetch or (lambda final, _ascending: _rows(final))
    if position is None:
        return _numbered(query, page, per_page, key, pick, run)
    time_column, id_column = columns
    moment, row_id = position.key
    if position.direction == "before":
        bound = sa.and_(time_column <= moment, sa.or_(time_column < moment, id_column < row_id))
        rows = run(query.where(bound).limit(per_page + 1), False)
        if not rows:
            raise PageNotFound(position.page)
        return _page(rows[:per_page], position.page, per_page, len(rows) > per_page, True, key, pick)
    bound = sa.and_(time_column >= moment, sa.or_(time_column > moment, id_column > row_id))
    ascending = query.where(bound).order_by(None).order_by(time_column.asc(), id_column.asc())
    rows = run(ascending.limit(per_page + 1), True)
    if len(rows) <= per_page:
        # Back at the top: show the real first page (full, and with no "Newer" link).
        return _numbered(query, 1, per_page, key, pick, run)
    rows = rows[:per_page][::-1]
    return _page(rows, max(position.page, 1), per_page, True, True, key, pick)


def _numbered(query: sa.Select, number: int, per_page: int, key: Callable[[Any], SortKey],
              pick: Callable[[Any], Any], run: Fetch) -> Page:
    """Page ``number`` by OFFSET (page 1, and old ``?page=N`` links), linking on by cursor."""
    rows = run(query.limit(per_page + 1).offset((number - 1) * per_page), False)
    if number > 1 and not rows:
        raise PageNotFound(number)
    return _page(rows[:per_page], number, per_page, len(rows) > per_page, number > 1, key, pick)


def _rows(query: sa.Select) -> list[Any]:
    return list(db.session.execute(query).unique().all())


def _page(rows: Sequence[Any], number: int, per_page: int, has_next: bool, has_prev: bool,
          key: Callable[[Any], SortKey], pick: Callable[[Any], Any]) -> Page:
    older = encode_cursor(key(rows[-1]), min(number + 1, MAX_PAGE)) if has_next and rows else None
    newer = encode_cursor(key(rows[0]), max(number - 1, 1)) if has_prev and rows else None
    return Page(items=[pick(row) for row in rows], page=number, per_page=per_page, has_next=has_next,
                older=older, newer=newer)


def post_page(query: sa.Select, per_page: int, position: Position | None = None, page: int = 1) -> Page:
    """One page of a list of posts ordered newest first (``Post.newest_first``), by keyset.

    A deferred join: the page's ids are found first from the indexes alone (post(user_id, timestamp,
    id) holds everything a timeline filters and sorts on; post(timestamp, id) everything explore
    does), and only those rows and their authors are read. Still one statement.
    """
    def fetch(final: sa.Select, ascending: bool) -> list[Any]:
        ids = final.with_only_columns(Post.id)
        if ascending:
            order = (Post.timestamp.asc(), Post.id.asc())
        else:
            order = (Post.timestamp.desc(), Post.id.desc())
        return _rows(sa.select(Post).where(Post.id.in_(ids)).order_by(*order))

    return keyset_paginate(query, per_page, (Post.timestamp, Post.id),
                           key=lambda row: (row[0].timestamp, row[0].id), position=position, page=page,
                           fetch=fetch)


def follow_page(query: sa.Select, per_page: int, position: Position | None = None, page: int = 1) -> Page:
    """One page of ``User.followers_select()`` or ``following_select()`` (newest follow first), by keyset."""
    # The builders order by the follow's time and the other account's id, which equals User.id.
    return keyset_paginate(
        query.add_columns(followers.c.created_at), per_page, (followers.c.created_at, User.id),
        key=lambda row: (row[-1], row[0].id), position=position, page=page,
    )
