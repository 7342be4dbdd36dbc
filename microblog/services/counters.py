"""Each account's denormalized counts (posts, followers, following), kept exact by the services.

The services that add or remove posts and follows call these helpers inside their own transaction,
so a count commits or rolls back together with the row it counts. ``recount`` rebuilds the counts
from the tables (after bulk loads such as ``flask seed``, or to repair them).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Post, User, followers


def _add(user_id: int, column: sa.orm.InstrumentedAttribute, delta: int) -> None:
    # "count = count + n" in SQL: concurrent requests cannot lose each other's updates.
    db.session.execute(
        sa.update(User).where(User.id == user_id).values({column: column + delta}),
        execution_options={"synchronize_session": "evaluate"},
    )


def posts_added(author_id: int, delta: int = 1) -> None:
    """``delta`` posts by ``author_id`` were added (negative: removed) in this transaction."""
    _add(author_id, User.post_count, delta)


def follow_added(follower_id: int, followed_id: int, delta: int = 1) -> None:
    """``follower_id`` started following ``followed_id`` (``delta=-1``: stopped) in this transaction."""
    _add(follower_id, User.following_count, delta)
    _add(followed_id, User.follower_count, delta)


def recount_statement() -> sa.Update:
    """The UPDATE that sets every account's exact counts from the tables (add ``.where`` to narrow it)."""
    user = User.__table__
    post = Post.__table__
    return sa.update(user).values(
        post_count=sa.select(sa.func.count()).select_from(post)
        .where(post.c.user_id == user.c.id).scalar_subquery(),
        follower_count=sa.select(sa.func.count()).select_from(followers)
        .where(followers.c.followed_id == user.c.id).scalar_subquery(),
        following_count=sa.select(sa.func.count()).select_from(followers)
        .where(followers.c.follower_id == user.c.id).scalar_subquery(),
    )


def recount(user_ids: Iterable[int] | None = None) -> None:
    """Set exact counts from the tables (in the current transaction; the caller commits).

    For code that changed posts or follows in bulk, or without the helpers above.
    """
    statement = recount_statement()
    if user_ids is not None:
        statement = statement.where(User.__table__.c.id.in_(list(user_ids)))
    db.session.execute(statement)
