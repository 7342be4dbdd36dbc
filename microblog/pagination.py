"""Pagination without COUNT(*): fetch one row more than a page to learn whether a next page exists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import abort, request

from microblog.extensions import db

# Deeper pages than this are refused: nobody clicks that far, and huge offsets cost the database.
MAX_PAGE = 100_000


@dataclass(frozen=True)
class Page:
    """One page of results and what is needed to link to its neighbours."""

    items: Sequence[Any]
    page: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None


def requested_page() -> int:
    """The ``page`` query argument; anything but a whole number from 1 to MAX_PAGE is a 404."""
    raw = request.args.get("page", "1")
    if not raw.isascii() or not raw.isdigit():
        abort(404)
    page = int(raw)
    if not 1 <= page <= MAX_PAGE:
        abort(404)
    return page


def paginate(query: sa.Select, page: int, per_page: int) -> Page:
    """Run ``query`` for one page. A page past the end (other than the first) is a 404."""
    rows = db.session.scalars(query.limit(per_page + 1).offset((page - 1) * per_page)).unique().all()
    if page > 1 and not rows:
        abort(404)
    return Page(items=rows[:per_page], page=page, per_page=per_page, has_next=len(rows) > per_page)
