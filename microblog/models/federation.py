"""ActivityPub federation's own rows: pending follows, the activities received, the deliveries to send,
and what this server knows and decides about each other server (instance).

Remote accounts and posts are not here: they are ``user`` and ``post`` rows with an origin
(``User.domain``, ``User.actor_uri``, ``Post.uri``), so timelines, threads, notifications and search
treat them as they treat local ones.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

# The longest URI (actor, object, inbox) we keep; longer ones are refused where they arrive.
URI_MAX = 2048
DOMAIN_MAX = 255


class FollowRequest(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """A follow waiting for an answer: someone asked to follow a locked account (approved or refused
    on its owner's follow-requests page), or a local person asked to follow a remote account whose
    server has not sent ``Accept`` yet. ``activity_uri`` is the Follow activity's id, which the answer
    (Accept/Reject) and an Undo name."""

    __tablename__ = "follow_request"
    __table_args__ = (sa.UniqueConstraint("follower_id", "followed_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    follower_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    followed_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    activity_uri: so.Mapped[str | None] = so.mapped_column(sa.String(URI_MAX))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)


class ActivityState(enum.StrEnum):
    """Where a received activity is: stored and queued, done, or given up on (``error`` says why)."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class InboxActivity(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """An activity a remote server POSTed to an inbox, kept by its id so that a second delivery of the
    same activity (retries, shared and personal inboxes) is processed once."""

    __tablename__ = "inbox_activity"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    uri: so.Mapped[str] = so.mapped_column(sa.String(URI_MAX), unique=True)
    # The actor whose signature was verified (its key's owner) and the activity's type.
    actor_uri: so.Mapped[str] = so.mapped_column(sa.String(URI_MAX))
    type: so.Mapped[str] = so.mapped_column(sa.String(32))
    # The activity as received (JSON text), size-limited by the inbox.
    payload: so.Mapped[str] = so.mapped_column(sa.Text)
    # The local account whose inbox received it (None: the shared inbox).
    recipient_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    state: so.Mapped[str] = so.mapped_column(sa.String(16), default=ActivityState.PENDING)
    attempts: so.Mapped[int] = so.mapped_column(sa.SmallInteger, default=0, server_default="0")
    error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, index=True)
    processed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Delivery(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """One activity on its way to one remote inbox (a shared inbox where the server has one), written
    in the transaction of the action behind it and sent, signed as ``sender``, by a job that retries
    with backoff (like the mail outbox)."""

    __tablename__ = "delivery"
    __table_args__ = (sa.Index("ix_delivery_status_next_attempt_at", "status", "next_attempt_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    inbox_url: so.Mapped[str] = so.mapped_column(sa.String(URI_MAX))
    # The inbox's host, for the per-server state (Instance) and its unavailability.
    domain: so.Mapped[str] = so.mapped_column(sa.String(DOMAIN_MAX), index=True)
    sender_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    # The activity, JSON text, exactly as it will be sent.
    activity: so.Mapped[str] = so.mapped_column(sa.Text)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=DeliveryStatus.PENDING)
    attempts: so.Mapped[int] = so.mapped_column(sa.SmallInteger, default=0, server_default="0")
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())


class Instance(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """Another server, by domain: how delivering to it goes (``failing_since``: the first failure of a
    run of failures; ``unavailable_until``: deliveries wait until then), and the moderators' decisions
    about it (``blocked_at``: nothing from it is accepted and nothing is sent to it;
    ``reject_media``: its posts arrive without their images)."""

    __tablename__ = "instance"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    domain: so.Mapped[str] = so.mapped_column(sa.String(DOMAIN_MAX), unique=True)
    failing_since: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    unavailable_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    last_success_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    blocked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    reject_media: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    block_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)


class SiteKey(db.Model):  # type: ignore[name-defined]  # Flask-SQLAlchemy's base is dynamic
    """A key pair of the site itself: ``instance`` signs what no one person does, such as fetching the
    key of a server's actor (federation/instance_actor.py). Made at first need."""

    __tablename__ = "site_key"

    name: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    private_key_pem: so.Mapped[str] = so.mapped_column(sa.Text)
    public_key_pem: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
