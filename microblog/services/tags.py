"""Hashtags and mentions: filing a post under its tags, noting whom it mentions (and telling them),
the tag pages, the Atom feeds' posts and the trending list."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from microblog.extensions import db
from microblog.models import TAG_MAX, Mention, NotificationKind, Post, PostTag, Tag, User
from microblog.paging import Page, Position, keyset_paginate
from microblog.post_text import TAG_RE, mentioned_names, normalize_tag, tag_names
from microblog.services import notifications
from microblog.timeutil import utcnow

# How far back the trending list looks, and how long one answer is reused by a process.
TRENDING_WINDOW = timedelta(hours=24)
TRENDING_CACHE_SECONDS = 60
# Posts in an Atom feed.
FEED_ENTRIES = 20


@dataclass(frozen=True)
class TrendingTag:
    name: str
    people: int


def valid_tag_name(name: str) -> str | None:
    """``name`` (as in ``/tags/<name>``, without the ``#``) normalized, or None when it is not a tag."""
    if not name or len(name) > TAG_MAX:
        return None
    match = TAG_RE.fullmatch("#" + name)
    if match is None or not any(ch.isalpha() for ch in name):
        return None
    normalized = normalize_tag(name)
    return normalized if 0 < len(normalized) <= TAG_MAX else None


# -- filing -----------------------------------------------------------------------------------------
def _insert():
    return postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _tag_ids(names: Sequence[str]) -> dict[str, int]:
    """The ids of the tags named ``names``, creating those that do not exist yet.

    ``INSERT ... ON CONFLICT DO NOTHING``: two posts bringing the same new tag at once both succeed,
    and both read back the one row the unique name allowed.
    """
    if not names:
        return {}
    found = dict(db.session.execute(sa.select(Tag.name, Tag.id).where(Tag.name.in_(names))).tuples().all())
    # Sorted: two posts bringing the same new tags in another order take the name locks in one order
    # (PostgreSQL would otherwise let them deadlock).
    missing = sorted(name for name in names if name not in found)
    if missing:
        now = utcnow()
        rows = [{"name": name, "created_at": now} for name in missing]
        db.session.execute(_insert()(Tag).values(rows).on_conflict_do_nothing())
        found.update(db.session.execute(
            sa.select(Tag.name, Tag.id).where(Tag.name.in_(missing))
        ).tuples().all())
    return found


def _mentioned_users(post: Post) -> list[User]:
    """The existing accounts ``post`` mentions (any case), its author left out: local ones by name, and
    other servers' stored accounts by ``name@host`` (``name@`` this site's host is the local name; an
    account not stored here stays plain text)."""
    own = "@" + urlsplit(current_app.config["SITE_URL"]).netloc.lower()
    names = [name.removesuffix(own) for name in mentioned_names(post.body, remote=True)]
    if not names:
        return []
    people = db.session.scalars(sa.select(User).where(sa.func.lower(User.username).in_(names))).all()
    return [person for person in people if person.id != post.user_id]


def _notify(post: Post, people: Sequence[User]) -> list[User]:
    """Add a MENTION notification for each of ``people`` who did not block or mute the author (one
    query for them all; ``add_notification`` would ask once per person)."""
    people = [person for person in people if person.domain is None]  # remote ones hear of it by delivery
    silenced = notifications.silenced_among([person.id for person in people], post.user_id)
    told = [person for person in people if person.id not in silenced]
    for person in told:
        notifications.add_notification(person.id, NotificationKind.MENTION, actor_id=post.user_id,
                                       post_id=post.id, silence_checked=True)
    return told


def file_post(post: Post) -> list[User]:
    """File a new post under its tags and note whom it mentions; notify those people.

    Part of the publishing transaction (the caller commits). Returns the people told of the mention
    (not the author, nor anyone who blocked or muted them).
    """
    return file_post_under(post, tag_names(post.body), _mentioned_users(post))


def file_post_under(post: Post, names: Sequence[str], people: Sequence[User]) -> list[User]:
    """``file_post`` with the tags (normalized names) and the mentioned accounts given, not read from
    the text: a remote post names them in its ``tag`` list. Returns the people told."""
    if post.id is None:
        db.session.flush()
    ids = _tag_ids(list(dict.fromkeys(names)))
    if ids:
        db.session.execute(sa.insert(PostTag), [
            {"post_id": post.id, "tag_id": tag_id, "timestamp": post.timestamp, "user_id": post.user_id}
            for tag_id in ids.values()
        ])
    people = [person for person in dict.fromkeys(people) if person.id != post.user_id]
    if not people:
        return []
    db.session.execute(sa.insert(Mention), [{"post_id": post.id, "user_id": person.id} for person in people])
    return _notify(post, people)


def refile_post(post: Post) -> list[User]:
    """Bring an edited post's tags and mentions in line with its new text; notify only the people it
    mentions for the first time. Part of the edit's transaction. Returns the people told."""
    return refile_post_under(post, tag_names(post.body), _mentioned_users(post))


def refile_post_under(post: Post, names: Sequence[str], people: Sequence[User]) -> list[User]:
    """``refile_post`` with the tags and the mentioned accounts given (a remote post's ``tag`` list)."""
    people = [person for person in dict.fromkeys(people) if person.id != post.user_id]
    wanted = _tag_ids(list(dict.fromkeys(names)))
    filed = set(db.session.scalars(sa.select(PostTag.tag_id).where(PostTag.post_id == post.id)))
    gone = filed - set(wanted.values())
    if gone:
        db.session.execute(sa.delete(PostTag).where(PostTag.post_id == post.id, PostTag.tag_id.in_(gone)))
    added = [tag_id for tag_id in wanted.values() if tag_id not in filed]
    if added:
        db.session.execute(sa.insert(PostTag), [
            {"post_id": post.id, "tag_id": tag_id, "timestamp": post.timestamp, "user_id": post.user_id}
            for tag_id in added
        ])
    before = set(db.session.scalars(sa.select(Mention.user_id).where(Mention.post_id == post.id)))
    now = {person.id for person in people}
    if before - now:
        dropped = Mention.user_id.in_(before - now)
        db.session.execute(sa.delete(Mention).where(Mention.post_id == post.id, dropped))
    new = [person for person in people if person.id not in before]
    if not new:
        return []
    db.session.execute(sa.insert(Mention), [{"post_id": post.id, "user_id": person.id} for person in new])
    return _notify(post, new)


# -- reading ----------------------------------------------------------------------------------------
def tag_page_select(tag_name: str, viewer: User | None) -> sa.Select:
    """The public posts filed under ``tag_name`` (normalized) that ``viewer`` may see in a list (the
    people they blocked or muted left out), newest first along post_tag's (tag_id, timestamp, post_id)
    index. Rows are (Post, PostTag.timestamp)."""
    tag_id = sa.select(Tag.id).where(Tag.name == tag_name).scalar_subquery()
    return (
        sa.select(Post, PostTag.timestamp)
        .join(PostTag, PostTag.post_id == Post.id)
        .where(PostTag.tag_id == tag_id, Post.visible_to(viewer, listing=True, public=True))
        .order_by(PostTag.timestamp.desc(), PostTag.post_id.desc())
    )


def tag_page(query: sa.Select, per_page: int, position: Position | None = None, page: int = 1) -> Page:
    """One page of ``tag_page_select``, by keyset on post_tag's index: a deep page costs what page 1 does.

    :raises paging.PageNotFound: past the end, or a cursor that names no row.
    """
    return keyset_paginate(query, per_page, (PostTag.timestamp, PostTag.post_id),
                           key=lambda row: (row[1], row[0].id), position=position, page=page)


def tag_feed_posts(tag_name: str) -> list[Post]:
    """The newest public posts of a tag, for its Atom feed (as a signed-out reader sees them)."""
    rows = db.session.execute(tag_page_select(tag_name, None).limit(FEED_ENTRIES)).unique().all()
    return [row[0] for row in rows]


def user_feed_posts(user: User) -> list[Post]:
    """The newest public posts of ``user``, for their Atom feed."""
    query = user.posts_select(None).where(Post.public_only()).limit(FEED_ENTRIES)
    return list(db.session.scalars(query).unique().all())


def _trending_select(limit: int) -> sa.Select:
    people = sa.func.count(sa.distinct(PostTag.user_id)).label("people")
    return (
        sa.select(Tag.name, people)
        .join(PostTag, PostTag.tag_id == Tag.id)
        .join(Post, Post.id == PostTag.post_id)
        .where(PostTag.timestamp >= utcnow() - TRENDING_WINDOW, Post.visible_to(None, public=True))
        .group_by(Tag.id, Tag.name)
        .order_by(people.desc(), Tag.name)
        .limit(limit)
    )


def trending(limit: int = 10) -> list[TrendingTag]:
    """The tags used by the most distinct people in public posts of the last 24 hours, most first.

    One grouped read of post_tag's timestamp index; each process keeps the answer for
    ``TRENDING_CACHE_SECONDS`` (config), so Explore asks the database at most once a minute.
    """
    limit = max(1, min(limit, 100))
    ttl = current_app.config.get("TRENDING_CACHE_SECONDS", TRENDING_CACHE_SECONDS)
    cache = current_app.extensions.setdefault("trending_tags", {})
    hit = cache.get(limit)
    if hit is not None and time.monotonic() - hit[0] < ttl:
        return hit[1]
    result = [TrendingTag(name, people) for name, people in db.session.execute(_trending_select(limit))]
    cache[limit] = (time.monotonic(), result)
    return result
