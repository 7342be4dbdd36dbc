"""Follower graph rules: follow and unfollow."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from microblog.errors.exceptions import ValidationError
from microblog.extensions import db
from microblog.models import User, followers


def follow(follower: User, followed: User) -> bool:
    """Make ``follower`` follow ``followed``. Returns False when it already did (harmless).

    :raises ValidationError: following yourself.
    """
    if follower.id == followed.id:
        raise ValidationError(_("You cannot follow yourself."))
    if follower.is_following(followed):
        return False
    db.session.execute(sa.insert(followers).values(follower_id=follower.id, followed_id=followed.id))
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        # A double click raced us to the same row: the result is what the user wanted.
        db.session.rollback()
        return False
    return True


def unfollow(follower: User, followed: User) -> bool:
    """Stop following. Returns False when there was nothing to undo."""
    result = db.session.execute(
        sa.delete(followers).where(
            followers.c.follower_id == follower.id, followers.c.followed_id == followed.id
        )
    )
    db.session.commit()
    return result.rowcount > 0
