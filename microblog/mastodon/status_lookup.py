"""Finding the statuses a Mastodon client names, as the viewer may see them, and the people who
liked or reposted one, a page at a time. Plain functions for the statuses blueprint.

A status id names a post or a repost (``status_entity.parse_status_id``). What cannot be seen looks
exactly like what does not exist: the views answer both with 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from microblog.extensions import db
from microblog.mastodon.listing import Window
from microblog.mastodon.status_entity import Reblog, parse_status_id
from microblog.models import Announce, Like, Post, User
from microblog.services import media, posts

# GET /api/v1/statuses?id[]=...: how many ids one request may name (Mastodon's limit).
MAX_IDS = 20


def _reblog(viewer: User | None, announce: Announce | None) -> Reblog | None:
    if announce is None or announce.user.deactivated_at is not None:
        return None
    post = posts.visible_post(viewer, announce.post_id)
    return Reblog(announce.id, announce.created_at, announce.user, post) if post is not None else None


def find_entry(viewer: User | None, raw: Any) -> Post | Reblog | None:
    """The post or repost with this status id that ``viewer`` may see (a repost: of a post they may
    see), or None."""
    parsed = parse_status_id(raw)
    if parsed is None:
        return None
    kind, value = parsed
    if kind == "post":
        return posts.visible_post(viewer, value)
    return _reblog(viewer, db.session.get(Announce, value))


def find_post(viewer: User | None, raw: Any) -> Post | None:
    """The post a status id names (a repost's id names the post reposted, as Mastodon's actions on a
    reblog act on the original), if ``viewer`` may see it."""
    entry = find_entry(viewer, raw)
    return entry.post if isinstance(entry, Reblog) else entry


def find_own_post(user: User, raw: Any) -> Post | None:
    """``user``'s own post with this id (not a repost: those are undone with /unreblog), or None."""
    parsed = parse_status_id(raw)
    if parsed is None or parsed[0] != "post":
        return None
    post = posts.visible_post(user, parsed[1])
    return post if post is not None and post.user_id == user.id else None


def find_own_reblog(user: User, raw: Any) -> Reblog | None:
    """``user``'s own repost with this status id (a reblog wrapper's id), or None."""
    entry = find_entry(user, raw)
    return entry if isinstance(entry, Reblog) and entry.account.id == user.id else None


def find_entries(viewer: User | None, raws: Sequence[Any]) -> list[Post | Reblog]:
    """The statuses these ids name that ``viewer`` may see, in the order asked, each once, unknown and
    hidden ones left out (two statements: the posts, the reposts)."""
    parsed = [p for p in dict.fromkeys(filter(None, map(parse_status_id, raws)))]
    post_ids = [value for kind, value in parsed if kind == "post"]
    announce_ids = [value for kind, value in parsed if kind == "reblog"]
    found: dict[tuple[str, int], Post | Reblog] = {}
    if post_ids:
        for post in db.session.scalars(Post.visible_select(viewer).where(Post.id.in_(post_ids))):
            found["post", post.id] = post
    if announce_ids:
        query = (sa.select(Announce, Post).join(Post, Post.id == Announce.post_id)
                 .where(Announce.id.in_(announce_ids), Post.visible_to(viewer)))
        for announce, post in db.session.execute(query).tuples():
            if announce.user.deactivated_at is None:
                found["reblog", announce.id] = Reblog(announce.id, announce.created_at, announce.user, post)
    return [found[key] for key in parsed if key in found]


def own_repost(user: User, post: Post) -> Reblog | None:
    """``user``'s repost of ``post`` as a timeline entry (None: they have not reposted it)."""
    announce = db.session.scalar(sa.select(Announce).where(Announce.user_id == user.id,
                                                           Announce.post_id == post.id))
    return Reblog(announce.id, announce.created_at, user, post) if announce is not None else None


def reactors_page(model: type[Like] | type[Announce], post: Post,
                  window: Window) -> list[tuple[int, User]]:
    """One page of (like or announce id, its user) of ``post``, newest first, paged by the row's id
    (Mastodon pages favourited_by and reblogged_by by the favourite's and the reblog's ids). Deactivated
    accounts are left out."""
    key = model.id
    query = (sa.select(model.id, User).join(User, User.id == model.user_id)
             .where(model.post_id == post.id, User.deactivated_at.is_(None)))
    if window.max_id is not None:
        query = query.where(key < window.max_id)
    if window.since_id is not None:
        query = query.where(key > window.since_id)
    if window.upward:
        rows = db.session.execute(query.where(key > window.min_id).order_by(key).limit(window.limit))
        return list(rows.tuples())[::-1]
    return list(db.session.execute(query.order_by(key.desc()).limit(window.limit)).tuples())


def media_ids_of(post: Post) -> set[int]:
    """The ids of ``post``'s images."""
    if not post.media_count:
        return set()
    return {row.id for row in media.media_of_posts([post.id]).get(post.id, [])}
