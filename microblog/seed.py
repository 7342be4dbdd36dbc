"""Demo data: realistic users, posts and follows, generated in bulk and deterministically."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from microblog.extensions import db
from microblog.models import Post, User, followers
from microblog.timeutil import utcnow

DEMO_PASSWORD = "microblog-demo"
BATCH = 5_000

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


def _post_body(rng: random.Random) -> str:
    topic = rng.choice(_TOPICS)
    body = f"{rng.choice(_OPENERS)} {topic}. {rng.choice(_CLOSERS)}".strip()
    if rng.random() < 0.05:
        body += f" https://example.com/{topic.replace(' ', '-')}"
    return body


def _batches(rows: Iterator[dict], size: int = BATCH) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(
    users: int,
    posts: int,
    follows: int,
    seed_value: int = 1,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Add ``users`` users, ``posts`` posts spread over the past year and ``follows`` follows each.

    Every demo account has the password ``DEMO_PASSWORD``. Returns how many rows were added.
    """
    rng = random.Random(seed_value)
    report = progress or (lambda stage, n: None)
    now = utcnow()
    password_hash = generate_password_hash(DEMO_PASSWORD)  # once: hashing per user would take minutes
    start_id = (db.session.scalar(sa.select(sa.func.max(User.id))) or 0) + 1
    suffix = rng.randrange(36**3)

    def user_rows() -> Iterator[dict]:
        for i in range(users):
            name = f"{rng.choice(_FIRST)}_{start_id + i}_{suffix:x}"[:32]
            joined = now - timedelta(days=rng.uniform(1, 400))
            yield {
                "username": name,
                "email": f"{name.lower()}@example.com",
                "password_hash": password_hash,
                "about_me": rng.choice(_ABOUT),
                "role": "user",
                "created_at": joined,
                "last_seen": now - timedelta(minutes=rng.uniform(0, 60 * 24 * 30)),
            }

    for batch in _batches(user_rows()):
        db.session.execute(sa.insert(User), batch)
        report("users", len(batch))
    db.session.commit()
    ids = list(db.session.scalars(sa.select(User.id).where(User.id >= start_id).order_by(User.id)))
    if not ids:
        return {"users": 0, "posts": 0, "follows": 0}

    def post_rows() -> Iterator[dict]:
        year = 365 * 24 * 3600
        for _ in range(posts):
            yield {
                "body": _post_body(rng),
                "user_id": rng.choice(ids),
                "timestamp": now - timedelta(seconds=rng.uniform(0, year)),
            }

    for batch in _batches(post_rows()):
        db.session.execute(sa.insert(Post), batch)
        report("posts", len(batch))
    db.session.commit()

    per_user = min(follows, len(ids) - 1)

    def follow_rows() -> Iterator[dict]:
        for follower_id in ids:
            for followed_id in rng.sample(ids, per_user + 1):
                if followed_id != follower_id and per_user:
                    yield {"follower_id": follower_id, "followed_id": followed_id, "created_at": now}

    added_follows = 0
    for batch in _batches(_take_per_user(follow_rows(), per_user)):
        db.session.execute(sa.insert(followers), batch)
        added_follows += len(batch)
        report("follows", len(batch))
    db.session.commit()
    return {"users": len(ids), "posts": posts, "follows": added_follows}


def _take_per_user(rows: Iterator[dict], per_user: int) -> Iterator[dict]:
    """Keep at most ``per_user`` follows for each follower (a sample may include the follower)."""
    counts: dict[int, int] = {}
    for row in rows:
        n = counts.get(row["follower_id"], 0)
        if n < per_user:
            counts[row["follower_id"]] = n + 1
            yield row
