"""The models package: its enums keep the strings the database stores, under their old names too."""

from __future__ import annotations

import enum
import uuid

import pytest
import sqlalchemy as sa

from microblog import models
from microblog.extensions import db
from microblog.models import (
    NotificationKind,
    OutboxMessage,
    OutboxStatus,
    Report,
    ReportKind,
    ReportStatus,
    Role,
    Task,
    TaskStatus,
    Visibility,
)
from tests.factories import make_post, make_user

# The stored values: rows written before the enums existed hold exactly these strings.
STORED = {
    Role: {"USER": "user", "MODERATOR": "moderator", "ADMIN": "admin"},
    NotificationKind: {"MESSAGE": "message", "NEW_FOLLOWER": "new_follower", "MENTION": "mention",
                       "REPORT_OUTCOME": "report_outcome", "REPLY": "reply", "LIKE": "like",
                       "REPOST": "repost", "FOLLOW_REQUEST": "follow_request"},
    Visibility: {"PUBLIC": "public", "UNLISTED": "unlisted", "FOLLOWERS": "followers"},
    OutboxStatus: {"PENDING": "pending", "SENDING": "sending", "SENT": "sent", "FAILED": "failed"},
    TaskStatus: {"QUEUED": "queued", "RUNNING": "running", "DONE": "done", "FAILED": "failed"},
    ReportStatus: {"OPEN": "open", "RESOLVED": "resolved", "DISMISSED": "dismissed"},
    ReportKind: {"POST": "post", "USER": "user"},
}
OLD_NAMES = {
    "ROLE_USER": Role.USER, "ROLE_MODERATOR": Role.MODERATOR, "ROLE_ADMIN": Role.ADMIN,
    "NOTIFY_MESSAGE": NotificationKind.MESSAGE, "NOTIFY_NEW_FOLLOWER": NotificationKind.NEW_FOLLOWER,
    "NOTIFY_MENTION": NotificationKind.MENTION, "NOTIFY_REPORT": NotificationKind.REPORT_OUTCOME,
    "OUTBOX_PENDING": OutboxStatus.PENDING, "OUTBOX_SENDING": OutboxStatus.SENDING,
    "OUTBOX_SENT": OutboxStatus.SENT, "OUTBOX_FAILED": OutboxStatus.FAILED,
    "TASK_QUEUED": TaskStatus.QUEUED, "TASK_RUNNING": TaskStatus.RUNNING, "TASK_DONE": TaskStatus.DONE,
    "TASK_FAILED": TaskStatus.FAILED,
    "REPORT_OPEN": ReportStatus.OPEN, "REPORT_RESOLVED": ReportStatus.RESOLVED,
    "REPORT_DISMISSED": ReportStatus.DISMISSED,
    "REPORT_POST": ReportKind.POST, "REPORT_USER": ReportKind.USER,
}
CHOICES = {"ROLES": Role, "NOTIFICATION_KINDS": NotificationKind, "OUTBOX_STATUSES": OutboxStatus,
           "REPORT_STATUSES": ReportStatus}


@pytest.mark.parametrize("kind", list(STORED), ids=lambda kind: kind.__name__)
def test_enums_keep_the_stored_strings(kind: type[enum.StrEnum]):
    assert {member.name: member.value for member in kind} == STORED[kind]
    assert all(type(member.value) is str and member == member.value for member in kind)


@pytest.mark.parametrize("name", sorted(OLD_NAMES))
def test_old_names_are_the_members(name: str):
    assert getattr(models, name) is OLD_NAMES[name]


@pytest.mark.parametrize("name", sorted(CHOICES))
def test_choice_tuples_are_plain_strings(name: str):
    # click.Choice (8.2+) would offer an enum member's name, not its value.
    choices = getattr(models, name)
    assert isinstance(choices, tuple) and all(type(choice) is str for choice in choices)
    assert choices == tuple(member.value for member in CHOICES[name])


def test_rows_store_the_plain_strings(app):
    with app.app_context():
        user = make_user()
        admin = make_user(role=Role.ADMIN)
        post = make_post(user)
        db.session.add_all([
            OutboxMessage(recipient="a@example.com", subject="s", text_body="t", html_body="h"),
            Task(id=str(uuid.uuid4()), name="export", description="d", user_id=user.id),
            Report(reporter_id=admin.id, post_id=post.id, user_id=user.id, kind=ReportKind.POST,
                   target_label="x", reason="r"),
        ])
        db.session.commit()
        raw = {
            sql: list(db.session.execute(sa.text(sql)).scalars())
            for sql in ('SELECT role FROM "user" ORDER BY id', "SELECT status FROM outbox_message",
                        "SELECT status FROM task", "SELECT kind || '/' || status FROM report")
        }
        assert raw == {
            'SELECT role FROM "user" ORDER BY id': ["user", "admin"],
            "SELECT status FROM outbox_message": ["pending"],
            "SELECT status FROM task": ["queued"],
            "SELECT kind || '/' || status FROM report": ["post/open"],
        }
        assert all(type(value) is str for values in raw.values() for value in values)
        # A member in a where-clause matches the stored string.
        assert db.session.scalar(sa.select(sa.func.count()).where(models.User.role == Role.ADMIN)) == 1
        db.session.expire_all()
        assert db.session.get(models.User, admin.id).is_admin
