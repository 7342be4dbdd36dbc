"""The lists of statuses of the Mastodon API (home, public, a tag, an account's, bookmarks, favourites),
read by keyset from the queries the site's own pages use, paged the way Mastodon pages them.

A request's ``max_id``, ``since_id`` and ``min_id`` name entries of the list (a status, or a bookmark or
like row); each is resolved to that entry's sort key, (time, id), and the list is walked from there on
its index: below ``max_id``; above ``since_id`` from the top down (the newest, leaving a gap) or just
above ``min_id`` upwards (no gap). An id that names no entry is ignored, as a bad one is.

Nothing here reads the request: the views pass a :class:`listing.Window` and the user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from microblog import timeline
from microblog.extensions import db
from microblog.mastodon.listing import Window
from microblog.mastodon.status_entity import Reblog, parse_status_id
from microblog.models import ID_MAX, Announce, Post, PostTag, Tag, User
from microblog.paging import Position, SortKey
from microblog.services import tags


@dataclass(frozen=True)
class Range:
    """A window's ids as sort keys: entries below ``upper`` and above ``lower``; ``upward``: the ones
    just above ``lower`` (min_id) rather than the newest (since_id)."""

    upper: SortKey | None = None
    lower: SortKey | None = None
    upward: bool = False

    def holds(self, key: SortKey) -> bool:
        return (self.upper is None or key < self.upper) and (self.lower is None or key > self.lower)


def resolve(window: Window, key_of: Callable[[int], SortKey | None]) -> Range:
    """The window's ids as sort keys (``key_of`` looks an id up; None: no such entry, ignored)."""
    upper = key_of(window.max_id) if window.max_id is not None else None
    if window.min_id is not None:
        lower = key_of(window.min_id)
        return Range(upper, lower, lower is not None)
    return Range(upper, key_of(window.since_id) if window.since_id is not None else None)


def status_key(status_id: int) -> SortKey | None:
    """The (time, id) of a status, a post or a repost's wrapper, in the lists that hold both."""
    parsed = parse_status_id(status_id)
    if parsed is None:
        return None
    kind, row_id = parsed
    query = (sa.select(Post.timestamp, Post.id).where(Post.id == row_id) if kind == "post"
             else sa.select(Announce.created_at, Announce.id).where(Announce.id == row_id))
    row = db.session.execute(query).first()
    return (row[0], row[1]) if row is not None else None


def post_key(status_id: int) -> SortKey | None:
    """The (time, id) of a post, in lists of posts only (a repost's id names nothing there)."""
    parsed = parse_status_id(status_id)
    return status_key(status_id) if parsed is not None and parsed[0] == "post" else None


def row_key(model: Any, user: User) -> Callable[[int], SortKey | None]:
    """The (created_at, id) of one of ``user``'s ``model`` rows (a bookmark, a like)."""
    def key_of(row_id: int) -> SortKey | None:
        if row_id > ID_MAX:  # no row has it, and PostgreSQL's integer column could not hold it
            return None
        row = db.session.execute(sa.select(model.created_at, model.id)
                                 .where(model.id == row_id, model.user_id == user.id)).first()
        return (row[0], row[1]) if row is not None else None

    return key_of


def walk(query: sa.Select, columns: tuple[Any, Any], bounds: Range, limit: int) -> sa.Select:
    """``query`` (ordered by ``columns``, newest first) cut to ``bounds``: ``limit`` rows, newest first,
    or oldest first when walking up (the caller turns them round)."""
    time_column, id_column = columns
    if bounds.upper is not None:
        moment, row_id = bounds.upper
        query = query.where(time_column <= moment, sa.or_(time_column < moment, id_column < row_id))
    if bounds.lower is not None:
        moment, row_id = bounds.lower
        query = query.where(time_column >= moment, sa.or_(time_column > moment, id_column > row_id))
    if bounds.upward:
        query = query.order_by(None).order_by(time_column.asc(), id_column.asc())
    return query.limit(limit)


def rows(query: sa.Select, columns: tuple[Any, Any], bounds: Range, limit: int) -> list[Any]:
    """The rows of :func:`walk`, newest first."""
    found = list(db.session.execute(walk(query, columns, bounds, limit)).unique().all())
    return found[::-1] if bounds.upward else found


POST_COLUMNS = (Post.timestamp, Post.id)
ANNOUNCE_COLUMNS = (Announce.created_at, Announce.id)


def posts(query: sa.Select, bounds: Range, limit: int, columns: tuple[Any, Any] = POST_COLUMNS) -> list[Post]:
    """A page of a list of posts whose rows start with the Post."""
    return [row[0] for row in rows(query, columns, bounds, limit)]


def home(user: User, bounds: Range, limit: int) -> list[Post | Reblog]:
    """A page of ``user``'s home timeline (``timeline.home_entries``), reposts as reblog wrappers."""
    if bounds.upward:
        assert bounds.lower is not None
        keyed = timeline.home_entries(user, limit, Position("after", bounds.lower, 1))
    else:
        below = Position("before", bounds.upper, 1) if bounds.upper else None
        keyed = timeline.home_entries(user, limit, below)
    keyed = [(key, entry) for key, entry in keyed if bounds.holds(key)]
    # The reposters, by the names the walk gives: one statement, only when the page has reposts.
    # lower(username) is what the unique index holds: a plain username IN (...) scanned every account.
    names = {entry.by.lower() for _key, entry in keyed if isinstance(entry, timeline.Repost)}
    lower = sa.func.lower(User.username)
    found: Iterable[User] = db.session.scalars(sa.select(User).where(lower.in_(names))) if names else ()
    reposters = {person.username: person for person in found}
    entries: list[Post | Reblog] = []
    for key, entry in keyed:
        if not isinstance(entry, timeline.Repost):
            entries.append(entry)
        elif entry.by in reposters:
            entries.append(Reblog(id=key[1], created_at=key[0], account=reposters[entry.by], post=entry.post))
    return entries


def merged(posts_query: sa.Select | None, reposts_query: sa.Select | None, account: User, bounds: Range,
           limit: int) -> list[Post | Reblog]:
    """A page of an account's posts and reposts, newest first: each walked on its own index (rows of
    (Post, ...) and of (Announce.created_at, Announce.id, Post)), then merged."""
    keyed: list[tuple[SortKey, Post | Reblog]] = []
    if posts_query is not None:
        keyed += [((post.timestamp, post.id), post) for post in posts(posts_query, bounds, limit)]
    if reposts_query is not None:
        for created_at, announce_id, post in rows(reposts_query, ANNOUNCE_COLUMNS, bounds, limit):
            keyed.append(((created_at, announce_id), Reblog(announce_id, created_at, account, post)))
    keyed.sort(key=lambda item: item[0], reverse=True)
    page = keyed[-limit:] if bounds.upward else keyed[:limit]
    return [entry for _key, entry in page]


def account_reposts_select(account: User, viewer: User | None) -> sa.Select:
    """(time, announce id, Post) of ``account``'s reposts of posts ``viewer`` may see in a list, newest
    first, along announce(user_id, created_at, id, post_id)."""
    return (
        sa.select(Announce.created_at, Announce.id, Post)
        .join(Post, Post.id == Announce.post_id)
        .where(Announce.user_id == account.id, Post.visible_to(viewer, listing=True))
        .order_by(Announce.created_at.desc(), Announce.id.desc())
    )


def media_only(query: sa.Select, wanted: bool) -> sa.Select:
    """``only_media``: the posts with images."""
    return query.where(Post.media_count > 0) if wanted else query


def tagged(names: Sequence[str]) -> sa.ColumnElement[bool]:
    """The post carries one of these tags (normalized names)."""
    return sa.exists(sa.select(PostTag.post_id).join(Tag, Tag.id == PostTag.tag_id)
                     .where(PostTag.post_id == Post.id, Tag.name.in_(names)))


def tag_select(name: str, viewer: User | None, any_of: Sequence[str], all_of: Sequence[str],
               none_of: Sequence[str], only_media: bool) -> tuple[sa.Select, tuple[Any, Any]]:
    """A hashtag's public posts (rows starting with the Post) and the columns they are ordered by:
    along post_tag's index for one tag, as the tag's page; every public post narrowed to those with
    one of the tags for ``any[]``; ``all[]`` and ``none[]`` narrow either."""
    if any_of:
        query, columns = Post.explore_select(viewer).where(tagged([name, *any_of])), POST_COLUMNS
    else:
        query, columns = tags.tag_page_select(name, viewer), (PostTag.timestamp, PostTag.post_id)
    for tag in all_of:
        query = query.where(tagged([tag]))
    if none_of:
        query = query.where(~tagged(none_of))
    return media_only(query, only_media), columns


def account_selects(account: User, viewer: User | None, *, only_media: bool, exclude_replies: bool,
                    exclude_reblogs: bool, tagged_with: str | None) -> tuple[sa.Select, sa.Select | None]:
    """The queries of an account's statuses: its posts as ``viewer`` may see them, and its reposts
    (None when the filters leave them out: a reblog wrapper has no media or tags of its own)."""
    own = media_only(account.posts_select(viewer), only_media)
    if exclude_replies:  # Mastodon keeps an account's replies to itself (threads)
        own = own.where(sa.or_(Post.is_reply.is_(False), Post.in_reply_to_user_id == Post.user_id))
    if tagged_with:
        tag = tags.valid_tag_name(tagged_with)
        own = own.where(tagged([tag]) if tag else sa.false())
    with_reblogs = not (exclude_reblogs or only_media or tagged_with)
    return own, account_reposts_select(account, viewer) if with_reblogs else None


def first_and_last(found: Sequence[Any]) -> tuple[str | None, str | None]:
    """The Link ids of a page of (Post, created_at, row id) rows: the first and last row ids."""
    return (str(found[0][2]), str(found[-1][2])) if found else (None, None)
