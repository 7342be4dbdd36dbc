"""Posting once per Idempotency-Key (``POST /api/v1/statuses``): a client that sends its post again
with the same key within KEY_LIFETIME, a retry after a timeout, gets the post it made the first time.

The key is committed with the post, in its transaction (``publish_post(before_commit=...)``), under a
unique (user, digest): of two requests racing with one key, the second cannot commit its post, rolls
back and answers the first one's. Keys older than KEY_LIFETIME are ignored, and swept away by the
workers' periodic run.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from microblog import jobs
from microblog.extensions import db
from microblog.models import Post, StatusIdempotency, User
from microblog.services import posts
from microblog.timeutil import utcnow

# Mastodon keeps a key for an hour.
KEY_LIFETIME = timedelta(hours=1)


def key_digest(key: str) -> str:
    """The SHA-256 of a key (what is stored), whatever its length or characters."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def remembered_post(user: User, key: str) -> Post | None:
    """The post ``user`` made with this key within the last KEY_LIFETIME (None: none, or deleted)."""
    query = (sa.select(Post).join(StatusIdempotency, StatusIdempotency.post_id == Post.id)
             .where(StatusIdempotency.user_id == user.id, StatusIdempotency.digest == key_digest(key),
                    StatusIdempotency.created_at > utcnow() - KEY_LIFETIME))
    return db.session.scalar(query)


def publish_once(author: User, key: str | None, body: str, **options: Any) -> Post:
    """``posts.publish_post(author, body, **options)``, unless ``author`` already posted with ``key``
    within KEY_LIFETIME: then that post, and nothing new. No key: always a new post.

    :raises: what ``publish_post`` raises.
    """
    if not key:
        return posts.publish_post(author, body, **options)
    earlier = remembered_post(author, key)
    if earlier is not None:
        return earlier
    digest, author_id = key_digest(key), author.id
    # An expired use of the same key makes room for this one (the unique key would refuse it).
    db.session.execute(sa.delete(StatusIdempotency).where(
        StatusIdempotency.user_id == author_id, StatusIdempotency.digest == digest,
        StatusIdempotency.created_at <= utcnow() - KEY_LIFETIME))

    def remember(post: Post) -> None:
        db.session.flush()  # the post's id
        db.session.add(StatusIdempotency(user_id=author_id, digest=digest, post_id=post.id,
                                         created_at=utcnow()))

    try:
        return posts.publish_post(author, body, before_commit=remember, **options)
    except sa.exc.IntegrityError:
        # Another request with this key committed first: nothing of ours was kept; answer its post.
        db.session.rollback()
        winner = remembered_post(author, key)
        if winner is None:
            raise
        return winner


@jobs.periodic
def forget_old_keys() -> None:
    """Delete the keys older than KEY_LIFETIME (they are ignored already)."""
    cutoff = utcnow() - KEY_LIFETIME
    db.session.execute(sa.delete(StatusIdempotency).where(StatusIdempotency.created_at <= cutoff))
    db.session.commit()
