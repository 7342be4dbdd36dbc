"""The follow itself, one row of ``followers``: added with its counters, notification and email, or
removed with its counters. Following someone at once, approving a request and a remote server's Accept
all end here, so the rules for what a new follow brings are written once."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from microblog import mail
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.models import NOTIFY_NEW_FOLLOWER, FollowRequest, User, followers
from microblog.services import counters, notifications, rows, suggestions


def add(follower: User, followed: User) -> bool:
    """Make ``follower`` follow ``followed`` (no rule is checked here: the callers did) and commit; a
    pending request between them is answered by it. Returns False when the follow existed.

    A local account followed is notified (and emailed, if it wants); a remote one hears of it through
    its server.
    """
    _drop_request(follower.id, followed.id)
    if not rows.insert_unless_present(followers, follower_id=follower.id, followed_id=followed.id):
        # A concurrent request (a double click, another tab) followed first: the result is what the
        # user wanted, and the counters and the notification are that request's to write.
        db.session.rollback()
        _drop_request(follower.id, followed.id)
        db.session.commit()
        return False
    counters.follow_added(follower.id, followed.id)
    message = None
    if not followed.is_remote:
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


def remove(follower_id: int, followed_id: int) -> bool:
    """End the follow (and any pending request) of ``follower_id`` to ``followed_id`` in the session;
    the caller commits. Returns False when there was no follow."""
    _drop_request(follower_id, followed_id)
    ended = _rowcount(db.session.execute(
        sa.delete(followers).where(followers.c.follower_id == follower_id,
                                   followers.c.followed_id == followed_id)
    ))
    if ended > 0:
        counters.follow_added(follower_id, followed_id, -1)
    return ended > 0


def _rowcount(result: object) -> int:
    # Only a CursorResult (what a DELETE gives) has a row count; the type of execute() does not say so.
    return int(getattr(result, "rowcount", 0))


def _drop_request(follower_id: int, followed_id: int) -> int:
    return _rowcount(db.session.execute(
        sa.delete(FollowRequest).where(FollowRequest.follower_id == follower_id,
                                       FollowRequest.followed_id == followed_id)
        .execution_options(synchronize_session=False)
    ))
