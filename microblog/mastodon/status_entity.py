"""Mastodon's Status entity and the entities inside it (MediaAttachment, Mention, Tag), built for a whole
page of posts at once (docs: entities/Status).

A page of statuses costs a fixed number of statements whatever its length: the viewer's likes,
reposts and bookmarks with the posts' mentions and tags (one, a UNION ALL), the images of the posts
that have any (one), and the authors' last-post days (one). Everything else is on the rows already loaded.

Ids: a post's status id is the post's id. A repost is a status of its own in Mastodon (the "reblog"
wrapping the original); here a repost is an ``announce`` row, whose ids would collide with post ids,
so its status id is ``REBLOG_ID_OFFSET`` + the announce id. :func:`parse_status_id` tells them apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

import sqlalchemy as sa

from microblog.extensions import db
from microblog.external_urls import external_media_url, external_url
from microblog.mastodon import entities
from microblog.mastodon.listing import BIGINT_MAX, parse_id
from microblog.models import ID_MAX, MediaStatus, Mention, Post, PostTag, Tag, User
from microblog.post_html import text_html
from microblog.post_text import normalize_tag
from microblog.services import media, reactions

# Status ids of reposts: above every post id this site will reach, below the 2**63 a client may parse.
REBLOG_ID_OFFSET = 10**15


@dataclass(frozen=True)
class Reblog:
    """A repost as a timeline entry: ``account`` reposted ``post`` at ``created_at`` (announce ``id``)."""

    id: int
    created_at: datetime
    account: User
    post: Post


def status_id(entry: Post | Reblog) -> str:
    """The status id of a post or a repost."""
    return str(entry.id + REBLOG_ID_OFFSET if isinstance(entry, Reblog) else entry.id)


def parse_status_id(raw: Any) -> tuple[str, int] | None:
    """``("post", id)`` or ``("reblog", announce id)`` for a status id a client sent, else None."""
    value = parse_id(raw, BIGINT_MAX)
    if value is None:
        return None
    if value > REBLOG_ID_OFFSET:
        value -= REBLOG_ID_OFFSET
        return ("reblog", value) if value <= ID_MAX else None
    return ("post", value) if value <= ID_MAX else None


def content_html(post: Post, mentioned: Iterable[str] = ()) -> str:
    """The post's text as Mastodon's HTML (:func:`text_html`); a remote post's own HTML, sanitized when
    it was stored (federation/sanitize.py)."""
    remote = getattr(post, "content_html", None)
    if remote is not None:
        return remote
    return text_html(post.body, mentioned)


def media_attachment(row: Any) -> dict[str, Any]:
    """The MediaAttachment entity of a ``media`` row (ORM object or read-only row). Until the image is
    processed its ``url`` is null (``GET /api/v1/media/:id`` answers 206 meanwhile); a hidden or failed
    one shows no file."""
    ready = row.status == MediaStatus.READY and row.hidden_at is None
    meta: dict[str, Any] = {}
    if ready and row.width and row.height:
        meta["original"] = _size(row.width, row.height)
        if row.thumbnail_width and row.thumbnail_height:
            meta["small"] = _size(row.thumbnail_width, row.thumbnail_height)
    return {
        "id": str(row.id),
        "type": ("gifv" if row.animated else "image") if ready else "unknown",
        "url": external_media_url(row.file_key) if ready else None,
        "preview_url": external_media_url(row.thumbnail_key) if ready else None,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": row.description,
        "blurhash": row.blurhash if ready else None,
    }


def _size(width: int, height: int) -> dict[str, Any]:
    return {"width": width, "height": height, "size": f"{width}x{height}", "aspect": round(width / height, 6)}


def tag_entity(name: str) -> dict[str, Any]:
    """A Tag as a status names it: its name and its page."""
    return {"name": name, "url": external_url("tags.tag", name=normalize_tag(name))}


def mention_entity(user: User | Mentioned) -> dict[str, Any]:
    url = external_url("main.user", username=user.username)
    return {"id": str(user.id), "username": user.username, "url": url, "acct": user.username}


class Mentioned(NamedTuple):
    """An account a status mentions, as the page's reads give it (the Mention entity needs no more)."""

    id: int
    username: str


@dataclass
class _Batch:
    """What a page of statuses reads once for all its posts."""

    state: dict[int, set[str]]
    images: dict[int, list[Any]]
    mentions: dict[int, list[Mentioned]]
    tags: dict[int, list[str]]
    accounts: dict[int, dict[str, Any]]


@cache
def _page_statement(with_viewer: bool) -> sa.CompoundSelect:
    """The page's mentions, tags, (for a viewer) likes, reposts and bookmarks, and the day of each
    author's newest post, in one statement: rows of (kind, post id or author's id, mentioned account's
    id, name or time as text), by name (mentions and tags in order)."""
    post_ids: sa.BindParameter[list[int]] = sa.bindparam("post_ids", expanding=True)
    latest = entities.last_status_days_select(sa.bindparam("author_ids", expanding=True)).subquery()
    parts: list[sa.Select] = [
        sa.select(sa.literal_column("'mention'").label("kind"), Mention.post_id.label("post_id"),
                  User.id.label("user_id"), User.username.label("name"))
        .join(User, User.id == Mention.user_id).where(Mention.post_id.in_(post_ids)),
        sa.select(sa.literal_column("'tag'"), PostTag.post_id, sa.null(), Tag.name)
        .join(Tag, Tag.id == PostTag.tag_id).where(PostTag.post_id.in_(post_ids)),
    ]
    if with_viewer:
        parts += [select.add_columns(sa.null(), sa.null())
                  for select in reactions.viewer_state_selects(sa.bindparam("user_id"), post_ids)]
    # The time as text, as the union's name column is; its first ten characters are the day.
    parts.append(sa.select(sa.literal_column("'last'"), latest.c.user_id, sa.null(),
                           sa.cast(latest.c[1], sa.String)))
    union = sa.union_all(*parts)
    return union.order_by(union.selected_columns.name)


def _read(viewer: User | None, posts: Sequence[Post], sharers: Sequence[User]) -> _Batch:
    ids = sorted({post.id for post in posts})
    state: dict[int, set[str]] = defaultdict(set)
    mentions: dict[int, list[Mentioned]] = defaultdict(list)
    tags: dict[int, list[str]] = defaultdict(list)
    authors = {post.author.id: post.author for post in posts}
    authors.update((user.id, user) for user in sharers)
    days: dict[int, str] = {}
    if ids:
        params: dict[str, Any] = {"post_ids": ids, "author_ids": sorted(authors),
                                  "user_id": viewer.id if viewer is not None else None}
        for kind, post_id, user_id, name in db.session.execute(_page_statement(viewer is not None), params):
            if kind == "mention":
                mentions[post_id].append(Mentioned(user_id, name))
            elif kind == "tag":
                tags[post_id].append(name)
            elif kind == "last":
                if name:
                    days[post_id] = name[:10]
            else:
                state[post_id].add(kind)
    return _Batch(
        state=state, images=media.media_of_posts([post.id for post in posts if post.media_count]),
        mentions=mentions, tags=tags, accounts=entities.accounts(authors.values(), days if ids else None),
    )


def _status(viewer: User | None, post: Post, batch: _Batch) -> dict[str, Any]:
    state = batch.state.get(post.id, set())
    url = external_url("main.post", post_id=post.id)
    mentioned = batch.mentions.get(post.id, [])
    entity: dict[str, Any] = {
        "id": str(post.id),
        "uri": url,
        "url": url,
        "created_at": entities.iso(post.timestamp),
        "edited_at": entities.iso(post.edited_at),
        "account": batch.accounts[post.user_id],
        "content": content_html(post, [user.username for user in mentioned]),
        "visibility": entities.PRIVACY.get(post.visibility, "public"),
        "sensitive": bool(post.summary),
        "spoiler_text": post.summary or "",
        "media_attachments": [media_attachment(row) for row in batch.images.get(post.id, [])],
        "application": None,
        "mentions": [mention_entity(user) for user in mentioned],
        "tags": [tag_entity(name) for name in batch.tags.get(post.id, [])],
        "emojis": [],
        "reblogs_count": post.repost_count,
        "favourites_count": post.like_count,
        "replies_count": post.reply_count,
        "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
        "in_reply_to_account_id": str(post.in_reply_to_user_id) if post.in_reply_to_user_id else None,
        "reblog": None,
        "poll": None,
        "card": None,
        "language": post.language,
        "filtered": [],
    }
    if viewer is not None:
        entity.update({
            "favourited": reactions.LIKE in state,
            "reblogged": reactions.REPOST in state,
            "muted": False,
            "bookmarked": reactions.BOOKMARK in state,
        })
        if post.user_id == viewer.id:
            entity["pinned"] = False
    return entity


def _reblog(viewer: User | None, entry: Reblog, batch: _Batch) -> dict[str, Any]:
    """The wrapper status of a repost: Mastodon's shape, the original inside ``reblog``."""
    inner = _status(viewer, entry.post, batch)
    wrapper = dict(inner)
    wrapper.update({
        "id": status_id(entry),
        "uri": inner["uri"] + f"#repost-{entry.id}",
        "url": None,
        "created_at": entities.iso(entry.created_at),
        "edited_at": None,
        "account": batch.accounts[entry.account.id],
        "content": "",
        "spoiler_text": "",
        "sensitive": False,
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "reblogs_count": 0,
        "favourites_count": 0,
        "replies_count": 0,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "language": None,
        "reblog": inner,
    })
    wrapper.pop("pinned", None)
    return wrapper


def statuses(viewer: User | None, entries: Sequence[Post | Reblog]) -> list[dict[str, Any]]:
    """The Status entities of a page of posts and reposts, in order, as ``viewer`` sees them (their
    likes, reposts and bookmarks; None for a signed-out request, which gets no such keys)."""
    posts = [entry.post if isinstance(entry, Reblog) else entry for entry in entries]
    sharers = [entry.account for entry in entries if isinstance(entry, Reblog)]
    batch = _read(viewer, posts, sharers)
    return [_reblog(viewer, entry, batch) if isinstance(entry, Reblog) else _status(viewer, entry, batch)
            for entry in entries]


def status(viewer: User | None, entry: Post | Reblog) -> dict[str, Any]:
    """One Status entity."""
    return statuses(viewer, [entry])[0]
