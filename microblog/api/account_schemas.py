"""API schemas of the account's own security: two-factor sign-in, passkeys, the email address, sessions.

Kept apart from ``schemas.py`` (the site's content and moderation) so each stays readable.
"""

from __future__ import annotations

import marshmallow as ma

from microblog.api.schemas import LinksSchema, MetaSchema, StrictSchema
from microblog.models import EMAIL_MAX
from microblog.services.accounts import PASSWORD_MAX


class TwoFactorStatusSchema(ma.Schema):
    enabled = ma.fields.Boolean(required=True)
    enabled_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "When it was turned on"})
    recovery_codes_left = ma.fields.Integer(required=True, metadata={"description": "Unused recovery codes"})
    required = ma.fields.Boolean(
        required=True, metadata={"description": "The site requires it of your role (moderators and admins)"})


class EmailChangeRequestSchema(StrictSchema):
    email = ma.fields.String(required=True, metadata={"format": "email", "maxLength": EMAIL_MAX})
    password = ma.fields.String(required=True, load_only=True, metadata={
        "maxLength": PASSWORD_MAX, "description": "Your current password"})
    otp = ma.fields.String(load_only=True, metadata={
        "maxLength": 64, "description": "With two-factor sign-in on: a current code, or a recovery code"})


class PendingEmailSchema(ma.Schema):
    email = ma.fields.String(required=True, metadata={"description": "The address waiting for its link"})
    requested_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(required=True,
                                         metadata={"description": "When the link stops working"})


class EmailStateSchema(ma.Schema):
    email = ma.fields.String(required=True, metadata={"description": "Your address now"})
    confirmed = ma.fields.Boolean(required=True)
    pending = ma.fields.Nested(PendingEmailSchema, allow_none=True, required=True, metadata={
        "description": "A change waiting for the new address to confirm it (its link), or null"})


# -- signed-in sessions ---------------------------------------------------------------------------
class SessionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    label = ma.fields.String(required=True,
                             metadata={"description": 'Browser and system, e.g. "Firefox on Linux"'})
    user_agent = ma.fields.String(required=True)
    ip_address = ma.fields.String(allow_none=True, required=True, metadata={"description": "Last seen from"})
    created_at = ma.fields.AwareDateTime(required=True, metadata={"description": "When it signed in"})
    last_seen_at = ma.fields.AwareDateTime(required=True,
                                           metadata={"description": "Last active (to within 5 minutes)"})
    remembered = ma.fields.Boolean(required=True, metadata={"description": 'Signed in with "remember me"'})


class SessionListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SessionSchema), required=True)
    _meta = ma.fields.Nested(MetaSchema, required=True)
    _links = ma.fields.Nested(LinksSchema, required=True)


# -- passkeys --------------------------------------------------------------------------------------
class PasskeySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True, metadata={"description": "The name its owner gave it"})
    created_at = ma.fields.AwareDateTime(required=True)
    last_used_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "Its last sign-in"})
    transports = ma.fields.Method("transport_list", required=True, metadata={
        "description": "How the browser reaches the authenticator (internal, usb, nfc, ble, hybrid)"})
    backup_eligible = ma.fields.Boolean(required=True, metadata={"description": "A synced passkey"})
    backed_up = ma.fields.Boolean(required=True)

    def transport_list(self, passkey) -> list[str]:
        return [t for t in passkey.transports.split(",") if t]


class PasskeyListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PasskeySchema), required=True)
    _meta = ma.fields.Nested(MetaSchema, required=True)
    _links = ma.fields.Nested(LinksSchema, required=True)


# -- the account itself: leaving ------------------------------------------------------------------
class AccountSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    deletion_due_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "When the account will be deleted, if its owner asked; "
                                                  "signing in before then cancels it"})


class LeaveAccountSchema(StrictSchema):
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(max=PASSWORD_MAX))
    otp = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=64),
                           metadata={"description": "A two-factor code (or a recovery code), for accounts "
                                                    "with two-factor authentication"})


class DeletionScheduledSchema(ma.Schema):
    deletion_due_at = ma.fields.AwareDateTime(required=True)
    message = ma.fields.String(required=True)
