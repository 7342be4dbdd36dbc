"""Read-side helpers about users shared by the web pages and the API."""

from __future__ import annotations

import re

import sqlalchemy as sa

from microblog.models import USERNAME_MAX, User


def all_users_select(role: str | None = None, suspended: bool = False, *, active: bool = False) -> sa.Select:
    """Everyone, newest accounts first; only those with ``role``, or only suspended ones, when asked;
    without the deactivated accounts (hidden from everyone but the admins) with ``active``."""
    query = sa.select(User).order_by(User.created_at.desc(), User.id.desc())
    if active:
        query = query.where(User.deactivated_at.is_(None))
    if role is not None:
        query = query.where(User.role == role)
    if suspended:
        query = query.where(User.suspended_at.is_not(None))
    return query


def user_count_select(*, active: bool = False) -> sa.Select:
    query = sa.select(sa.func.count()).select_from(User)
    return query.where(User.deactivated_at.is_(None)) if active else query


# A name prefix the autocomplete answers for: what a username may hold (letters, digits, "_").
NAME_PREFIX_RE = re.compile(rf"[A-Za-z0-9_]{{1,{USERNAME_MAX}}}")


def username_prefix_select(prefix: str, limit: int = 8) -> sa.Select | None:
    """The accounts whose name starts with ``prefix`` (any case), by name; None for a prefix no name
    can have.

    A range on the ``lower(username)`` unique index, so it reads ``limit`` index entries whatever the
    number of accounts; the LIKE (wildcards escaped, though a valid prefix has none but ``_``) keeps
    the answer exact where the database's collation orders ``_`` unlike bytes.
    """
    if not NAME_PREFIX_RE.fullmatch(prefix or ""):
        return None
    low = prefix.lower()
    high = low[:-1] + chr(ord(low[-1]) + 1)
    pattern = low.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    name = sa.func.lower(User.username)
    return (
        sa.select(User)
        .where(name >= low, name < high, name.like(pattern, escape="\\"))
        .order_by(name)
        .limit(limit)
    )


def users_by_id_select(ids: list[int]) -> sa.Select:
    """The active (not deactivated) accounts among ``ids``, in no particular order."""
    return sa.select(User).where(User.id.in_(ids), User.deactivated_at.is_(None))
