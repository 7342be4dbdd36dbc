"""Read-side helpers about users shared by the web pages and the API."""

from __future__ import annotations

import sqlalchemy as sa

from microblog.models import User


def all_users_select(role: str | None = None, suspended: bool = False) -> sa.Select:
    """Everyone, newest accounts first; only those with ``role``, or only suspended ones, when asked."""
    query = sa.select(User).order_by(User.created_at.desc(), User.id.desc())
    if role is not None:
        query = query.where(User.role == role)
    if suspended:
        query = query.where(User.suspended_at.is_not(None))
    return query


def user_count_select() -> sa.Select:
    return sa.select(sa.func.count()).select_from(User)
