"""What the site says about itself to apps and other servers: its version, its counts, its activity.

Read by the Mastodon-compatible instance endpoints and by NodeInfo; plain counts, no request state.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import ROLE_ADMIN, Post, User, UserActivity
from microblog.timeutil import utcnow

ACTIVITY_WEEKS = 12


@lru_cache(maxsize=1)
def app_version() -> str | None:
    """The release, e.g. ``0.1.0``: the installed package's, else pyproject.toml's, else None."""
    try:
        return metadata.version("microblog")
    except metadata.PackageNotFoundError:
        pass
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None


def mastodon_version() -> str:
    """What Mastodon apps read to decide which endpoints exist: ``4.3.0 (compatible; microblog 0.1)``."""
    version = app_version()
    ours = "microblog" if not version else "microblog " + ".".join(version.split(".")[:2])
    return f"4.3.0 (compatible; {ours})"


@dataclass(frozen=True)
class Usage:
    users: int
    active_month: int
    active_halfyear: int
    local_posts: int


def usage() -> Usage:
    """This site's accounts (not suspended), those active in the last 30 and 180 days, and its posts
    (one statement). Remote accounts and posts known through federation are not counted."""
    now = utcnow()

    def count(table, *where) -> sa.ScalarSelect:
        return sa.select(sa.func.count()).select_from(table).where(*where).scalar_subquery()

    present = sa.and_(User.suspended_at.is_(None), User.domain.is_(None))
    row = db.session.execute(sa.select(
        count(User, present),
        count(User, present, User.last_seen >= now - timedelta(days=30)),
        count(User, present, User.last_seen >= now - timedelta(days=180)),
        count(Post, Post.hidden_at.is_(None), Post.uri.is_(None)),
    )).one()
    return Usage(*row)


def contact_user() -> User | None:
    """The first administrator (the oldest account with the role), or None."""
    return db.session.scalar(sa.select(User).where(User.role == ROLE_ADMIN, User.suspended_at.is_(None))
                             .order_by(User.id).limit(1))


@dataclass(frozen=True)
class Week:
    start: date  # a Monday (UTC)
    statuses: int
    logins: int
    registrations: int


def weekly_activity(weeks: int = ACTIVITY_WEEKS) -> list[Week]:
    """Posts, active accounts and sign-ups per week (Monday to Sunday, UTC), this week first; one
    statement of counts over indexed ranges."""
    today = utcnow().date()
    monday = today - timedelta(days=today.weekday())
    starts = [monday - timedelta(weeks=n) for n in range(weeks)]
    columns = []
    for start in starts:
        begin = datetime.combine(start, time(), tzinfo=utcnow().tzinfo)
        end = begin + timedelta(weeks=1)
        columns += [
            sa.select(sa.func.count()).select_from(Post)
            .where(Post.timestamp >= begin, Post.timestamp < end).scalar_subquery(),
            sa.select(sa.func.count(sa.distinct(UserActivity.user_id)))
            .where(UserActivity.day >= start, UserActivity.day < start + timedelta(weeks=1))
            .scalar_subquery(),
            sa.select(sa.func.count()).select_from(User)
            .where(User.created_at >= begin, User.created_at < end).scalar_subquery(),
        ]
    row = db.session.execute(sa.select(*columns)).one()
    return [Week(start, *row[3 * n:3 * n + 3]) for n, start in enumerate(starts)]
