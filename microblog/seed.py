"""Demo data: realistic users, posts and follows, generated in bulk and deterministically."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import ROLE_USER, Announce, Bookmark, Like, Mention, Post, PostTag, User, followers
from microblog.passwords import hash_password
from microblog.seed_conversations import (
    BOOKMARKS_PER_POST,
    LIKES_PER_POST,
    REPOSTS_PER_POST,
    Conversations,
    recount_statements,
    tag_rows_for,
)
from microblog.services.counters import recount_statement
from microblog.timeutil import utcnow

DEMO_PASSWORD = "microblog-demo"
BATCH = 10_000

Row = dict[str, Any]
Progress = Callable[[str, int], None]
InsertTarget = type[Any] | sa.Table

# Times are worked out in whole microseconds (what both databases store), so "after" stays exact.
_US = timedelta(microseconds=1)
POSTS_SPAN = timedelta(days=365)  # posts go back at most a year
ACCOUNT_AGES = (timedelta(days=1), timedelta(days=400))
LAST_SEEN_WITHIN = timedelta(days=30)
LINK_SHARE = 0.05
SQLITE_BULK_CACHE_KIB = 64 * 1024

_FIRST = (
    "ada alan grace linus ken dennis barbara margaret katherine tim guido yukihiro brendan "
    "bjarne james anders rasmus larry sophie wei mei hiro yuki amara kwame chen lucia marco "
    "ines omar fatima noah emma olivia liam mia lucas aisha ivan olga pedro sara"
).split()
_TOPICS = (
    "coffee", "code", "gardening", "cycling", "the weather", "my cat", "a new book", "this album",
    "the city", "tea", "running", "photography", "open source", "databases", "the sunset",
    "bread baking", "chess", "a long walk", "the train ride", "jazz", "the mountains",
    "a quiet morning", "python", "flask", "the ocean",
)
_OPENERS = (
    "Just finished", "Thinking about", "Can't stop talking about", "Today was all about",
    "Finally tried", "Loving", "Spent the afternoon with", "Quick note on", "Still amazed by",
    "Learning more about",
)
_CLOSERS = (
    "What do you think?", "Highly recommended.", "More tomorrow.", "Not bad at all!",
    "Ten out of ten.", "Who else?", "That's it for today.", "Worth it.", "Back to work.", "",
)
_ABOUT = (
    "Writes code, drinks tea.", "Amateur photographer.", "Runner and reader.",
    "Here for the conversations.", "Coffee first.", "Building things on the web.", None,
)
# Every sentence a post can be, built once: picking one costs a single random draw per post.
_SENTENCES = tuple(
    (f"{opener} {topic}. {closer}".strip(), topic)
    for opener in _OPENERS
    for topic in _TOPICS
    for closer in _CLOSERS
)


def seed(
    users: int,
    posts: int,
    follows: int,
    seed_value: int = 1,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Add ``users`` users, ``posts`` posts over the past year and ``follows`` follows per new user,
    and the conversations around the posts (``seed_conversations``: replies, tags, mentions, likes,
    reposts, bookmarks).

    The same ``seed_value`` (and ``now``, which defaults to the current time) gives the same rows,
    apart from the salt of the password hash. Account ids grow with join dates and post ids with
    timestamps, as on a real site; nobody posts or follows before joining. Every demo account has
    the password ``DEMO_PASSWORD``. Everything is added in one transaction (on PostgreSQL, with
    fresh planner statistics). Returns how many rows were added.
    """
    rng = random.Random(seed_value)
    report = progress or _no_progress
    now = now or utcnow()
    conn = db.session.connection()
    start_id = (conn.scalar(sa.select(sa.func.max(User.id))) or 0) + 1
    with _bulk_cache(conn):
        insert_rows(conn, User, _user_rows(rng, users, start_id, now), "users", report)
        joined = conn.execute(
            sa.select(User.id, User.created_at, User.username).where(User.id >= start_id)
            .order_by(User.created_at, User.id)
        ).all()
        ids = [row.id for row in joined]
        ages = [(now - row.created_at) // _US for row in joined]  # oldest account first
        first_post = (conn.scalar(sa.select(sa.func.max(Post.id))) or 0) + 1
        talk = Conversations(rng, first_post, posts, {row.id: row.username for row in joined},
                             tag_rows_for(conn, list(_TOPICS), now), _posts_start(ages, now), now)
        added_posts = insert_rows(conn, Post, _post_rows(rng, posts, ids, ages, now, talk), "posts", report)
        follow_rows = _follow_rows(rng, follows, ids, ages, now)
        added_follows = insert_rows(conn, followers, follow_rows, "follows", report)
        _insert_conversations(conn, talk, random.Random(seed_value + 1), ids)
        # The bulk inserts bypass the services: set the new accounts' and posts' counters from the rows.
        conn.execute(recount_statement().where(User.id >= start_id))
        for statement in recount_statements(first_post):
            conn.execute(statement)
        _advance_sequence(conn, Post)
    _analyze(conn)
    db.session.commit()
    return {"users": len(ids), "posts": added_posts, "follows": added_follows}


def _no_progress(stage: str, count: int) -> None:
    pass


def _posts_start(ages: list[int], now: datetime) -> datetime:
    """When the posts of ``_post_rows`` start (the oldest account's join, at most a year ago)."""
    span = min(POSTS_SPAN // _US, ages[0]) if ages else 0
    return now - timedelta(microseconds=span)


def _insert_conversations(conn: sa.Connection, talk: Conversations, rng: random.Random,
                          ids: list[int]) -> None:
    """The rows about the new posts: their tags and mentions, then likes, reposts and bookmarks."""
    insert_rows(conn, PostTag, talk.tag_rows(), "tags", _no_progress)
    insert_rows(conn, Mention, talk.mention_rows(), "mentions", _no_progress)
    insert_rows(conn, Like, talk.reaction_rows(rng, LIKES_PER_POST, ids, public_only=False), "likes",
                _no_progress)
    insert_rows(conn, Announce, talk.reaction_rows(rng, REPOSTS_PER_POST, ids, public_only=True),
                "reposts", _no_progress)
    insert_rows(conn, Bookmark, talk.reaction_rows(rng, BOOKMARKS_PER_POST, ids, public_only=True),
                "bookmarks", _no_progress)


def _advance_sequence(conn: sa.Connection, model: type[Any]) -> None:
    """On PostgreSQL, move the id sequence past ids that were inserted explicitly."""
    if conn.dialect.name != "postgresql":
        return
    table = model.__table__.name
    conn.exec_driver_sql(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
        f"(SELECT coalesce(max(id), 1) FROM \"{table}\"))"
    )


@contextmanager
def _bulk_cache(conn: sa.Connection) -> Iterator[None]:
    """On SQLite, give this connection a bigger page cache while it loads (about 40% faster at 1M posts)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_BULK_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


def _analyze(conn: sa.Connection) -> None:
    """On PostgreSQL, give the planner the new table sizes now, not whenever autovacuum gets to it."""
    if conn.dialect.name != "postgresql":
        return  # SQLite plans without statistics unless ANALYZE was ever run; leave that choice alone
    quote = conn.dialect.identifier_preparer
    tables = (sa.insert(target).table for target in (User, Post, followers, PostTag, Mention, Like, Announce,
                                                      Bookmark))
    conn.exec_driver_sql(f"ANALYZE {', '.join(quote.format_table(table) for table in tables)}")


def insert_rows(
    conn: sa.Connection, target: InsertTarget, rows: Iterable[Row], stage: str, report: Progress
) -> int:
    """Insert ``rows`` (dicts with the same keys) in batches, reporting each batch; return the count.

    PostgreSQL (psycopg) gets COPY, about twice as fast as executemany; other databases get Core
    executemany, which skips the ORM unit of work. Values must already be in the columns' terms
    (aware UTC datetimes), since COPY bypasses SQLAlchemy's type processing.
    """
    statement = sa.insert(target)
    rows = iter(rows)
    added = 0
    while batch := list(islice(rows, BATCH)):
        if conn.dialect.driver == "psycopg":
            _copy(conn, statement.table, batch)
        else:
            conn.execute(statement, batch)
        added += len(batch)
        report(stage, len(batch))
    return added


def _copy(conn: sa.Connection, table: sa.TableClause, batch: list[Row]) -> None:
    """Stream ``batch`` into ``table`` with PostgreSQL's COPY, inside the session's transaction."""
    quote = conn.dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in batch[0])
    psycopg_connection = conn.connection.driver_connection
    assert psycopg_connection is not None, "the session's connection is open while it seeds"
    with psycopg_connection.cursor() as cursor:
        with cursor.copy(f"COPY {quote.format_table(table)} ({columns}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(tuple(row.values()))


def _user_rows(rng: random.Random, count: int, start_id: int, now: datetime) -> Iterator[Row]:
    """Accounts, the longest-standing first, sharing one password hash (hashing is slow on purpose)."""
    password_hash = hash_password(DEMO_PASSWORD)
    suffix = rng.randrange(36**3)
    youngest, oldest = (age // _US for age in ACCOUNT_AGES)
    last_seen_within = LAST_SEEN_WITHIN // _US
    ages = sorted((rng.randrange(youngest, oldest) for _ in range(count)), reverse=True)
    for i, age in enumerate(ages):
        name = f"{rng.choice(_FIRST)}_{start_id + i}_{suffix:x}"
        joined = now - timedelta(microseconds=age)
        yield {
            "username": name,
            "email": f"{name}@example.com",
            "password_hash": password_hash,
            "about_me": rng.choice(_ABOUT),
            "role": ROLE_USER,
            "created_at": joined,
            "last_seen": now - timedelta(microseconds=int(rng.random() * min(age, last_seen_within))),
            # Demo addresses (example.com) receive no mail: count them as confirmed, and send no
            # notifications to them.
            "confirmed_at": joined,
            "notify_new_follower": False,
        }


def _post_rows(
    rng: random.Random, count: int, ids: list[int], ages: list[int], now: datetime, talk: Conversations
) -> Iterator[Row]:
    """Posts in time order, each by someone who had already joined (early members post more), with
    explicit ids (``talk`` links replies to earlier posts by id)."""
    if not ids:
        return
    start = _posts_start(ages, now)
    span = (now - start) // _US
    joined = [span - age for age in ages]  # microseconds after ``start``, ascending; joined[0] <= 0
    for index, fraction in enumerate(_ascending_uniforms(rng, count)):
        offset = int(fraction * span)
        members = bisect_right(joined, offset)
        linked = rng.random() < LINK_SHARE
        sentence, topic = _SENTENCES[int(rng.random() * len(_SENTENCES))]
        body = f"{sentence} https://example.com/{topic.replace(' ', '-')}" if linked else sentence
        author = ids[int(rng.random() * members)]
        yield {
            "id": talk.first_id + index,
            "user_id": author,
            "timestamp": start + timedelta(microseconds=offset),
            **talk.shape(index, author, members, offset, body, topic, ids),
        }


def _follow_rows(
    rng: random.Random, per_user: int, ids: list[int], ages: list[int], now: datetime
) -> Iterator[Row]:
    """``per_user`` distinct other accounts for each account, followed after both had joined."""
    others = len(ids) - 1
    per_user = min(per_user, others)
    if per_user <= 0:
        return
    for i, follower_id in enumerate(ids):
        for j in rng.sample(range(others), per_user):
            j += j >= i  # skip over the follower: never a self-follow
            yield {
                "follower_id": follower_id,
                "followed_id": ids[j],
                "created_at": now - timedelta(microseconds=int(rng.random() * min(ages[i], ages[j]))),
            }


def _ascending_uniforms(rng: random.Random, count: int) -> Iterator[float]:
    """``count`` uniform draws from [0, 1), smallest first, without holding them all (no sort).

    The largest of k uniforms is distributed as U ** (1 / k); stepping down from the top gives
    the draws largest first, and mirroring them (x -> 1 - x) gives them smallest first.
    """
    top = 1.0
    for k in range(count, 0, -1):
        top *= (1.0 - rng.random()) ** (1.0 / k)
        yield 1.0 - top
