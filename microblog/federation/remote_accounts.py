"""Remote accounts changed by their servers: a profile updated (``Update`` of a Person), an account
deleted, an account moved to another (``Move``) with its local followers following it there."""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa

from microblog.exceptions import DomainError
from microblog.extensions import db
from microblog.federation import actors
from microblog.models import User, followers
from microblog.services import account_deletion, follows

log = logging.getLogger(__name__)



def also_known_as(user: User) -> list[str]:
    try:
        aliases = json.loads(user.also_known_as or "[]")
    except ValueError:
        return []
    return [alias for alias in aliases if isinstance(alias, str)] if isinstance(aliases, list) else []


def delete_account(user: User) -> None:
    """A remote account its server deleted: it and everything of it (counts kept exact)."""
    account_deletion.delete_remote_account(user)


def move_followers(old: User, new: User) -> int:
    """``old`` moved to ``new``: note it, and make each local follower of ``old`` follow ``new`` instead
    (through the follows service: for a remote ``new`` that is a follow request to its server). A
    follower the rules keep from following ``new`` (a block) stops following ``old`` all the same.
    Returns how many followers moved."""
    old.moved_to_id = new.id
    db.session.commit()
    local = sa.select(User).join(followers, followers.c.follower_id == User.id).where(
        followers.c.followed_id == old.id, User.domain.is_(None)).order_by(User.id)
    moved = 0
    for follower in list(db.session.scalars(local)):
        if follower.id != new.id:
            try:
                follows.follow(follower, new)
                moved += 1
            except DomainError as exc:  # blocked, suspended...: they simply stop following
                db.session.rollback()
                log.info("move of %s: %s does not follow %s (%s)", old.id, follower.id, new.id, exc)
        follows.unfollow(follower, old)
    return moved


def actor_type_ok(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("type") in actors.ACTOR_TYPES
