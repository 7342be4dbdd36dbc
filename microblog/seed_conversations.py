"""The conversations of the demo data: replies, visibility, content warnings, hashtags, mentions,
likes, reposts and bookmarks, in proportions like those of a small Mastodon server.

``seed._post_rows`` asks ``Conversations.shape`` what each new post is (a reply? to whom? with a tag,
a mention, a warning?) while it generates the posts, and keeps what the later rows need about every
post in compact arrays (a million posts cost about 20 MB here). After the posts are in, the rows
of the other tables are generated from those arrays and inserted, and the posts' counters are set
from the rows, as ``services.counters.recount`` does for the accounts.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from microblog.models import Announce, Bookmark, Like, Mention, Post, PostTag, Tag, Visibility

Row = dict[str, Any]
_US = timedelta(microseconds=1)

REPLY_SHARE = 0.25  # a quarter of the posts answer another post
REPLY_DISTANCE = 200  # ... a recent one: on average this many posts earlier
LONG_THREAD_REPLIES = 200  # one post in the middle of the history gets a thread this long
LONG_THREAD_STRIDE = 7  # its replies are every 7th post after it
TAG_SHARE = 0.15  # posts that carry their topic as a hashtag
MENTION_SHARE = 0.05  # posts that mention someone (replies mention the person they answer)
UNLISTED_SHARE, FOLLOWERS_SHARE = 0.04, 0.03
WARNING_SHARE = 0.02
LIKES_PER_POST = 1.0  # on average; most posts get none, a few get many
REPOSTS_PER_POST = 0.05
BOOKMARKS_PER_POST = 0.02
REACTION_DELAY = timedelta(days=2)  # reactions come within two days of the post
WARNINGS = ("Spoilers", "Long thread", "Food", "Politics", "Eye contact")


class Conversations:
    """What the posts of one ``seed()`` call are, decided as they are generated, and the rows that follow."""

    def __init__(self, rng: random.Random, first_id: int, count: int, usernames: dict[int, str],
                 tag_ids: dict[str, int], start: datetime, now: datetime) -> None:
        self.rng = rng
        self.first_id = first_id
        self.usernames = usernames
        self.tag_ids = tag_ids
        self.start, self.now = start, now
        self.long_thread = count // 2 if count > LONG_THREAD_REPLIES * LONG_THREAD_STRIDE * 2 else None
        self.authors = array("q")
        self.members = array("q")  # how many accounts had joined when the post was written
        self.offsets = array("q")  # microseconds after ``start``
        self.public = array("b")  # may be reposted (not followers-only)
        self.post_tags: list[tuple[int, int, int, int]] = []  # post_id, tag_id, offset, user_id
        self.mentions: list[tuple[int, int]] = []

    def shape(self, index: int, author: int, members: int, offset: int, body: str, topic: str,
              ids: list[int]) -> Row:
        """The columns of post number ``index`` (of this call) beyond its body, author and time."""
        rng = self.rng
        post_id = self.first_id + index
        parent = None
        if self.long_thread is not None and index > self.long_thread and \
                (index - self.long_thread) % LONG_THREAD_STRIDE == 0 and \
                (index - self.long_thread) // LONG_THREAD_STRIDE <= LONG_THREAD_REPLIES:
            parent = self.long_thread
        elif index and rng.random() < REPLY_SHARE:
            parent = max(0, index - 1 - int(rng.expovariate(1 / REPLY_DISTANCE)))
        visibility = Visibility.PUBLIC.value
        draw = rng.random()
        if draw < FOLLOWERS_SHARE:
            visibility = Visibility.FOLLOWERS.value
        elif draw < FOLLOWERS_SHARE + UNLISTED_SHARE:
            visibility = Visibility.UNLISTED.value
        mentioned = None
        if parent is not None and self.authors[parent] != author:
            mentioned = self.authors[parent]
        elif rng.random() < MENTION_SHARE and members > 1:
            mentioned = ids[int(rng.random() * members)]
            mentioned = None if mentioned == author else mentioned
        if mentioned is not None:
            body = f"@{self.usernames[mentioned]} {body}"
            self.mentions.append((post_id, mentioned))
        if rng.random() < TAG_SHARE:
            tag = topic.replace(" ", "")
            body = f"{body} #{tag}"
            self.post_tags.append((post_id, self.tag_ids[tag], offset, author))
        self.authors.append(author)
        self.members.append(members)
        self.offsets.append(offset)
        self.public.append(visibility != Visibility.FOLLOWERS.value)
        return {
            "body": body,
            "in_reply_to_id": None if parent is None else self.first_id + parent,
            "in_reply_to_user_id": None if parent is None else self.authors[parent],
            "is_reply": parent is not None,
            "visibility": visibility,
            "summary": rng.choice(WARNINGS) if rng.random() < WARNING_SHARE else None,
        }

    # -- the rows that follow from the posts --------------------------------------------------------
    def _when(self, offset: int) -> datetime:
        return self.start + timedelta(microseconds=offset)

    def tag_rows(self) -> Iterator[Row]:
        for post_id, tag_id, offset, user_id in self.post_tags:
            yield {"post_id": post_id, "tag_id": tag_id, "timestamp": self._when(offset), "user_id": user_id}

    def mention_rows(self) -> Iterator[Row]:
        for post_id, user_id in self.mentions:
            yield {"post_id": post_id, "user_id": user_id}

    def reaction_rows(self, rng: random.Random, per_post: float, ids: list[int],
                      public_only: bool) -> Iterator[Row]:
        """About ``per_post`` reactions per post (a geometric number of them: most get none), each by
        a distinct person who had joined, some time after the post and before now."""
        keep = per_post / (1 + per_post)  # the geometric distribution with this mean
        window = REACTION_DELAY // _US
        end = (self.now - self.start) // _US
        for index in range(len(self.authors)):
            if public_only and not self.public[index]:
                continue
            count = 0
            while rng.random() < keep:
                count += 1
            members = self.members[index]
            if not count or members < 2:
                continue
            offset = self.offsets[index]
            people = {ids[int(rng.random() * members)] for _ in range(count)}
            for person in sorted(people):
                moment = min(offset + int(rng.random() * window), end)
                yield {"user_id": person, "post_id": self.first_id + index, "created_at": self._when(moment)}


def tag_rows_for(conn: sa.Connection, topics: list[str], now: datetime) -> dict[str, int]:
    """The ids of the topic tags, created if missing."""
    names = sorted({topic.replace(" ", "") for topic in topics})
    have = dict(conn.execute(sa.select(Tag.name, Tag.id).where(Tag.name.in_(names))).tuples().all())
    missing = [name for name in names if name not in have]
    if missing:
        conn.execute(sa.insert(Tag), [{"name": name, "created_at": now} for name in missing])
        have = dict(conn.execute(sa.select(Tag.name, Tag.id).where(Tag.name.in_(names))).tuples().all())
    return have


def recount_statements(first_id: int) -> list[sa.Update]:
    """The UPDATEs that set the counts of posts from ``first_id`` on from the rows."""
    post = Post.__table__
    replies = post.alias("reply")

    def counted(table: sa.TableClause, column: sa.ColumnElement) -> sa.ScalarSelect:
        return sa.select(sa.func.count()).select_from(table).where(column == post.c.id).scalar_subquery()

    reacted = sa.union(*(sa.select(t.post_id) for t in (Like, Announce))).subquery()
    return [
        sa.update(post).where(post.c.id.in_(sa.select(replies.c.in_reply_to_id)
                                            .where(replies.c.in_reply_to_id >= first_id)))
        .values(reply_count=counted(replies, replies.c.in_reply_to_id)),
        sa.update(post).where(post.c.id >= first_id, post.c.id.in_(sa.select(reacted.c.post_id)))
        .values(like_count=counted(Like.__table__, Like.__table__.c.post_id),
                repost_count=counted(Announce.__table__, Announce.__table__.c.post_id)),
    ]


TABLES = (Tag, PostTag, Mention, Like, Announce, Bookmark)
