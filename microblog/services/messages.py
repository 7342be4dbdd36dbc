"""Private message rules: sending (with its notification and, for someone away, an email) and reading."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from microblog import mail
from microblog.exceptions import PermissionDenied, ValidationError
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.models import (
    ID_MAX,
    MESSAGE_BODY_CEILING,
    NOTIFY_MESSAGE,
    Message,
    Notification,
    OutboxMessage,
    User,
)
from microblog.post_text import mentioned_names
from microblog.services import blocks, notifications, roles
from microblog.services.accounts import confirmation_required
from microblog.textutil import has_control_characters
from microblog.timeutil import utcnow

# The name of the message field in the web form; the API calls it "body".
FIELD = "body"


def max_message_length() -> int:
    return min(current_app.config["MESSAGE_MAX_LENGTH"], MESSAGE_BODY_CEILING)


def clean_body(body: str) -> str:
    """Strip the text and check its length and characters.

    :raises ValidationError: empty, too long, or containing control characters.
    """
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError(_("A message cannot be empty."), field=FIELD)
    limit = max_message_length()
    if len(body) > limit:
        raise ValidationError(
            _("A message is at most %(max)d characters (this one has %(count)d).",
              max=limit, count=len(body)),
            field=FIELD,
        )
    if has_control_characters(body):
        raise ValidationError(_("A message cannot contain control characters."), field=FIELD)
    return body


def check_can_message(sender: User, recipient: User) -> None:
    """Raise unless ``sender`` may write to ``recipient``.

    :raises ValidationError: writing to yourself, or to an account of another server (messages stay on
        this site: they would never reach it).
    :raises PermissionDenied: a block either way, a suspended sender, or an unconfirmed address (when
        the site asks).
    """
    if sender.id == recipient.id:
        raise ValidationError(_("You cannot send a message to yourself."))
    if recipient.domain is not None:
        raise ValidationError(_("Private messages reach people of this site only: %(username)s is on "
                                "another server. Mention them in a followers-only post instead.",
                                username=recipient.username))
    roles.check_not_suspended(sender)
    if confirmation_required(sender):
        raise PermissionDenied(_("Please confirm your email address before sending messages."))
    blocks.check_contact(sender, recipient, "message")


def send_message(sender: User, recipient: User, body: str) -> Message:
    """Send a private message; the recipient gets a notification, and an email if they have been away."""
    check_can_message(sender, recipient)
    body = clean_body(body)
    message = Message(sender_id=sender.id, recipient_id=recipient.id, body=body, timestamp=utcnow())
    db.session.add(message)
    db.session.flush()
    # Created at the message's own time, so reading the thread up to a message marks exactly its notices.
    notification = notifications.add_notification(
        recipient.id, NOTIFY_MESSAGE, sender.id, {"message_id": message.id}, created_at=message.timestamp
    )
    email = None
    if _should_email(sender, recipient):
        email = _queue_new_message_email(sender, recipient, message)
        notification.emailed_at = message.timestamp
    db.session.commit()
    if email is not None:
        mail.dispatch(email)
    return message


def mentioned_recipients(sender: User, text: str) -> list[User]:
    """The accounts ``text`` @mentions (any case) that could be written to, in the order mentioned: the
    sender and deactivated accounts left out (one query; none without a mention)."""
    names = mentioned_names(text)
    if not names:
        return []
    people = db.session.scalars(sa.select(User).where(
        sa.func.lower(User.username).in_(names), User.deactivated_at.is_(None), User.id != sender.id)).all()
    order = {name: position for position, name in enumerate(names)}
    return sorted(people, key=lambda person: order[person.username.lower()])


def send_messages(sender: User, recipients: Sequence[User], body: str) -> list[Message]:
    """Send the same message to each recipient, the rules checked for all of them first, so that a
    refusal (a block, a length) sends it to nobody.

    :raises ValidationError, PermissionDenied: as :func:`send_message`.
    """
    body = clean_body(body)
    for recipient in recipients:
        check_can_message(sender, recipient)
    return [send_message(sender, recipient, body) for recipient in recipients]


def _should_email(sender: User, recipient: User) -> bool:
    """Email when the recipient wants it, has been away a while, and has not had one about this sender
    since they were last here (one email per sender per absence, not one per message)."""
    if not recipient.notify_new_message:
        return False
    away = timedelta(minutes=current_app.config["MESSAGE_EMAIL_AFTER_MINUTES"])
    if recipient.last_seen is not None and utcnow() - recipient.last_seen < away:
        return False
    emailed = sa.select(Notification.id).where(
        Notification.user_id == recipient.id, Notification.kind == NOTIFY_MESSAGE,
        Notification.actor_id == sender.id, Notification.emailed_at >= recipient.last_seen,
    )
    return not db.session.scalar(sa.select(sa.exists(emailed)))


def _queue_new_message_email(sender: User, recipient: User, message: Message) -> OutboxMessage:
    """The "new message" email, with a one-click unsubscribe link and header."""
    return mail.queue_notice(
        recipient, "new_message", _l("%(username)s sent you a message", username=sender.username),
        sender=sender, body=message.body,
        thread_url=external_url("messages.thread", username=sender.username),
    )


def mark_thread_read(reader: User, other: User, up_to_id: int | None = None) -> int:
    """Mark what ``other`` sent ``reader`` as read, with its notifications; only up to ``up_to_id`` (the
    newest message the reader was shown) when given. Returns how many messages changed."""
    query = sa.update(Message).where(
        Message.recipient_id == reader.id, Message.sender_id == other.id, Message.read_at.is_(None)
    )
    until = None
    if up_to_id is not None:
        up_to_id = min(up_to_id, ID_MAX)
        query = query.where(Message.id <= up_to_id)
        until = db.session.scalar(
            sa.select(Message.timestamp).where(
                Message.recipient_id == reader.id, Message.sender_id == other.id, Message.id <= up_to_id
            ).order_by(Message.id.desc()).limit(1)
        )
        if until is None:
            return 0
    result = db.session.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False))
    notifications.mark_read_from(reader, NOTIFY_MESSAGE, other, until=until)
    db.session.commit()
    return result.rowcount


def unread_from(reader: User, senders: Iterable[int]) -> dict[int, int]:
    """How many unread messages ``reader`` has from each of ``senders`` (one grouped query)."""
    ids = list(set(senders))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Message.sender_id, sa.func.count())
        .where(Message.recipient_id == reader.id, Message.sender_id.in_(ids), Message.read_at.is_(None))
        .group_by(Message.sender_id)
    ).all()
    return {sender_id: count for sender_id, count in rows}
