"""The home timeline: posts by the people one follows, and the posts they reposted, newest first.

Two keyset walks, each on its own index, merged in Python: the posts of the followed authors on
post(user_id, timestamp, id) (``User.timeline_select``), and their reposts on
announce(user_id, created_at, id). Each fetches at most one page and one row, so the page costs
two small statements at any depth, instead of a UNION the database would have to sort.

An entry's sort key is (time, id): the post's time for a post, the repost's time for a repost. A
post shows once per page: when it is reposted by several people one follows, or written by one
of them and reposted by another, the newest entry wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.models import Announce, Post, User, followers
from microblog.paging import MAX_PAGE, Page, PageNotFound, Position, SortKey, encode_cursor

# ?page=N is served by reading N pages of both walks: beyond this many entries it is refused
# (the Older links carry cursors, which cost the same at any depth).
MAX_NUMBERED_ENTRIES = 5_000


@dataclass(frozen=True)
class Repost:
    """A timeline entry for a post someone reposted: the card, labelled with who reposted it."""

    post: Post
    by: User


def reposts_select(user: User) -> sa.Select:
    """Reposts by the people ``user`` follows of posts ``user`` may see in a list, newest first."""
    reposters = sa.select(followers.c.followed_id).where(
        followers.c.follower_id == user.id, followers.c.followed_id.not_in(Post.left_out_authors(user))
    )
    return (
        sa.select(Announce, Post)
        .join(Post, Post.id == Announce.post_id)
        .options(so.joinedload(Announce.user))
        .where(Announce.user_id.in_(reposters), Post.visible_to(user, listing=True))
        .order_by(Announce.created_at.desc(), Announce.id.desc())
    )


def _bounded(query: sa.Select, columns: tuple[Any, Any], position: Position | None) -> sa.Select:
    if position is None:
        return query
    time_column, id_column = columns
    moment, row_id = position.key
    if position.direction == "before":
        return query.where(time_column <= moment, sa.or_(time_column < moment, id_column < row_id))
    return (query.where(time_column >= moment, sa.or_(time_column > moment, id_column > row_id))
            .order_by(None).order_by(time_column.asc(), id_column.asc()))


def _entries(user: User, limit: int, position: Position | None) -> list[tuple[SortKey, Any]]:
    """Up to ``limit`` entries of each walk from ``position``, as (sort key, entry), unmerged."""
    posts_query = _bounded(user.timeline_select(), (Post.timestamp, Post.id), position)
    ids = posts_query.with_only_columns(Post.id).limit(limit)
    posts = db.session.scalars(sa.select(Post).where(Post.id.in_(ids))).unique().all()
    found: list[tuple[SortKey, Any]] = [((post.timestamp, post.id), post) for post in posts]
    reposts_query = _bounded(reposts_select(user), (Announce.created_at, Announce.id), position)
    for announce, post in db.session.execute(reposts_query.limit(limit)).unique().all():
        found.append(((announce.created_at, announce.id), Repost(post=post, by=announce.user)))
    return found


def _post_of(entry: Any) -> Post:
    return entry.post if isinstance(entry, Repost) else entry


def _once(entries: Sequence[tuple[SortKey, Any]]) -> list[tuple[SortKey, Any]]:
    """``entries`` (newest first) with each post's older entries dropped."""
    seen: set[int] = set()
    kept = []
    for key, entry in entries:
        post_id = _post_of(entry).id
        if post_id not in seen:
            seen.add(post_id)
            kept.append((key, entry))
    return kept


def home_page(user: User, per_page: int, position: Position | None = None, number: int = 1) -> Page:
    """One page of ``user``'s home timeline (see the module's docstring).

    :raises PageNotFound: a page past the end, or a numbered page too deep to read.
    """
    if position is not None and position.direction == "after":
        rows = sorted(_entries(user, per_page + 1, position), key=lambda item: item[0])
        if len(rows) <= per_page:
            return home_page(user, per_page)  # back at the top: the real first page
        newest_first = _once(rows[:per_page][::-1])
        return _page(newest_first, max(position.page, 1), per_page, True, True)
    if position is not None:
        rows = sorted(_entries(user, per_page + 1, position), key=lambda item: item[0], reverse=True)
        if not rows:
            raise PageNotFound(position.page)
        return _page(_once(rows[:per_page]), position.page, per_page, len(rows) > per_page, True)
    skip = (number - 1) * per_page
    if skip + per_page > MAX_NUMBERED_ENTRIES:
        raise PageNotFound(number)
    rows = sorted(_entries(user, skip + per_page + 1, None), key=lambda item: item[0], reverse=True)
    if number > 1 and len(rows) <= skip:
        raise PageNotFound(number)
    return _page(_once(rows[skip:skip + per_page]), number, per_page, len(rows) > skip + per_page, number > 1)


def _page(rows: list[tuple[SortKey, Any]], number: int, per_page: int, has_next: bool,
          has_prev: bool) -> Page:
    older = encode_cursor(rows[-1][0], min(number + 1, MAX_PAGE)) if has_next and rows else None
    newer = encode_cursor(rows[0][0], max(number - 1, 1)) if has_prev and rows else None
    return Page(items=[entry for _key, entry in rows], page=number, per_page=per_page, has_next=has_next,
                older=older, newer=newer)
