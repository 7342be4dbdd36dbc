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
from functools import cache
from typing import Any

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Announce, Permission, Post, User, ViewerRef, followers
from microblog.paging import MAX_PAGE, Page, PageNotFound, Position, SortKey, encode_cursor

# ?page=N is served by reading N pages of both walks: beyond this many entries it is refused
# (the Older links carry cursors, which cost the same at any depth).
MAX_NUMBERED_ENTRIES = 5_000


@dataclass(frozen=True)
class Repost:
    """A timeline entry for a post someone reposted: the card, labelled with who reposted it."""

    post: Post
    by: str  # the reposter's username


def reposts_select(viewer: User | ViewerRef) -> sa.Select:
    """(time, id, post id, reposter's name) of the reposts by the people ``viewer`` follows (and did not
    block or mute), newest first: announce rows only, read from announce(user_id, created_at, id,
    post_id) without visiting a post.

    The rest of the visibility rule (hidden posts, posts by people ``viewer`` blocked or muted) is
    applied when the page's posts are loaded (``_load``), to the few posts shown instead of every
    repost of the people followed. The audience test is not needed: followers-only posts cannot be
    reposted (``services.reactions``) and a post's visibility never changes.
    """
    reposters = sa.select(followers.c.followed_id).where(
        followers.c.follower_id == viewer.id, followers.c.followed_id.not_in(Post.left_out_authors(viewer))
    )
    return (
        sa.select(Announce.created_at, Announce.id, Announce.post_id, User.username)
        .join(User, User.id == Announce.user_id)
        .where(Announce.user_id.in_(reposters))
        .order_by(Announce.created_at.desc(), Announce.id.desc())
    )


# The statements below are built once per shape (and whether the viewer moderates), with the viewer,
# the cursor and the limit as bound parameters: building and keying them anew on every request cost
# more than running them.
def _viewer(moderator: bool) -> ViewerRef:
    return ViewerRef(sa.bindparam("viewer_id", type_=sa.Integer), moderator)


def _bounded(query: sa.Select, columns: tuple[Any, Any], direction: str | None) -> sa.Select:
    """``query`` from the cursor's row (bound parameters ``moment`` and ``row_id``) in ``direction``."""
    if direction is None:
        return query
    time_column, id_column = columns
    moment = sa.bindparam("moment", type_=time_column.type)
    row_id = sa.bindparam("row_id", type_=sa.Integer)
    if direction == "before":
        return query.where(time_column <= moment, sa.or_(time_column < moment, id_column < row_id))
    return (query.where(time_column >= moment, sa.or_(time_column > moment, id_column > row_id))
            .order_by(None).order_by(time_column.asc(), id_column.asc()))


@cache
def _keys_statement(direction: str | None, moderator: bool) -> sa.CompoundSelect:
    """Both walks' keys from a cursor in ``direction`` (None: the top), each up to ``limit`` rows."""
    viewer = _viewer(moderator)
    limit = sa.bindparam("limit", type_=sa.Integer)
    posts = _bounded(User.timeline_select_for(viewer), (Post.timestamp, Post.id), direction)
    posts = posts.with_only_columns(Post.timestamp.label("moment"), Post.id.label("row_id"),
                                    Post.id.label("post_id"), sa.null().label("reposter"))
    reposts = _bounded(reposts_select(viewer), (Announce.created_at, Announce.id), direction)
    return sa.union_all(sa.select(*posts.limit(limit).subquery().c),
                        sa.select(*reposts.limit(limit).subquery().c))


@cache
def _load_statement(moderator: bool) -> sa.Select:
    """The posts with the ids ``post_ids`` that the viewer may see in a list."""
    rule = Post.visible_to(_viewer(moderator), listing=True, audience_checked=True)
    return sa.select(Post).where(Post.id.in_(sa.bindparam("post_ids", expanding=True)), rule)


def _moderator(user: User) -> bool:
    return user.can(Permission.MODERATE_POSTS)


# An entry before its post is loaded: (sort key, post id, reposter's name or None for the post itself).
Key = tuple[SortKey, int, str | None]


def _keys(user: User, limit: int, position: Position | None) -> list[Key]:
    """Up to ``limit`` entries of each walk from ``position``, unmerged: one statement (UNION ALL of
    the two index walks, each with its own order and limit), no ORM objects."""
    params: dict[str, Any] = {"viewer_id": user.id, "limit": limit}
    if position is not None:
        params["moment"], params["row_id"] = position.key
    statement = _keys_statement(position.direction if position else None, _moderator(user))
    return [((moment, row_id), post_id, reposter)
            for moment, row_id, post_id, reposter in db.session.execute(statement, params)]


def _load(user: User, keys: Sequence[Key]) -> list[tuple[SortKey, Any]]:
    """The entries of ``keys`` with their posts (and authors), read in one statement through the
    visibility rule for lists: an entry whose post ``user`` may not see in a list is left out."""
    wanted = sorted({post_id for _key, post_id, _by in keys})
    if not wanted:
        return []
    loaded = db.session.scalars(_load_statement(_moderator(user)), {"viewer_id": user.id, "post_ids": wanted})
    posts = {post.id: post for post in loaded.unique()}
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
        return _page(_load(user, newest_first), max(position.page, 1), per_page, True, True)
    if position is not None:
        rows = sorted(_keys(user, per_page + 1, position), key=lambda item: item[0], reverse=True)
        if not rows:
            raise PageNotFound(position.page)
        return _page(_load(user, _once(rows[:per_page])), position.page, per_page, len(rows) > per_page, True)
    skip = (number - 1) * per_page
    if skip + per_page > MAX_NUMBERED_ENTRIES:
        raise PageNotFound(number)
    rows = sorted(_keys(user, skip + per_page + 1, None), key=lambda item: item[0], reverse=True)
    if number > 1 and len(rows) <= skip:
        raise PageNotFound(number)
    shown = _load(user, _once(rows[skip:skip + per_page]))
    return _page(shown, number, per_page, len(rows) > skip + per_page, number > 1)


def home_entries(user: User, limit: int, position: Position | None = None) -> list[tuple[SortKey, Any]]:
    """Up to ``limit`` entries of ``user``'s home timeline with their sort keys, newest first: from the
    top, or just beyond ``position`` (its page number unused). The walks of :func:`home_page` without
    its pages: "after" gives the entries just above the key even when fewer than ``limit`` are left
    (home_page shows the top page then), as the Mastodon API's ``min_id`` wants. Two statements."""
    ascending = position is not None and position.direction == "after"
    rows = sorted(_keys(user, limit, position), key=lambda item: item[0], reverse=not ascending)[:limit]
    return _load(user, _once(rows[::-1] if ascending else rows))


def _page(rows: list[tuple[SortKey, Any]], number: int, per_page: int, has_next: bool,
          has_prev: bool) -> Page:
    older = encode_cursor(rows[-1][0], min(number + 1, MAX_PAGE)) if has_next and rows else None
    newer = encode_cursor(rows[0][0], max(number - 1, 1)) if has_prev and rows else None
    # The top of the first page: what the "new posts" banner asks about (``newer_count``).
    top = encode_cursor(rows[0][0], 1) if not has_prev and rows else None
    return Page(items=[entry for _key, entry in rows], page=number, per_page=per_page, has_next=has_next,
                older=older, newer=newer, top=top)


def top_cursor(post: Post) -> str:
    """The cursor of a post just published (it is the top of its author's timeline)."""
    return encode_cursor((post.timestamp, post.id), 1)


def newer_count(user: User, key: SortKey, cap: int) -> int:
    """How many entries of ``user``'s home timeline are newer than ``key``, counting up to ``cap`` + 1
    (the caller shows "20+"): one statement, the keys' walks only, no post loaded. An entry of a post
    ``user`` may not see in a list (hidden, by someone muted) is counted all the same: the banner
    says "about", and loading shows what is there."""
    rows = sorted(_keys(user, cap + 1, Position("after", key, 1)), key=lambda item: item[0], reverse=True)
    return min(len(_once(rows)), cap + 1)
