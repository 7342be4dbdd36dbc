"""Follower graph rules: follow and unfollow, and the notifications they cause."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from microblog import mail
from microblog.exceptions import ValidationError
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.models import NOTIFY_NEW_FOLLOWER, User, followers
from microblog.services import blocks, counters, notifications, roles, rows, suggestions


def follow(follower: User, followed: User) -> bool:
    """Make ``follower`` follow ``followed``. Returns False when it already did (harmless).

    :raises ValidationError: following yourself.
    :raises PermissionDenied: either of them blocked the other, or ``follower`` is suspended.
    """
    if follower.id == followed.id:
        raise ValidationError(_("You cannot follow yourself."))
    roles.check_not_suspended(follower)
    blocks.check_contact(follower, followed, "follow")
    if follower.is_following(followed):
        return False
    if not rows.insert_unless_present(followers, follower_id=follower.id, followed_id=followed.id):
        # A concurrent request (a double click, another tab) followed first: the result is what the
        # user wanted, and the counters and the notification are that request's to write.
        db.session.rollback()
        return False
    counters.follow_added(follower.id, followed.id)
    notifications.add_notification(followed.id, NOTIFY_NEW_FOLLOWER, follower.id)
    message = _queue_new_follower_email(follower, followed) if followed.notify_new_follower else None
    db.session.commit()
    suggestions.forget(follower.id)
    if message is not None:
        mail.dispatch(message)
    return True


def _queue_new_follower_email(follower: User, followed: User):
    """The "new follower" notification, with a one-click unsubscribe link and header."""
    return mail.queue_notice(
        followed, "new_follower", _l("%(username)s is now following you", username=follower.username),
        follower=follower, profile_url=external_url("main.user", username=follower.username),
    )


def unfollow(follower: User, followed: User) -> bool:
    """Stop following. Returns False when there was nothing to undo."""
    result = db.session.execute(
        sa.delete(followers).where(
            followers.c.follower_id == follower.id, followers.c.followed_id == followed.id
        )
    )
    if result.rowcount > 0:
        counters.follow_added(follower.id, followed.id, -1)
    db.session.commit()
    suggestions.forget(follower.id)
    return result.rowcount > 0
