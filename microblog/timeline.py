"""The home timeline: posts by the people one follows, and the posts they reposted, newest first.

Two keyset walks, each on its own index, read together in one statement (a UNION ALL of two
ordered, limited selects) and merged in Python: the posts of the followed authors on
post(user_id, timestamp, id) (``User.timeline_select``), and their reposts on announce(user_id, ...).
Each walk returns at most one page and one row of keys (time, id, post id, reposter's name); only
the posts the page shows are then loaded, with their authors, in a second statement. Two small
statements at any depth, and no ORM object for an entry that is not shown.

An entry's sort key is (time, id): the post's time for a post, the repost's time for a repost. A
post shows once per page: when it is reposted by several people one follows, or written by one
of them and reposted by another, the newest entry wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Announce, Post, User, Visibility, followers
from microblog.paging import MAX_PAGE, Page, PageNotFound, Position, SortKey, encode_cursor

# ?page=N is served by reading N pages of both walks: beyond this many entries it is refused
# (the Older links carry cursors, which cost the same at any depth).
MAX_NUMBERED_ENTRIES = 5_000


@dataclass(frozen=True)
class Repost:
    """A timeline entry for a post someone reposted: the card, labelled with who reposted it."""

    post: Post
    by: str  # the reposter's username


def reposts_select(user: User) -> sa.Select:
    """(time, id, post id, reposter's name) of the reposts by the people ``user`` follows, newest
    first, of posts ``user`` may see in a list.

    The visibility rule's audience test is left out on purpose: followers-only posts cannot be
    reposted (``services.reactions``) and a post's visibility never changes, so every reposted post
    is addressed to everyone; the rule's other parts (hidden posts, blocked and muted authors) apply.
    """
    left_out = Post.left_out_authors(user)
    reposters = sa.select(followers.c.followed_id).where(
        followers.c.follower_id == user.id, followers.c.followed_id.not_in(left_out)
    )
    return (
        sa.select(Announce.created_at, Announce.id, Announce.post_id, User.username)
        .join(Post, Post.id == Announce.post_id)
        .join(User, User.id == Announce.user_id)
        .where(Announce.user_id.in_(reposters), Post.visibility != Visibility.FOLLOWERS.value,
               Post.visible_to(user, listing=True, audience_checked=True))
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


# An entry before its post is loaded: (sort key, post id, reposter's name or None for the post itself).
Key = tuple[SortKey, int, str | None]


def _keys(user: User, limit: int, position: Position | None) -> list[Key]:
    """Up to ``limit`` entries of each walk from ``position``, unmerged: one statement (UNION ALL of
    the two index walks, each with its own order and limit), no ORM objects."""
    posts = _bounded(user.timeline_select(), (Post.timestamp, Post.id), position).with_only_columns(
        Post.timestamp.label("moment"), Post.id.label("row_id"), Post.id.label("post_id"),
        sa.null().label("reposter"),
    ).limit(limit).subquery()
    reposted = _bounded(reposts_select(user), (Announce.created_at, Announce.id), position)
    reposts = reposted.limit(limit).subquery()
    both = sa.union_all(sa.select(*posts.c), sa.select(*reposts.c))
    return [((moment, row_id), post_id, reposter)
            for moment, row_id, post_id, reposter in db.session.execute(both)]


def _load(keys: Sequence[Key]) -> list[tuple[SortKey, Any]]:
    """The entries of ``keys`` with their posts (and authors), read in one statement."""
    wanted = {post_id for _key, post_id, _by in keys}
    if not wanted:
        return []
    loaded = db.session.scalars(sa.select(Post).where(Post.id.in_(wanted))).unique()
    posts = {post.id: post for post in loaded}
    entries = []
    for key, post_id, by in keys:
        post = posts.get(post_id)
        if post is not None:
            entries.append((key, post if by is None else Repost(post=post, by=by)))
    return entries


def _once(keys: Sequence[Key]) -> list[Key]:
    """``keys`` (newest first) with each post's older entries dropped."""
    seen: set[int] = set()
    kept = []
    for key in keys:
        if key[1] not in seen:
            seen.add(key[1])
            kept.append(key)
    return kept


def home_page(user: User, per_page: int, position: Position | None = None, number: int = 1) -> Page:
    """One page of ``user``'s home timeline (see the module's docstring).

    :raises PageNotFound: a page past the end, or a numbered page too deep to read.
    """
    if position is not None and position.direction == "after":
        rows = sorted(_keys(user, per_page + 1, position), key=lambda item: item[0])
        if len(rows) <= per_page:
            return home_page(user, per_page)  # back at the top: the real first page
        newest_first = _once(rows[:per_page][::-1])
        return _page(_load(newest_first), max(position.page, 1), per_page, True, True)
    if position is not None:
        rows = sorted(_keys(user, per_page + 1, position), key=lambda item: item[0], reverse=True)
        if not rows:
            raise PageNotFound(position.page)
        return _page(_load(_once(rows[:per_page])), position.page, per_page, len(rows) > per_page, True)
    skip = (number - 1) * per_page
    if skip + per_page > MAX_NUMBERED_ENTRIES:
        raise PageNotFound(number)
    rows = sorted(_keys(user, skip + per_page + 1, None), key=lambda item: item[0], reverse=True)
    if number > 1 and len(rows) <= skip:
        raise PageNotFound(number)
    return _page(_load(_once(rows[skip:skip + per_page])), number, per_page, len(rows) > skip + per_page,
                 number > 1)


def _page(rows: list[tuple[SortKey, Any]], number: int, per_page: int, has_next: bool,
          has_prev: bool) -> Page:
    older = encode_cursor(rows[-1][0], min(number + 1, MAX_PAGE)) if has_next and rows else None
    newer = encode_cursor(rows[0][0], max(number - 1, 1)) if has_prev and rows else None
    return Page(items=[entry for _key, entry in rows], page=number, per_page=per_page, has_next=has_next,
                older=older, newer=newer)
