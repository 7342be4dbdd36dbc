"""Emails about mentions and replies, for someone who has been away (as new messages are emailed).

``notifications.add_notification`` calls ``email_if_away`` for these kinds: the email is queued in the
outbox in the same transaction as the notification, and its delivery job starts only after that
transaction commits (a session hook below), so the services that mention or reply need not know.
One email per kind per absence: the first mention while you are away is emailed, the next ones wait
for your return.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import lazy_gettext as _l

from microblog import jobs, mail
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.models import Notification, NotificationKind, OutboxMessage, Post, User
from microblog.timeutil import utcnow

# Kind of notification -> the user's setting that asks for its email (also the unsubscribe kind).
EMAILED_KINDS = {
    NotificationKind.MENTION.value: "notify_mention",
    NotificationKind.REPLY.value: "notify_reply",
}
_PENDING = "notification_mail.pending"
_IDS = "notification_mail.ids"


def email_if_away(notification: Notification) -> OutboxMessage | None:
    """Queue the email about ``notification`` (a mention or a reply, with its actor and post) when its
    recipient wants such emails, has been away for ``MESSAGE_EMAIL_AFTER_MINUTES`` and has not had one
    of this kind since they were last here. Sent after the transaction commits."""
    kind = notification.kind
    recipient = db.session.get(User, notification.user_id)
    if recipient is None or not getattr(recipient, EMAILED_KINDS[kind]):
        return None
    now = utcnow()
    away = timedelta(minutes=current_app.config["MESSAGE_EMAIL_AFTER_MINUTES"])
    if recipient.last_seen is not None:
        if now - recipient.last_seen < away:
            return None
        emailed = sa.select(Notification.id).where(
            Notification.user_id == recipient.id, Notification.kind == kind,
            Notification.emailed_at >= recipient.last_seen,
        )
        if db.session.scalar(sa.select(sa.exists(emailed))):
            return None
    actor = db.session.get(User, notification.actor_id)
    post = db.session.get(Post, notification.post_id)
    if actor is None or post is None:
        return None
    if kind == NotificationKind.MENTION.value:
        subject = _l("%(username)s mentioned you", username=actor.username)
    else:
        subject = _l("%(username)s replied to your post", username=actor.username)
    message = mail.queue_notice(recipient, kind, subject, actor=actor, body=post.body,
                                post_url=external_url("main.post", post_id=post.id))
    notification.emailed_at = now
    db.session.info.setdefault(_PENDING, []).append(message)
    return message


# -- delivery after commit ---------------------------------------------------------------------
@sa.event.listens_for(so.Session, "before_commit")
def _collect(session: so.Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.flush()
        session.info[_IDS] = [message.id for message in pending]


@sa.event.listens_for(so.Session, "after_commit")
def _dispatch(session: so.Session) -> None:
    for message_id in session.info.pop(_IDS, ()):
        jobs.enqueue(mail.deliver_message, message_id)


@sa.event.listens_for(so.Session, "after_rollback")
def _forget(session: so.Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_IDS, None)
