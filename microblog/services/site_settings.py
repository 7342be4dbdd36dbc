"""Site settings administrators change in the admin area, and the rule for each one's value.

The environment can fix a setting for the operator (``REQUIRE_2FA_FOR_STAFF=1``): then it is on
whatever is stored, and the admin area shows it as set by the server. Otherwise the stored value
counts, and a setting never stored has its default. Every change is audited.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from microblog.exceptions import ValidationError
from microblog.extensions import db
from microblog.models import SiteSetting, User
from microblog.services import audit

STAFF_TWO_FACTOR = "require_2fa_for_staff"
ON, OFF = "on", "off"


def _stored(key: str) -> str | None:
    row = db.session.get(SiteSetting, key)
    return row.value if row is not None else None


def staff_two_factor_forced() -> bool:
    """True when the server's environment requires two-factor sign-in of staff (admins cannot undo it)."""
    return bool(current_app.config["REQUIRE_2FA_FOR_STAFF"])


def staff_two_factor_required() -> bool:
    """True when moderators and administrators must sign in with a second factor."""
    return staff_two_factor_forced() or _stored(STAFF_TWO_FACTOR) == ON


def set_staff_two_factor(actor: User, required: bool) -> bool:
    """Store whether staff must use two-factor sign-in; audited and committed. Returns True when the
    value changed (saving the same value again writes nothing).

    :raises ValidationError: requiring it while ``actor``'s own account is without it (the next page
        would lock them out of the admin area until they enrol).
    """
    if required and not actor.two_factor_enabled and not staff_two_factor_required():
        raise ValidationError(_("Turn on two-factor authentication for your own account first."),
                              field="staff_two_factor")
    value = ON if required else OFF
    row = db.session.get(SiteSetting, STAFF_TWO_FACTOR)
    if (row.value if row is not None else OFF) == value:
        return False
    if row is None:
        row = SiteSetting(key=STAFF_TWO_FACTOR, value=value)
        db.session.add(row)
    row.value, row.updated_by_id = value, actor.id
    audit.record(actor, audit.SETTING_CHANGE, None, target_type="setting", label=STAFF_TWO_FACTOR,
                 details=value)
    db.session.commit()
    return True
