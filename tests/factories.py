"""Test data builders with sequence-based names. Call them inside an app context."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from werkzeug.security import generate_password_hash

from microblog.extensions import db
from microblog.models import Post, User, followers
from microblog.timeutil import utcnow

DEFAULT_PASSWORD = "correct-horse"
_sequence = itertools.count(1)
_hashes: dict[str, str] = {}


def _hash(password: str) -> str:
    # Hashing is slow on purpose; tests reuse one hash per password.
    if password not in _hashes:
        _hashes[password] = generate_password_hash(password)
    return _hashes[password]


def make_user(username: str | None = None, password: str = DEFAULT_PASSWORD, **overrides) -> User:
    n = next(_sequence)
    username = username or f"user{n}"
    user = User(
        username=username,
        email=overrides.pop("email", f"{username.lower()}@example.com"),
        password_hash=_hash(password),
        **overrides,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_post(author: User, body: str | None = None, timestamp: datetime | None = None) -> Post:
    n = next(_sequence)
    post = Post(body=body or f"post number {n}", author=author, timestamp=timestamp or utcnow())
    db.session.add(post)
    db.session.commit()
    return post


def make_posts(author: User, count: int, start: datetime | None = None) -> list[Post]:
    """``count`` posts one minute apart, the last one the newest."""
    start = start or utcnow() - timedelta(minutes=count)
    posts = [Post(body=f"{author.username} says {i}", author=author, timestamp=start + timedelta(minutes=i))
             for i in range(count)]
    db.session.add_all(posts)
    db.session.commit()
    return posts


def make_follow(follower: User, followed: User) -> None:
    db.session.execute(followers.insert().values(follower_id=follower.id, followed_id=followed.id))
    db.session.commit()
