"""Email through an outbox: messages are rows written with the action, then delivered by a job.

A message survives an SMTP server that is down: delivery is retried with backoff, and after the
last attempt the message stays marked failed for admins (`flask mail status`, `flask mail retry`).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_mail import Message

from microblog import jobs, signed_tokens
from microblog.extensions import db, mail
from microblog.external_urls import external_url
from microblog.models import (
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_SENDING,
    OUTBOX_SENT,
    OutboxMessage,
    User,
)
from microblog.timeutil import utcnow

log = logging.getLogger(__name__)

# Seconds to wait before attempt 2, 3, ...; the last value repeats.
BACKOFF = (30, 120, 600, 1800, 3600)
# A message stuck in "sending" this long belonged to a worker that died; try it again.
STALE_SENDING = timedelta(minutes=15)


def queue_email(
    recipient: str,
    subject: str,
    template: str,
    locale: str | None = None,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, str, str] | None = None,
    **context: Any,
) -> OutboxMessage:
    """Render ``email/<template>.txt`` and ``.html`` in ``locale`` and add the message to the session.

    The caller commits it with the action that caused it, then calls ``dispatch``.
    ``attachment`` is (path, file name, content type).
    """
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
        subject = str(subject)
    message = OutboxMessage(
        recipient=recipient,
        subject=subject,
        text_body=text,
        html_body=html,
        headers=json.dumps(headers) if headers else None,
    )
    if attachment:
        message.attachment_path, message.attachment_name, message.attachment_type = attachment
    db.session.add(message)
    return message


def queue_notice(user: User, kind: str, subject: str, **context: Any) -> OutboxMessage:
    """A notice of something that happened to ``user`` (``kind``: "new_follower", "new_message"), in
    their language, from ``email/<kind>``, with a one-click unsubscribe link (RFC 8058) for that kind."""
    unsubscribe = external_url("auth.unsubscribe", token=signed_tokens.unsubscribe_token(user, kind))
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return queue_email(user.email, subject, kind, locale=user.locale, headers=headers, user=user,
                       unsubscribe_url=unsubscribe, **context)


def dispatch(*messages: OutboxMessage) -> None:
    """Start delivering committed messages in the background."""
    for message in messages:
        jobs.enqueue(deliver_message, message.id)


@jobs.task
def deliver_message(message_id: int) -> str:
    """Send one outbox message if it is due; on failure schedule the next attempt. Returns its status."""
    if not _claim(message_id):
        return "skipped"
    message = db.session.get(OutboxMessage, message_id)
    assert message is not None
    try:
        _send(message)
    except Exception as exc:  # noqa: BLE001 - any failure to send is recorded and retried
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            message.status = OUTBOX_FAILED
            log.error("giving up on mail %s to %s: %s", message.id, message.recipient, message.last_error)
        else:
            message.status = OUTBOX_PENDING
            delay = BACKOFF[min(message.attempts - 1, len(BACKOFF) - 1)]
            message.next_attempt_at = utcnow() + timedelta(seconds=delay)
            log.warning("mail %s not sent (attempt %d), retrying in %ds: %s",
                        message.id, message.attempts, delay, message.last_error)
    else:
        message.attempts += 1
        message.status = OUTBOX_SENT
        message.sent_at = utcnow()
        message.last_error = None
    db.session.commit()
    return message.status


def _claim(message_id: int) -> bool:
    """Mark the message as being sent, unless someone else has it or it is not due: at most one sender."""
    now = utcnow()
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            sa.or_(
                sa.and_(OutboxMessage.status == OUTBOX_PENDING, OutboxMessage.next_attempt_at <= now),
                sa.and_(
                    OutboxMessage.status == OUTBOX_SENDING,
                    OutboxMessage.next_attempt_at <= now - STALE_SENDING,
                ),
            ),
        )
        .values(status=OUTBOX_SENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _send(message: OutboxMessage) -> None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        # The embedded default: no mail server, so the message goes to the log (a newcomer can
        # still follow a password-reset link).
        log.warning("MAIL_SERVER is not set; this email was not sent:\nTo: %s\nSubject: %s\n\n%s",
                    message.recipient, message.subject, message.text_body)
        return
    msg = Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.text_body,
        html=message.html_body,
        sender=config["MAIL_DEFAULT_SENDER"],
        extra_headers=json.loads(message.headers) if message.headers else None,
    )
    if message.attachment_path and Path(message.attachment_path).is_file():
        msg.attach(
            message.attachment_name or Path(message.attachment_path).name,
            message.attachment_type or "application/octet-stream",
            Path(message.attachment_path).read_bytes(),
        )
    mail.send(msg)


@jobs.periodic
def deliver_due(limit: int = 100) -> int:
    """Try every message that is due (retries, and any whose job was lost). Returns how many were tried."""
    now = utcnow()
    ids = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(
            sa.or_(
                sa.and_(OutboxMessage.status == OUTBOX_PENDING, OutboxMessage.next_attempt_at <= now),
                sa.and_(
                    OutboxMessage.status == OUTBOX_SENDING,
                    OutboxMessage.next_attempt_at <= now - STALE_SENDING,
                ),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    for message_id in ids:
        deliver_message(message_id)
    return len(ids)


def retry_failed() -> int:
    """Put every failed message back in the queue, due now. Returns how many."""
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.status == OUTBOX_FAILED)
        .values(status=OUTBOX_PENDING, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def outbox_counts() -> dict[str, int]:
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    ).all()
    return {status: count for status, count in rows}


def outbox_select(status: str | None = None) -> sa.Select:
    """Outbox messages, newest first; only those with ``status`` when given (the admin's outbox page)."""
    query = sa.select(OutboxMessage)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return query.order_by(OutboxMessage.id.desc())
