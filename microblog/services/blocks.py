"""Blocking rules: a blocked user cannot message or follow the blocker, and vanishes from their timelines."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from microblog.exceptions import PermissionDenied, ValidationError
from microblog.extensions import db
from microblog.federation import outgoing
from microblog.models import Block, Notification, User
from microblog.services import follow_edges, rows, suggestions


def block_state(viewer: User, other: User) -> tuple[bool, bool]:
    """(``viewer`` blocked ``other``, ``other`` blocked ``viewer``), in one query."""
    rows = db.session.execute(
        sa.select(Block.blocker_id).where(
            sa.or_(
                sa.and_(Block.blocker_id == viewer.id, Block.blocked_id == other.id),
                sa.and_(Block.blocker_id == other.id, Block.blocked_id == viewer.id),
            )
        )
    ).scalars().all()
    return viewer.id in rows, other.id in rows


def check_contact(actor: User, other: User, action: str) -> None:
    """Refuse ``action`` ("follow" or "message") between two people when either blocked the other.

    :raises PermissionDenied: with a message that says what the actor can do about it.
    """
    blocked_them, blocked_me = block_state(actor, other)
    if blocked_them:
        if action == "follow":
            message = _("You have blocked %(username)s. Unblock them to follow them.",
                        username=other.username)
        else:
            message = _("You have blocked %(username)s. Unblock them to send them a message.",
                        username=other.username)
        raise PermissionDenied(message)
    if blocked_me:
        if action == "follow":
            message = _("You cannot follow %(username)s.", username=other.username)
        else:
            message = _("You cannot send messages to %(username)s.", username=other.username)
        raise PermissionDenied(message)


def block_user(blocker: User, blocked: User) -> bool:
    """Block someone: their follows end both ways and their notifications to the blocker go away.

    Returns False when the block already existed (harmless).

    :raises ValidationError: blocking yourself.
    """
    if blocker.id == blocked.id:
        raise ValidationError(_("You cannot block yourself."))
    exists = sa.select(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == blocked.id)
    if db.session.scalar(sa.select(sa.exists(exists))):
        return False
    if not rows.insert_unless_present(Block.__table__, blocker_id=blocker.id, blocked_id=blocked.id):
        # A double click raced us to the same row: the block is in place, as wanted.
        db.session.rollback()
        return False
    # The follows and the follow requests between them end, both ways.
    follow_edges.remove(blocker.id, blocked.id)
    follow_edges.remove(blocked.id, blocker.id)
    db.session.execute(
        sa.delete(Notification)
        .where(Notification.user_id == blocker.id, Notification.actor_id == blocked.id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    suggestions.forget(blocker.id)
    suggestions.forget(blocked.id)
    outgoing.blocked(blocker.id, blocked.id)
    return True


def unblock_user(blocker: User, blocked: User) -> bool:
    """Lift a block (follows that it ended are not restored). Returns False when there was none."""
    result = db.session.execute(
        sa.delete(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == blocked.id)
    )
    db.session.commit()
    if result.rowcount > 0:
        outgoing.unblocked(blocker.id, blocked.id)
    return result.rowcount > 0
