"""What roles, report statuses and audit actions are called on the pages, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _

from microblog.services import audit, site_settings


def role_names() -> dict[str, str]:
    return {"user": _("User"), "moderator": _("Moderator"), "admin": _("Administrator")}


def report_status_names() -> dict[str, str]:
    return {"open": _("Open"), "resolved": _("Resolved"), "dismissed": _("Dismissed")}


def action_names() -> dict[str, str]:
    return {
        audit.POST_HIDE: _("Hid a post"),
        audit.POST_UNHIDE: _("Showed a post again"),
        audit.POST_DELETE: _("Deleted a post"),
        audit.MEDIA_HIDE: _("Hid a post's images"),
        audit.MEDIA_UNHIDE: _("Showed a post's images again"),
        audit.USER_SUSPEND: _("Suspended an account"),
        audit.USER_UNSUSPEND: _("Lifted a suspension"),
        audit.USER_ROLE: _("Changed a role"),
        audit.USER_DELETE: _("Deleted an account"),
        audit.REPORT_RESOLVE: _("Resolved a report"),
        audit.REPORT_DISMISS: _("Dismissed a report"),
        audit.TWO_FACTOR_ON: _("Turned on two-factor authentication"),
        audit.TWO_FACTOR_OFF: _("Turned off two-factor authentication"),
        audit.TWO_FACTOR_RECOVERY_CODES: _("Made new recovery codes"),
        audit.APP_AUTHORIZE: _("Authorized an app"),
        audit.APP_REVOKE: _("Revoked an app's access"),
        audit.SETTING_CHANGE: _("Changed a site setting"),
        audit.EMAIL_CHANGE_REQUESTED: _("Asked to change the email address"),
        audit.EMAIL_CHANGED: _("Changed the email address"),
        audit.EMAIL_CHANGE_UNDONE: _("Undid a change of the email address"),
        audit.SESSION_REVOKED: _("Signed out a session"),
        audit.SESSIONS_OTHERS_ENDED: _("Signed out all other sessions"),
        audit.NEW_DEVICE_SIGN_IN: _("Signed in from a new browser"),
        audit.PASSKEY_ADDED: _("Added a passkey"),
        audit.PASSKEY_REMOVED: _("Removed a passkey"),
        audit.ACCOUNT_IMPORT: _("Imported follows, blocks, mutes or bookmarks"),
        audit.ACCOUNT_DEACTIVATE: _("Deactivated their account"),
        audit.ACCOUNT_REACTIVATE: _("Reactivated their account by signing in"),
        audit.ACCOUNT_DELETE_SCHEDULED: _("Asked for their account to be deleted"),
        audit.ACCOUNT_DELETE_CANCELLED: _("Cancelled their account's deletion by signing in"),
        audit.ACCOUNT_DELETED: _("An account was deleted at its owner's request"),
        audit.INSTANCE_BLOCK: _("Blocked a domain"),
        audit.INSTANCE_UNBLOCK: _("Unblocked a domain"),
        audit.INSTANCE_REJECT_MEDIA: _("Rejected a domain's media"),
        audit.INSTANCE_ACCEPT_MEDIA: _("Accepted a domain's media again"),
        audit.REPORT_FORWARD: _("Forwarded a report to another server"),
    }


def outbox_status_names() -> dict[str, str]:
    return {"pending": _("Pending"), "sending": _("Sending"), "sent": _("Sent"), "failed": _("Failed")}


def setting_names() -> dict[str, str]:
    """Site settings as the audit log names them."""
    return {site_settings.STAFF_TWO_FACTOR: _("Two-factor authentication for staff")}
