"""Report rules: anyone signed in can report a post or an account; moderators resolve or dismiss
reports, and the reporter is notified of the outcome."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import gettext as _

from microblog.exceptions import ConflictError, ValidationError
from microblog.extensions import db
from microblog.models import (
    NOTIFY_REPORT,
    REPORT_DISMISSED,
    REPORT_OPEN,
    REPORT_POST,
    REPORT_RESOLVED,
    REPORT_USER,
    Permission,
    Post,
    Report,
    User,
)
from microblog.services import audit, notifications, roles
from microblog.timeutil import utcnow

OUTCOMES = (REPORT_RESOLVED, REPORT_DISMISSED)


def report_post(reporter: User, post: Post, reason: str) -> Report:
    """Ask the moderators to look at ``post``.

    :raises ValidationError: your own post, or a missing or overlong reason.
    :raises ConflictError: you already have an open report about this post.
    """
    if post.user_id == reporter.id:
        raise ValidationError(_("You cannot report your own post."))
    reason = audit.clean_reason(reason)
    _check_not_reported(reporter, Report.post_id == post.id)
    report = Report(reporter_id=reporter.id, post_id=post.id, user_id=post.user_id, kind=REPORT_POST,
                    target_label=audit.post_label(post), reason=reason)
    return _save(report)


def report_user(reporter: User, user: User, reason: str) -> Report:
    """Ask the moderators to look at an account.

    :raises ValidationError: yourself, or a missing or overlong reason.
    :raises ConflictError: you already have an open report about this account.
    """
    if user.id == reporter.id:
        raise ValidationError(_("You cannot report yourself."))
    reason = audit.clean_reason(reason)
    _check_not_reported(reporter, sa.and_(Report.kind == REPORT_USER, Report.user_id == user.id))
    report = Report(reporter_id=reporter.id, user_id=user.id, kind=REPORT_USER, target_label=user.username,
                    reason=reason)
    return _save(report)


def _check_not_reported(reporter: User, about: sa.ColumnElement[bool]) -> None:
    pending = sa.select(Report.id).where(
        Report.reporter_id == reporter.id, Report.status == REPORT_OPEN, about)
    if db.session.scalar(sa.select(sa.exists(pending))):
        raise ConflictError(_("You have already reported this. A moderator will look at it soon."))


def _save(report: Report) -> Report:
    db.session.add(report)
    db.session.commit()
    return report


def handle_report(moderator: User, report: Report, outcome: str, note: str | None = None) -> Report:
    """Close a report as resolved (action taken) or dismissed (nothing to do); log it; tell the reporter.

    :raises PermissionDenied: ``moderator`` may not handle reports.
    :raises ValidationError: an unknown outcome, or a note that breaks the rules for a reason.
    :raises ConflictError: the report was already closed.
    """
    roles.require(moderator, Permission.HANDLE_REPORTS)
    if outcome not in OUTCOMES:
        raise ValidationError(_("A report is either resolved or dismissed."))
    note = audit.clean_reason(note, required=False, field="note")
    if report.status != REPORT_OPEN:
        raise ConflictError(_("This report has already been handled."))
    action = audit.REPORT_RESOLVE if outcome == REPORT_RESOLVED else audit.REPORT_DISMISS
    audit.record(moderator, action, None, target_type="report", target_id=report.id,
                 label=report.target_label, reason=note)
    close(moderator, [report], outcome, note)
    db.session.commit()
    return report


def close(moderator: User | None, reports: Iterable[Report], outcome: str, note: str | None = None) -> None:
    """Mark open reports closed and notify their reporters (in the caller's transaction)."""
    now = utcnow()
    for report in reports:
        report.status = outcome
        report.handled_by_id = moderator.id if moderator is not None else None
        report.handled_at = now
        report.note = note
        if report.reporter_id is not None:
            notifications.add_notification(
                report.reporter_id, NOTIFY_REPORT,
                payload={"report_id": report.id, "status": outcome, "target": report.target_label},
            )


def open_reports_about(*, post_ids: Iterable[int] = (), user_id: int | None = None,
                       accounts_only: bool = False) -> list[Report]:
    """Open reports about these posts, or about this account (and its posts, unless ``accounts_only``)."""
    about = []
    post_ids = list(post_ids)
    if post_ids:
        about.append(Report.post_id.in_(post_ids))
    if user_id is not None:
        about.append(sa.and_(Report.user_id == user_id, Report.kind == REPORT_USER) if accounts_only
                     else Report.user_id == user_id)
    if not about:
        return []
    return list(db.session.scalars(sa.select(Report).where(Report.status == REPORT_OPEN, sa.or_(*about))))


def get_report(report_id: int) -> Report | None:
    """The report with this id, or None (also for ids no column can hold)."""
    return db.session.get(Report, report_id) if 0 < report_id < 2**31 else None


def counts_by_status() -> dict[str, int]:
    """How many reports are open, resolved and dismissed (one grouped query)."""
    rows = db.session.execute(sa.select(Report.status, sa.func.count()).group_by(Report.status)).all()
    return {status: count for status, count in rows}
