"""Site statistics for the admin dashboard and the profile activity calendar, and the daily activity
record behind the "active users per day" chart. Days are UTC days."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Message, Post, User, UserActivity, followers
from microblog.timeutil import utcnow

DAYS = 90
CALENDAR_DAYS = 365
TOP_POSTERS = 10
# Follower-count buckets for the distribution chart: (lowest, highest or None for "and more").
FOLLOWER_BUCKETS: tuple[tuple[int, int | None], ...] = (
    (0, 0), (1, 4), (5, 9), (10, 49), (50, 99), (100, 999), (1000, None),
)


@dataclass(frozen=True)
class Totals:
    users: int
    active_7_days: int
    active_30_days: int
    posts: int
    follows: int
    messages: int


def totals() -> Totals:
    """Counts of accounts, recently active accounts, posts, follows and messages (one statement)."""
    now = utcnow()

    def count(table, *where) -> sa.ScalarSelect:
        return sa.select(sa.func.count()).select_from(table).where(*where).scalar_subquery()

    row = db.session.execute(sa.select(
        count(User),
        count(User, User.last_seen >= now - timedelta(days=7)),
        count(User, User.last_seen >= now - timedelta(days=30)),
        count(Post),
        count(followers),
        count(Message),
    )).one()
    return Totals(*row)


def day_of(column: sa.ColumnElement) -> sa.ColumnElement:
    """The UTC calendar day of a timestamp column, in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.func.date(sa.func.timezone("UTC", column))
    return sa.func.date(column)  # SQLite stores UTC text: its date() is the UTC day


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def days_back(days: int, today: date | None = None) -> list[date]:
    """The last ``days`` days, oldest first, ending today."""
    today = today or utcnow().date()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def _fill(days: list[date], rows: Iterable[tuple]) -> list[tuple[date, int]]:
    found = {_as_date(day): int(count) for day, count in rows}
    return [(day, found.get(day, 0)) for day in days]


def _per_day(column: sa.ColumnElement, days: int, *where: sa.ColumnElement) -> list[tuple[date, int]]:
    span = days_back(days)
    start = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    day = day_of(column).label("day")
    rows = db.session.execute(
        sa.select(day, sa.func.count()).where(column >= start, *where).group_by(day)
    ).all()
    return _fill(span, rows)


def signups_per_day(days: int = DAYS) -> list[tuple[date, int]]:
    """New accounts on each of the last ``days`` days."""
    return _per_day(User.created_at, days)


def posts_per_day(days: int = DAYS) -> list[tuple[date, int]]:
    """Posts published on each of the last ``days`` days."""
    return _per_day(Post.timestamp, days)


def active_users_per_day(days: int = DAYS) -> list[tuple[date, int]]:
    """People who used the site on each of the last ``days`` days."""
    span = days_back(days)
    rows = db.session.execute(
        sa.select(UserActivity.day, sa.func.count())
        .where(UserActivity.day >= span[0]).group_by(UserActivity.day)
    ).all()
    return _fill(span, rows)


def top_posters(limit: int = TOP_POSTERS) -> list[tuple[str, int]]:
    """The accounts with the most posts, as (username, posts)."""
    rows = db.session.execute(
        sa.select(User.username, User.post_count).where(User.post_count > 0)
        .order_by(User.post_count.desc(), User.id).limit(limit)
    ).all()
    return [(username, count) for username, count in rows]


def follower_distribution() -> list[tuple[tuple[int, int | None], int]]:
    """How many accounts have 0, 1-4, 5-9, ... followers: (bucket, accounts), for every bucket."""
    bucket = sa.case(
        *((User.follower_count >= low if high is None else User.follower_count.between(low, high), i)
          for i, (low, high) in enumerate(FOLLOWER_BUCKETS)),
    ).label("bucket")
    rows = dict(db.session.execute(sa.select(bucket, sa.func.count()).group_by(bucket)).all())
    return [(limits, int(rows.get(i, 0))) for i, limits in enumerate(FOLLOWER_BUCKETS)]


def posting_calendar(user: User, days: int = CALENDAR_DAYS) -> list[tuple[date, int]]:
    """``user``'s visible posts on each of the last ``days`` days (the profile's activity calendar)."""
    return _per_day(Post.timestamp, days, Post.user_id == user.id, Post.hidden_at.is_(None))


def mark_active(user_id: int, day: date) -> None:
    """Record that ``user_id`` used the site on ``day`` (in the caller's transaction; once per day)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(UserActivity).values(user_id=user_id, day=day).on_conflict_do_nothing())
