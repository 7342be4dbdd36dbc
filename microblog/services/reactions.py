"""Likes, reposts (ActivityStreams ``Announce``) and bookmarks: one row per person and post.

The rules: only a post the person may see (``Post.visible_to``) can be reacted to; a suspended account
cannot like or repost (a bookmark is private: the service allows it, though the web and the API refuse
every write of a suspended account before the view); a followers-only post cannot be reposted;
reposting your own post is allowed, as on Mastodon. Doing something twice, or undoing what was never done, is
harmless.

The counts on the post (``like_count``, ``repost_count``) move in the same transaction as the row,
with ``count = count + 1`` in SQL, and only when the row was really added or removed: the insert is
``INSERT ... ON CONFLICT DO NOTHING`` (``rows.insert_unless_present``), so eight clicks at once give
one row and a count of one, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from microblog.exceptions import NotFound, PermissionDenied
from microblog.extensions import db
from microblog.federation import outgoing
from microblog.models import Announce, Bookmark, Like, Notification, NotificationKind, Post, User, Visibility
from microblog.paging import Page, Position, keyset_paginate
from microblog.services import notifications, posts, roles, rows
from microblog.timeutil import utcnow

LIKE, REPOST, BOOKMARK = "like", "repost", "bookmark"


@dataclass(frozen=True)
class _Kind:
    model: type[Like] | type[Announce] | type[Bookmark]
    counter: sa.orm.InstrumentedAttribute | None
    notification: NotificationKind | None


_KINDS = {
    LIKE: _Kind(Like, Post.like_count, NotificationKind.LIKE),
    REPOST: _Kind(Announce, Post.repost_count, NotificationKind.REPOST),
    BOOKMARK: _Kind(Bookmark, None, None),
}


def _target(user: User, post_id: int) -> Post:
    """The post ``user`` may see with this id.

    :raises NotFound: there is none (or it is not for their eyes, which must look the same).
    """
    post = posts.visible_post(user, post_id)
    if post is None:
        raise NotFound(_("That post does not exist."))
    return post


def _bump(post: Post, counter: sa.orm.InstrumentedAttribute, delta: int) -> None:
    # "count = count + n" in SQL: concurrent requests cannot lose each other's updates.
    db.session.execute(
        sa.update(Post).where(Post.id == post.id).values({counter: counter + delta}),
        execution_options={"synchronize_session": False},
    )
    db.session.expire(post, [counter.key])


def add_reaction(user: User, post: Post, kind: str) -> str | None:
    """Add ``user``'s reaction of ``kind`` to ``post`` with its count and notification (of a local
    author); commits. For callers that checked the rules already (the services below, the federation
    inbox). Returns the new row's key (its activity's id is made of it), None when it was already there."""
    spec = _KINDS[kind]
    added = rows.insert_unless_present(spec.model.__table__, user_id=user.id, post_id=post.id,
                                       created_at=utcnow())
    if added:
        if spec.counter is not None:
            _bump(post, spec.counter, 1)
        if spec.notification is not None and post.user_id != user.id and post.author.domain is None:
            notifications.add_notification(post.user_id, spec.notification, actor_id=user.id, post_id=post.id)
    db.session.commit()
    if not added:
        return None
    model = spec.model
    row = db.session.execute(sa.select(model.id, model.created_at)
                             .where(model.user_id == user.id, model.post_id == post.id)).first()
    return _key(*row) if row is not None else None


def _key(row_id: int, created_at: datetime) -> str:
    """A reaction's lasting name: its row's id and when it was made (SQLite gives a deleted last row's
    id to the next one, so the id alone could name two likes)."""
    return f"{row_id}-{int(created_at.timestamp() * 1000)}"


def remove_reaction(user: User, post: Post, kind: str) -> str | None:
    """Take back ``user``'s reaction of ``kind`` to ``post`` with its count and unread notification;
    commits. Returns the key the row had (see ``add_reaction``), None when there was none."""
    spec = _KINDS[kind]
    model = spec.model
    removed = db.session.execute(
        sa.delete(model).where(model.user_id == user.id, model.post_id == post.id)
        .returning(model.id, model.created_at)
    ).first()
    if removed is not None:
        if spec.counter is not None:
            _bump(post, spec.counter, -1)
        if spec.notification is not None:
            db.session.execute(sa.delete(Notification).where(
                Notification.user_id == post.user_id, Notification.kind == spec.notification.value,
                Notification.actor_id == user.id, Notification.post_id == post.id,
                Notification.read_at.is_(None),
            ))
    db.session.commit()
    return _key(*removed) if removed is not None else None


def like(user: User, post_id: int) -> Post:
    """``user`` likes the post; its author is told (unless it is themselves, or they blocked or muted
    ``user``). Liking twice changes nothing.

    :raises NotFound: no such post that ``user`` may see.
    :raises AccountSuspended: ``user`` is suspended.
    """
    roles.check_not_suspended(user)
    post = _target(user, post_id)
    reaction_id = add_reaction(user, post, LIKE)
    if reaction_id is not None:
        outgoing.liked(user.id, post.id, reaction_id)
    return post


def unlike(user: User, post_id: int) -> Post:
    """Take a like back (harmless when there was none)."""
    post = _target(user, post_id)
    reaction_id = remove_reaction(user, post, LIKE)
    if reaction_id is not None:
        outgoing.unliked(user.id, post.id, reaction_id)
    return post


def repost(user: User, post_id: int) -> Post:
    """``user`` reposts the post to their followers; its author is told. Reposting twice changes nothing.
    Reposting one's own post is allowed (as on Mastodon).

    :raises NotFound: no such post that ``user`` may see.
    :raises PermissionDenied: the post is for its author's followers only, or ``user`` is suspended.
    """
    roles.check_not_suspended(user)
    post = _target(user, post_id)
    if post.visibility == Visibility.FOLLOWERS.value:
        raise PermissionDenied(_("This post is for its author's followers only: it cannot be reposted."))
    reaction_id = add_reaction(user, post, REPOST)
    if reaction_id is not None:
        outgoing.reposted(user.id, post.id, reaction_id)
    return post


def unrepost(user: User, post_id: int) -> Post:
    """Take a repost back (harmless when there was none)."""
    post = _target(user, post_id)
    reaction_id = remove_reaction(user, post, REPOST)
    if reaction_id is not None:
        outgoing.unreposted(user.id, post.id, reaction_id)
    return post


def bookmark(user: User, post_id: int) -> Post:
    """Keep the post in ``user``'s private bookmarks. Nobody is told.

    :raises NotFound: no such post that ``user`` may see.
    """
    post = _target(user, post_id)
    add_reaction(user, post, BOOKMARK)
    return post


def unbookmark(user: User, post_id: int) -> Post:
    """Remove the post from ``user``'s bookmarks (harmless when it was not there)."""
    post = _target(user, post_id)
    remove_reaction(user, post, BOOKMARK)
    return post


def viewer_state(user: User | None, post_ids: list[int] | set[int] | tuple[int, ...]) -> dict[int, set[str]]:
    """Which of these posts ``user`` liked, reposted and bookmarked: ``{post_id: {"like", ...}}`` (posts
    with none are left out). One statement, a UNION ALL of three index lookups; none for no user or ids."""
    ids = sorted({i for i in post_ids if isinstance(i, int)})
    if user is None or not ids:
        return {}
    state: dict[int, set[str]] = defaultdict(set)
    for kind, post_id in db.session.execute(_viewer_state_statement(), {"user_id": user.id, "post_ids": ids}):
        state[post_id].add(kind)
    return dict(state)


@cache
def _viewer_state_statement() -> sa.CompoundSelect:
    """``viewer_state``'s statement, built once: every card of every page runs it, and building it
    anew (with its cache key) cost more than running it."""
    post_ids: sa.BindParameter[list[int]] = sa.bindparam("post_ids", expanding=True)
    return sa.union_all(*viewer_state_selects(sa.bindparam("user_id"), post_ids))


def viewer_state_selects(user_id: Any, post_ids: Any) -> list[sa.Select]:
    """The selects of :func:`viewer_state`, rows of (kind, post id), for a statement that reads them
    beside other things (the Mastodon API's statuses read a page's state, mentions and tags at once)."""
    return [
        sa.select(sa.literal_column(f"'{name}'").label("kind"), spec.model.post_id.label("post_id"))
        .where(spec.model.user_id == user_id, spec.model.post_id.in_(post_ids))
        for name, spec in _KINDS.items()
    ]


def bookmarks_page(user: User, per_page: int, position: Position | None = None, page: int = 1) -> Page:
    """One page of ``user``'s bookmarks (posts), by keyset on the bookmark's (created_at, id): one
    statement whatever the depth.

    :raises PageNotFound: past the end, or a cursor naming no row.
    """
    return page_bookmarks(bookmarks_select(user), per_page, position, page)


def page_bookmarks(query: sa.Select, per_page: int, position: Position | None = None, page: int = 1) -> Page:
    """One page of ``bookmarks_select(...)`` (narrowed or not), by keyset on the bookmark's time and id."""
    return keyset_paginate(query, per_page, (Bookmark.created_at, Bookmark.id),
                           key=lambda row: (row[1], row[2]), position=position, page=page)


def bookmarks_select(user: User) -> sa.Select:
    """``user``'s bookmarked posts that they may still see, newest bookmark first: rows of
    (Post, Bookmark.created_at, Bookmark.id), for ``paging.keyset_paginate`` on (created_at, id)."""
    return _reacted_select(Bookmark, user)


def likes_select(user: User) -> sa.Select:
    """``user``'s liked posts that they may still see, newest like first: rows of (Post, Like.created_at,
    Like.id), as :func:`bookmarks_select` (the Mastodon API's favourites)."""
    return _reacted_select(Like, user)


def _reacted_select(model: type[Like] | type[Bookmark], user: User) -> sa.Select:
    return (
        sa.select(Post, model.created_at, model.id)
        .join(model, model.post_id == Post.id)
        .where(model.user_id == user.id, Post.visible_to(user))
        .order_by(model.created_at.desc(), model.id.desc())
    )
