"""Muting: someone's posts, reposts and notifications leave your lists; they are not told.

Unlike a block, a mute changes nothing for the muted person: they can still follow you, reply and
message. The lists themselves leave muted authors out through ``Post.left_out_authors``, and
notifications through ``services.notifications.silenced``.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from microblog.exceptions import NotFound, ValidationError
from microblog.extensions import db
from microblog.models import Block, Mute, Notification, User, user_by_username_select
from microblog.services import rows, suggestions
from microblog.services.accounts import USERNAME_RE


def _person(other: User | str) -> User:
    if isinstance(other, User):
        return other
    person = db.session.scalar(user_by_username_select(other)) if USERNAME_RE.match(other or "") else None
    if person is None:
        raise NotFound(_("There is no such person."))
    return person


def is_muted(user: User, other: User) -> bool:
    """True when ``user`` muted ``other``."""
    query = sa.select(Mute).where(Mute.muter_id == user.id, Mute.muted_id == other.id)
    return bool(db.session.scalar(sa.select(sa.exists(query))))


def mute(user: User, other: User | str) -> bool:
    """Mute someone (a user or a username). Muting twice is harmless: False when already muted.

    Their unread notifications to ``user`` go away with the mute, as with a block.

    :raises ValidationError: muting yourself.
    :raises NotFound: no such username.
    """
    person = _person(other)
    if person.id == user.id:
        raise ValidationError(_("You cannot mute yourself."))
    if not rows.insert_unless_present(Mute.__table__, muter_id=user.id, muted_id=person.id):
        db.session.rollback()
        return False
    db.session.execute(
        sa.delete(Notification)
        .where(Notification.user_id == user.id, Notification.actor_id == person.id,
               Notification.read_at.is_(None))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    suggestions.forget(user.id)
    return True


def unmute(user: User, other: User | str) -> bool:
    """Lift a mute. False when there was none (harmless).

    :raises NotFound: no such username.
    """
    person = _person(other)
    # A DELETE answers with a CursorResult, which counts the rows it removed.
    result: sa.CursorResult = db.session.execute(  # type: ignore[assignment]
        sa.delete(Mute).where(Mute.muter_id == user.id, Mute.muted_id == person.id)
    )
    db.session.commit()
    return result.rowcount > 0


def muted_select(user: User) -> sa.Select:
    """The people ``user`` muted, by name."""
    return sa.select(User).join(Mute, Mute.muted_id == User.id).where(Mute.muter_id == user.id).order_by(
        sa.func.lower(User.username))


def blocked_select(user: User) -> sa.Select:
    """The people ``user`` blocked, by name."""
    query = sa.select(User).join(Block, Block.blocked_id == User.id).where(Block.blocker_id == user.id)
    return query.order_by(sa.func.lower(User.username))


# A settings page shows at most this many of each (a list nobody pages through).
LIST_MAX = 500


def muted_and_blocked(user: User) -> tuple[list[User], list[User]]:
    """The settings page's two lists: whom ``user`` muted, whom they blocked (up to LIST_MAX each)."""
    muted = list(db.session.scalars(muted_select(user).limit(LIST_MAX)))
    blocked = list(db.session.scalars(blocked_select(user).limit(LIST_MAX)))
    return muted, blocked
