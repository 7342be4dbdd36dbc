"""Who may do what: the one permission check every entry point uses, suspension, and role changes."""

from __future__ import annotations

from flask_babel import gettext as _

from microblog.exceptions import AccountSuspended, PermissionDenied, ValidationError
from microblog.extensions import db
from microblog.models import ROLES, Permission, User
from microblog.services import audit


def require(user: User | None, permission: Permission) -> None:
    """Refuse unless ``user`` holds ``permission`` (roles grant them; a suspended account has none).

    :raises PermissionDenied: for everyone else, signed in or not.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.can(permission):
        raise PermissionDenied(_("You do not have permission to do that."))


def check_not_suspended(user: User) -> None:
    """Refuse a suspended account any change: the web and the API call it before every write but
    signing in and out and exporting (microblog/suspension.py); some services call it too.

    :raises AccountSuspended: with the message the person sees.
    """
    if user.suspended_at is not None:
        raise AccountSuspended(
            _("Your account is suspended: you can read, export your data and sign out, but change nothing.")
        )


def change_role(actor: User | None, user: User, role: str, reason: str | None = None) -> User:
    """Give ``user`` one of ``ROLES``, and log it. ``actor`` None means the command line.

    :raises PermissionDenied: ``actor`` may not change roles.
    :raises ValidationError: an unknown role, or an administrator changing their own role.
    """
    if actor is not None:
        require(actor, Permission.CHANGE_ROLES)
        if actor.id == user.id:
            raise ValidationError(_("You cannot change your own role."), field="role")
    if role not in ROLES:
        raise ValidationError(_("Unknown role: %(role)s", role=role), field="role")
    reason = audit.clean_reason(reason, required=False)
    if role == user.role:
        return user
    audit.record(actor, audit.USER_ROLE, user, reason=reason, details=f"{user.role} -> {role}")
    user.role = role
    db.session.commit()
    return user
