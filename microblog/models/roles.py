"""Roles and the permissions each one grants: the whole of "who may do what" as data."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """An account's role, stored as its value in ``user.role``."""

    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"


# The older names, kept for callers.
ROLE_USER = Role.USER
ROLE_MODERATOR = Role.MODERATOR
ROLE_ADMIN = Role.ADMIN
# Plain strings, for click.Choice and form choices (click 8.2+ would offer an enum's member names).
ROLES: tuple[str, ...] = tuple(role.value for role in Role)
# Higher ranks may act on lower ones (an admin can suspend a moderator, a moderator cannot).
ROLE_RANK: dict[str, int] = {Role.USER: 0, Role.MODERATOR: 1, Role.ADMIN: 2}


class Permission(enum.StrEnum):
    """What a role allows. Checked in one place (``services.roles.require``)."""

    MODERATE_POSTS = "moderate_posts"  # hide, show again or delete anyone's post
    SUSPEND_USERS = "suspend_users"  # suspend accounts of a lower role, and lift suspensions
    HANDLE_REPORTS = "handle_reports"  # see the report queue, resolve or dismiss reports
    CHANGE_ROLES = "change_roles"
    DELETE_USERS = "delete_users"  # delete an account with its posts, follows and messages
    VIEW_AUDIT_LOG = "view_audit_log"
    VIEW_OUTBOX = "view_outbox"
    VIEW_DASHBOARD = "view_dashboard"  # counts and charts
    EXPORT_DATA = "export_data"  # every user or every post as CSV
    MANAGE_SETTINGS = "manage_settings"  # the site's settings in the admin area


_MODERATOR_PERMISSIONS = frozenset(
    {Permission.MODERATE_POSTS, Permission.SUSPEND_USERS, Permission.HANDLE_REPORTS}
)
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.USER: frozenset(),
    Role.MODERATOR: _MODERATOR_PERMISSIONS,
    Role.ADMIN: frozenset(Permission),
}
