"""Moderation records: reports people make, and the append-only log of what moderators did."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so

from microblog.extensions import db
from microblog.models.limits import REASON_MAX, USERNAME_MAX
from microblog.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from microblog.models.posts import Post
    from microblog.models.users import User


class AuditLogEntry(db.Model):
    """One moderation action: who did what to which post or account, when and why. Never changed.

    The names are copied, so an entry still reads right after the people or posts it names are gone.
    """

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_target_type_target_id", "target_type", "target_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    # None for the command line (flask users ...), or once the moderator's account is deleted.
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    actor_name: so.Mapped[str | None] = so.mapped_column(sa.String(USERNAME_MAX))
    # What was done, e.g. post.hide, user.suspend, user.role, report.dismiss (see services.moderation).
    action: so.Mapped[str] = so.mapped_column(sa.String(32))
    target_type: so.Mapped[str] = so.mapped_column(sa.String(16))
    target_id: so.Mapped[int | None] = so.mapped_column()
    target_label: so.Mapped[str] = so.mapped_column(sa.String(255))
    # Extra facts about the change, e.g. "user -> moderator".
    details: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(REASON_MAX))

    def __repr__(self) -> str:
        return f"<AuditLogEntry {self.id} {self.action} {self.target_type} {self.target_id}>"


@sa.event.listens_for(AuditLogEntry, "before_update")
@sa.event.listens_for(AuditLogEntry, "before_delete")
def _audit_log_is_append_only(_mapper, _connection, entry: AuditLogEntry) -> None:
    raise TypeError(f"{entry!r}: the audit log is append-only")


class ReportStatus(enum.StrEnum):
    """Where a report is, stored as its value in ``report.status``."""

    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class ReportKind(enum.StrEnum):
    """What was reported, stored as its value in ``report.kind``."""

    POST = "post"
    USER = "user"


# The older names, kept for callers.
REPORT_OPEN = ReportStatus.OPEN
REPORT_RESOLVED = ReportStatus.RESOLVED
REPORT_DISMISSED = ReportStatus.DISMISSED
REPORT_STATUSES: tuple[str, ...] = tuple(status.value for status in ReportStatus)
REPORT_POST = ReportKind.POST
REPORT_USER = ReportKind.USER


class Report(db.Model):
    """Someone asked the moderators to look at a post or an account.

    ``user_id`` is the account reported, or the author of the post reported; ``target_label`` keeps
    what was reported readable after it is deleted.
    """

    __table_args__ = (
        # The moderators' queue: one status, oldest first.
        sa.Index("ix_report_status_id", "status", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow)
    reporter_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    post_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("post.id", ondelete="SET NULL"), index=True
    )
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    # A ReportKind: what was reported (it stays known after the post is deleted).
    kind: so.Mapped[str] = so.mapped_column(sa.String(8))
    target_label: so.Mapped[str] = so.mapped_column(sa.String(255))
    reason: so.Mapped[str] = so.mapped_column(sa.String(REASON_MAX))
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=ReportStatus.OPEN)
    handled_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    handled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # What the moderator told the reporter.
    note: so.Mapped[str | None] = so.mapped_column(sa.String(REASON_MAX))

    reporter: so.Mapped[User | None] = so.relationship(foreign_keys=[reporter_id])
    post: so.Mapped[Post | None] = so.relationship()
    user: so.Mapped[User | None] = so.relationship(foreign_keys=[user_id])
    handled_by: so.Mapped[User | None] = so.relationship(foreign_keys=[handled_by_id])

    def __repr__(self) -> str:
        return f"<Report {self.id} {self.status} post={self.post_id} user={self.user_id}>"

    @staticmethod
    def queue_select(status: str = ReportStatus.OPEN) -> sa.Select:
        """Reports with this status, oldest first (open ones are worked through in order)."""
        order = Report.id.asc() if status == ReportStatus.OPEN else Report.id.desc()
        return (
            sa.select(Report)
            .where(Report.status == status)
            .options(so.joinedload(Report.reporter), so.joinedload(Report.user), so.joinedload(Report.post))
            .order_by(order)
        )
