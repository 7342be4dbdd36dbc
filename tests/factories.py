"""Test data builders with sequence-based names. Call them inside an app context.

They keep the accounts' counters exact, as the services do. The API credential helpers at the end
(``basic``, ``token_for``) go through a test client instead.
"""

from __future__ import annotations

import base64
import itertools
from datetime import datetime, timedelta

from microblog import passwords
from microblog.extensions import db
from microblog.models import Block, Message, Post, User, followers
from microblog.services import counters
from microblog.timeutil import utcnow

DEFAULT_PASSWORD = "correct-horse"
_sequence = itertools.count(1)
_hashes: dict[tuple[int, str], str] = {}


def _hash(password: str) -> str:
    # Hashing is slow on purpose; tests reuse one hash per password (and per hasher: see conftest.py).
    key = (id(passwords._hasher), password)
    if key not in _hashes:
        _hashes[key] = passwords.hash_password(password)
    return _hashes[key]


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
    counters.posts_added(author.id)
    db.session.commit()
    return post


def make_posts(author: User, count: int, start: datetime | None = None) -> list[Post]:
    """``count`` posts one minute apart, the last one the newest."""
    start = start or utcnow() - timedelta(minutes=count)
    posts = [Post(body=f"{author.username} says {i}", author=author, timestamp=start + timedelta(minutes=i))
             for i in range(count)]
    db.session.add_all(posts)
    counters.posts_added(author.id, count)
    db.session.commit()
    return posts


def make_follow(follower: User, followed: User) -> None:
    db.session.execute(followers.insert().values(follower_id=follower.id, followed_id=followed.id))
    counters.follow_added(follower.id, followed.id)
    db.session.commit()


def make_message(sender: User, recipient: User, body: str | None = None) -> Message:
    """A message stored directly (no notification or email: use the messages service for those)."""
    n = next(_sequence)
    message = Message(sender_id=sender.id, recipient_id=recipient.id, body=body or f"message number {n}")
    db.session.add(message)
    db.session.commit()
    return message


def make_block(blocker: User, blocked: User) -> None:
    db.session.add(Block(blocker_id=blocker.id, blocked_id=blocked.id))
    db.session.commit()


# -- API credentials -------------------------------------------------------------------------------
def find_user(username: str) -> User:
    """The account with this exact username (None when there is none)."""
    return db.session.scalar(db.select(User).where(User.username == username))


def signed_in_client(app, username: str, password: str = DEFAULT_PASSWORD):
    """A test client of ``app`` signed in as ``username`` through the real login form."""
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 302, f"{username} could not sign in"
    return client


def basic(username: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
    """HTTP Basic headers, as ``POST /api/tokens`` wants them."""
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def token_for(client, username: str = "alice") -> dict[str, str]:
    """Bearer headers for ``username``, with a token the API gave ``client``."""
    response = client.post("/api/tokens", headers=basic(username))
    assert response.status_code == 201, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}
