"""The audit log: every moderation action and every change to an account's sign-in security, written
in the same transaction as the change itself.

Entries are only ever added (the model refuses updates and deletes, and no route changes them).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from microblog.exceptions import ValidationError
from microblog.extensions import db
from microblog.models import REASON_MAX, AuditLogEntry, Post, User
from microblog.textutil import has_control_characters

# Action names, as stored (the admin pages translate them).
POST_HIDE = "post.hide"
POST_UNHIDE = "post.unhide"
POST_DELETE = "post.delete"
MEDIA_HIDE = "media.hide"
MEDIA_UNHIDE = "media.unhide"
USER_SUSPEND = "user.suspend"
USER_UNSUSPEND = "user.unsuspend"
USER_ROLE = "user.role"
USER_DELETE = "user.delete"
REPORT_RESOLVE = "report.resolve"
REPORT_DISMISS = "report.dismiss"
# Security changes people make to their own account (services/two_factor.py): actor and target agree.
TWO_FACTOR_ON = "account.2fa_on"
TWO_FACTOR_OFF = "account.2fa_off"
TWO_FACTOR_RECOVERY_CODES = "account.recovery_codes"
# Someone let an app (Mastodon's OAuth) act for their account, or took that back (services/oauth.py).
APP_AUTHORIZE = "account.app_authorized"
APP_REVOKE = "account.app_revoked"
# An administrator changed a site setting (services/site_settings.py): the label names it.
SETTING_CHANGE = "site.setting"
# services/email_change.py: asked for (pending), confirmed by the new address, undone from the old one.
EMAIL_CHANGE_REQUESTED = "account.email_change_requested"
EMAIL_CHANGED = "account.email_changed"
EMAIL_CHANGE_UNDONE = "account.email_change_undone"
# Signed-in sessions (services/user_sessions.py).
SESSION_REVOKED = "account.session_revoked"
SESSIONS_OTHERS_ENDED = "account.sessions_others_ended"
NEW_DEVICE_SIGN_IN = "account.new_device_sign_in"
# Passkeys (services/passkeys.py): the passkey's name is the entry's details.
PASSKEY_ADDED = "account.passkey_added"
PASSKEY_REMOVED = "account.passkey_removed"
# An import of follows, blocks, mutes or bookmarks (services/imports.py): it may change many of them.
ACCOUNT_IMPORT = "account.import"
# Leaving (services/account_deletion.py). The entry of a finished deletion names no one: no actor,
# and the account by its former id only.
ACCOUNT_DEACTIVATE = "account.deactivate"
ACCOUNT_REACTIVATE = "account.reactivate"
ACCOUNT_DELETE_SCHEDULED = "account.delete_asked"
ACCOUNT_DELETE_CANCELLED = "account.delete_cancel"
ACCOUNT_DELETED = "account.deleted"
# Other servers (services/instances.py): the target is an instance row, labelled by its domain.
INSTANCE_BLOCK = "instance.block"
INSTANCE_UNBLOCK = "instance.unblock"
INSTANCE_REJECT_MEDIA = "instance.reject_media"
INSTANCE_ACCEPT_MEDIA = "instance.accept_media"
# A report about a remote account or post sent on to its server (services/report_forwarding.py).
REPORT_FORWARD = "report.forward"
ACTIONS = (
    POST_HIDE, POST_UNHIDE, POST_DELETE, MEDIA_HIDE, MEDIA_UNHIDE,
    USER_SUSPEND, USER_UNSUSPEND, USER_ROLE, USER_DELETE,
    REPORT_RESOLVE, REPORT_DISMISS,
    TWO_FACTOR_ON, TWO_FACTOR_OFF, TWO_FACTOR_RECOVERY_CODES,
    SETTING_CHANGE,
    APP_AUTHORIZE, APP_REVOKE,
    EMAIL_CHANGE_REQUESTED, EMAIL_CHANGED, EMAIL_CHANGE_UNDONE,
    SESSION_REVOKED, SESSIONS_OTHERS_ENDED, NEW_DEVICE_SIGN_IN,
    PASSKEY_ADDED, PASSKEY_REMOVED,
    ACCOUNT_IMPORT,
    ACCOUNT_DEACTIVATE, ACCOUNT_REACTIVATE, ACCOUNT_DELETE_SCHEDULED, ACCOUNT_DELETE_CANCELLED,
    ACCOUNT_DELETED,
    INSTANCE_BLOCK, INSTANCE_UNBLOCK, INSTANCE_REJECT_MEDIA, INSTANCE_ACCEPT_MEDIA, REPORT_FORWARD,
)
EXCERPT = 80


def clean_reason(reason: str | None, required: bool = True, field: str = "reason") -> str | None:
    """The reason for an action, stripped; None when empty and not ``required``.

    :raises ValidationError: missing (when required), too long, or with control characters.
    """
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        if required:
            raise ValidationError(_("Please give a reason."), field=field)
        return None
    if len(reason) > REASON_MAX:
        raise ValidationError(_("A reason is at most %(max)d characters.", max=REASON_MAX), field=field)
    if has_control_characters(reason):
        raise ValidationError(_("Please remove control characters."), field=field)
    return reason


def post_label(post: Post) -> str:
    """How a post is named in the log and the report queue: its author and the start of its text."""
    body = " ".join(post.body.split())
    excerpt = body if len(body) <= EXCERPT else body[: EXCERPT - 1] + "…"
    return f"{post.author.username}: {excerpt}"


def record(actor: User | None, action: str, target: Post | User | None, *, target_type: str | None = None,
           target_id: int | None = None, label: str | None = None, reason: str | None = None,
           details: str | None = None) -> AuditLogEntry:
    """Add an entry to the session; the calling service commits it with the action.

    ``actor`` None means the command line. The target is a post or an account, or given by type, id
    and label (a report).
    """
    if isinstance(target, Post):
        target_type, target_id, label = "post", target.id, post_label(target)
    elif isinstance(target, User):
        target_type, target_id, label = "user", target.id, target.username
    entry = AuditLogEntry(
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else None,
        action=action, target_type=target_type or "", target_id=target_id, target_label=(label or "")[:255],
        reason=reason, details=details,
    )
    db.session.add(entry)
    return entry


def entries_select(target_type: str | None = None, target_id: int | None = None) -> sa.Select:
    """Audit entries, newest first; only those about one post or account when given."""
    query = sa.select(AuditLogEntry)
    if target_type is not None:
        query = query.where(AuditLogEntry.target_type == target_type, AuditLogEntry.target_id == target_id)
    return query.order_by(AuditLogEntry.id.desc())


def history(target_type: str, target_id: int, limit: int = 50) -> list[AuditLogEntry]:
    """The latest entries about one post or account, newest first."""
    return list(db.session.scalars(entries_select(target_type, target_id).limit(limit)))
