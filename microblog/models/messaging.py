"""Private messages between two people, and the notifications that tell someone what happened."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from microblog.models.users import User

# The database's ceiling for a private message; MESSAGE_MAX_LENGTH (config) must not exceed it.
MESSAGE_BODY_CEILING = 2000


class Message(db.Model):
    """A private message from one user to another: plain text, shown escaped with its links."""

    __table_args__ = (
        sa.CheckConstraint(f"length(body) BETWEEN 1 AND {MESSAGE_BODY_CEILING}", name="body_length"),
        sa.CheckConstraint("sender_id <> recipient_id", name="not_self"),
        # A conversation is read from both ends: what I sent to X, and what X sent to me.
        sa.Index("ix_message_sender_id_recipient_id_id", "sender_id", "recipient_id", "id"),
        sa.Index("ix_message_recipient_id_sender_id_id", "recipient_id", "sender_id", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sender_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    recipient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    body: so.Mapped[str] = so.mapped_column(sa.String(MESSAGE_BODY_CEILING))
    timestamp: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    # When the recipient opened the conversation after it arrived.
    read_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    sender: so.Mapped[User] = so.relationship(foreign_keys=[sender_id], lazy="joined", innerjoin=True)
    recipient: so.Mapped[User] = so.relationship(foreign_keys=[recipient_id], lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<Message {self.id} from {self.sender_id} to {self.recipient_id}>"

    def other_party(self, user: User) -> User:
        """The person ``user`` is talking to in this message."""
        return self.recipient if self.sender_id == user.id else self.sender


class NotificationKind(enum.StrEnum):
    """What a notification is about, stored as its value in ``notification.kind``."""

    MESSAGE = "message"
    NEW_FOLLOWER = "new_follower"
    MENTION = "mention"
    REPLY = "reply"
    LIKE = "like"
    REPOST = "repost"
    # A report the user made was handled (payload: report_id, status, target).
    REPORT_OUTCOME = "report_outcome"
    # Someone asked to follow the user's locked account (approved or refused on /follow_requests).
    FOLLOW_REQUEST = "follow_request"


# The older names, kept for callers.
NOTIFY_MESSAGE = NotificationKind.MESSAGE
NOTIFY_NEW_FOLLOWER = NotificationKind.NEW_FOLLOWER
NOTIFY_MENTION = NotificationKind.MENTION
NOTIFY_REPORT = NotificationKind.REPORT_OUTCOME
NOTIFICATION_KINDS: tuple[str, ...] = tuple(kind.value for kind in NotificationKind)


class Notification(db.Model):
    """Something that happened to a user (a message, a follower, a mention), unread until they look."""

    __table_args__ = (
        # The navbar's unread count, asked by every open tab: an index-only range.
        sa.Index("ix_notification_user_id_read_at", "user_id", "read_at"),
        # The notifications page: newest first.
        sa.Index("ix_notification_user_id_id", "user_id", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    # Who caused it (the sender, the follower), when someone did.
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    # Details by kind, e.g. {"message_id": 7}; small and never queried.
    payload: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    read_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # When an email went out about it (new messages to someone who has been away).
    emailed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    # The post it is about (a reply, a mention, a like, a repost): deleting the post deletes it.
    post_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("post.id", ondelete="CASCADE"), index=True
    )

    actor: so.Mapped[User | None] = so.relationship(foreign_keys=[actor_id], lazy="joined")

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} for {self.user_id}>"
