"""Hashtags looked up by name or by the start of their name, and how much each was used day by day:
what Mastodon's search (hashtags), its tag page and its trends (a Tag's ``history``) show.

Only public posts count, as for the trending list (services.tags): a tag used only in followers-only
posts is found by no one, so its name does not leak, and its counts say nothing of private posts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Post, PostTag, Tag
from microblog.post_text import normalize_tag
from microblog.services import tags
from microblog.services.tags import valid_tag_name
from microblog.timeutil import utcnow

# A Tag's history: this many days, today first (Mastodon's week).
HISTORY_DAYS = 7
# What a tag's name is made of (post_text.TAG_RE): the start of one is too.
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class Day:
    """One day of a tag's use: midnight UTC of the day, the public posts that carried it, their authors."""

    day: datetime
    uses: int
    accounts: int


def _used_in_public() -> sa.Exists:
    """The tag (of the outer query) carried by at least one public post."""
    return (sa.select(PostTag.post_id).join(Post, Post.id == PostTag.post_id)
            .where(PostTag.tag_id == Tag.id, Post.visible_to(None, public=True)).exists())


def find_tag(name: str) -> Tag | None:
    """The tag named ``name`` (any case, without the ``#``), or None: no such tag, not a tag name, or
    used in no public post."""
    normalized = valid_tag_name(name)
    if normalized is None:
        return None
    return db.session.scalar(sa.select(Tag).where(Tag.name == normalized, _used_in_public()))


def tags_starting_with(text: str, limit: int, offset: int = 0) -> list[Tag]:
    """Tags whose name starts with ``text`` (a leading ``#`` and any case ignored), the exact name
    first, then shortest first: what someone typing a hashtag is most likely looking for."""
    prefix = normalize_tag(text.strip().lstrip("#"))
    if _WORD_RE.fullmatch(prefix) is None:
        return []
    query = (sa.select(Tag).where(Tag.name.startswith(prefix, autoescape=True), _used_in_public())
             .order_by((Tag.name != prefix), sa.func.length(Tag.name), Tag.name)
             .offset(max(offset, 0)).limit(limit))
    return list(db.session.scalars(query))


def histories(tag_ids: Sequence[int], days: int = HISTORY_DAYS) -> dict[int, list[Day]]:
    """Each tag's last ``days`` days (today first, in UTC), zeros included, from one read of post_tag's
    index: the public posts that carried it each day, and how many people wrote them."""
    today = utcnow().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first = today - timedelta(days=days - 1)
    uses: dict[tuple[int, datetime], int] = defaultdict(int)
    authors: dict[tuple[int, datetime], set[int]] = defaultdict(set)
    if tag_ids:
        rows = db.session.execute(
            sa.select(PostTag.tag_id, PostTag.timestamp, PostTag.user_id)
            .join(Post, Post.id == PostTag.post_id)
            .where(PostTag.tag_id.in_(tag_ids), PostTag.timestamp >= first,
                   Post.visible_to(None, public=True)))
        for tag_id, timestamp, user_id in rows:
            day = timestamp.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            uses[(tag_id, day)] += 1
            authors[(tag_id, day)].add(user_id)
    return {
        tag_id: [Day(day, uses[(tag_id, day)], len(authors[(tag_id, day)]))
                 for day in (today - timedelta(days=back) for back in range(days))]
        for tag_id in tag_ids
    }


def trending_tags(limit: int, offset: int = 0) -> list[Tag]:
    """The trending list (services.tags.trending: most people in public posts of the last day), as
    tags, from ``offset`` on."""
    names = [entry.name for entry in tags.trending(offset + limit)][offset:]
    if not names:
        return []
    rows = {tag.name: tag for tag in db.session.scalars(sa.select(Tag).where(Tag.name.in_(names)))}
    return [rows[name] for name in names if name in rows]
