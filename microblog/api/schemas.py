"""API schemas: what the JSON looks like going out, and the shape (not the rules) of what comes in.

The rules themselves (lengths, formats, uniqueness) live in the services, shared with the web forms.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for

from microblog.api.attachments import AttachmentsField, ModeratedMediaSchema
from microblog.api.links import post_url, user_links, user_url
from microblog.models import (
    ABOUT_ME_MAX,
    EMAIL_MAX,
    MEDIA_PER_POST_CEILING,
    MESSAGE_BODY_CEILING,
    NOTIFICATION_KINDS,
    OUTBOX_STATUSES,
    POST_BODY_CEILING,
    REASON_MAX,
    REPORT_DISMISSED,
    REPORT_OPEN,
    REPORT_POST,
    REPORT_RESOLVED,
    REPORT_STATUSES,
    REPORT_USER,
    ROLES,
    SUMMARY_MAX,
    USERNAME_MAX,
)
from microblog.paging import MAX_PAGE
from microblog.services.accounts import PASSWORD_MAX, PASSWORD_MIN, USERNAME_RE
from microblog.services.audit import ACTIONS as AUDIT_ACTIONS
from microblog.services.posts import VISIBILITIES
from microblog.textutil import has_lone_surrogates, invalid_character_message

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25


class StrictSchema(ma.Schema):
    """The base of every request body: unknown fields are refused, and so is text no database can store."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def refuse_lone_surrogates(self, data: Any, **_kwargs: Any) -> Any:
        """422 naming each text field that holds a lone surrogate (a ``"\\ud800"`` escape in the JSON).

        Checked before anything else reads the text: services would send it on to the database, whose
        driver fails to encode it (a 500). Bodies are flat objects, so only top-level values are read.
        """
        if not isinstance(data, dict):
            return data  # not an object: marshmallow refuses it
        bad = [key for key, value in data.items() if isinstance(value, str) and has_lone_surrogates(value)]
        if bad:
            raise ma.ValidationError({str(key): [invalid_character_message()] for key in bad})
        return data


class PaginationArgs(ma.Schema):
    """Query arguments of every list. Unknown arguments are ignored (cache-busters are common)."""

    class Meta:
        unknown = ma.EXCLUDE

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, MAX_PAGE))
    per_page = ma.fields.Integer(load_default=DEFAULT_PER_PAGE, validate=ma.validate.Range(1, MAX_PER_PAGE))
    # Opaque cursors from ``_links`` (long lists are paged by keyset); a bad one is a 404.
    before = ma.fields.String(metadata={"description": "Cursor from _links.next (older items)"})
    after = ma.fields.String(metadata={"description": "Cursor from _links.prev (newer items)"})


class LinksSchema(ma.Schema):
    self = ma.fields.String(required=True)
    next = ma.fields.String(allow_none=True)
    prev = ma.fields.String(allow_none=True)


class MetaSchema(ma.Schema):
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total_items = ma.fields.Integer(metadata={"description": "Only where counting is cheap"})


class UserSummarySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    about_me = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    last_seen = ma.fields.AwareDateTime(required=True)
    _links = ma.fields.Method("links", required=True)

    def links(self, user) -> dict:
        return user_links(user)


class UserSchema(UserSummarySchema):
    post_count = ma.fields.Integer(required=True)
    follower_count = ma.fields.Integer(required=True)
    following_count = ma.fields.Integer(required=True)


class PostSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    body = ma.fields.String(required=True)
    timestamp = ma.fields.AwareDateTime(required=True)
    language = ma.fields.String(allow_none=True)
    # Only its author and the moderators are ever shown a hidden post (Post.visible_to).
    hidden = ma.fields.Function(lambda post: post.hidden_at is not None, required=True,
                                metadata={"description": "A moderator hid it"})
    author = ma.fields.Nested(UserSummarySchema, required=True)
    # The conversation (see api/threads.py): null where it starts one, or when the parent was deleted.
    in_reply_to_id = ma.fields.Integer(allow_none=True, required=True)
    in_reply_to_user_id = ma.fields.Integer(allow_none=True, required=True)
    is_reply = ma.fields.Boolean(required=True,
                                 metadata={"description": "True also when the parent was deleted"})
    visibility = ma.fields.String(required=True, metadata={"enum": list(VISIBILITIES)})
    spoiler_text = ma.fields.String(attribute="summary", allow_none=True, required=True,
                                    metadata={"description": "The content warning, if any"})
    edited_at = ma.fields.AwareDateTime(allow_none=True, required=True)
    reply_count = ma.fields.Integer(required=True)
    like_count = ma.fields.Integer(required=True)
    repost_count = ma.fields.Integer(required=True)
    media_attachments = AttachmentsField(required=True, metadata={
        "description": "Its images, in order (empty when it has none)"})
    _links = ma.fields.Method("links", required=True)

    def links(self, post) -> dict:
        return {"self": post_url(post.id), "author": user_url(post.user_id)}


class UserListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(UserSummarySchema), required=True)
    _meta = ma.fields.Nested(MetaSchema, required=True)
    _links = ma.fields.Nested(LinksSchema, required=True)


class PostListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PostSchema), required=True)
    _meta = ma.fields.Nested(MetaSchema, required=True)
    _links = ma.fields.Nested(LinksSchema, required=True)


# Documented here from the services' own constants; enforced by the services (one rule, one place),
# whose messages come back as 422 with the field named.
USERNAME_DOC = {"pattern": USERNAME_RE.pattern, "minLength": 3, "maxLength": USERNAME_MAX}
PASSWORD_DOC = {"minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX}


class NewUserSchema(StrictSchema):
    username = ma.fields.String(required=True, metadata=USERNAME_DOC)
    email = ma.fields.String(required=True, metadata={"format": "email", "maxLength": EMAIL_MAX})
    password = ma.fields.String(required=True, load_only=True, metadata=PASSWORD_DOC)


class UpdateUserSchema(StrictSchema):
    username = ma.fields.String(metadata=USERNAME_DOC)
    about_me = ma.fields.String(allow_none=True, metadata={"maxLength": ABOUT_ME_MAX})


class NewPostSchema(StrictSchema):
    body = ma.fields.String(required=True, metadata={
        "minLength": 1, "maxLength": POST_BODY_CEILING,
        "description": "Plain text; the site's limit (POST_MAX_LENGTH, 280 by default) applies.",
    })
    in_reply_to_id = ma.fields.Integer(allow_none=True, metadata={"description": "The post this one answers"})
    visibility = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(VISIBILITIES), metadata={
        "description": "public, unlisted or followers (default: your setting; followers under such a post)"})
    spoiler_text = ma.fields.String(allow_none=True, metadata={
        "maxLength": SUMMARY_MAX, "description": "An optional content warning shown before the text"})
    media_ids = ma.fields.List(ma.fields.Integer(), metadata={
        "maxItems": MEDIA_PER_POST_CEILING,
        "description": "Images you uploaded (POST /api/media) and have not posted yet, shown with the post "
                       "in this order: at most MEDIA_PER_POST (4 by default)"})


class SignUpSchema(ma.Schema):
    message = ma.fields.String(required=True, metadata={"description": "What happens next, for people"})


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)
    user_id = ma.fields.Integer(required=True, metadata={"description": "The id of the token's owner (you)"})


class MessageSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    body = ma.fields.String(required=True)
    timestamp = ma.fields.AwareDateTime(required=True)
    read_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "When the recipient read it"})
    sender = ma.fields.Nested(UserSummarySchema, required=True)
    recipient = ma.fields.Nested(UserSummarySchema, required=True)
    _links = ma.fields.Method("links", required=True)

    def links(self, message) -> dict:
        return {"sender": url_for("api_users.get_user", user_id=message.sender_id),
                "recipient": url_for("api_users.get_user", user_id=message.recipient_id)}


class MessageListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MessageSchema), required=True)
    _meta = ma.fields.Nested(MetaSchema, required=True)
    _links = ma.fields.Nested(LinksSchema, required=True)


class MessageArgs(PaginationArgs):
    user_id = ma.fields.Integer(metadata={"description": "Only the conversation with this user"})


class NewMessageSchema(StrictSchema):
    recipient_id = ma.fields.Integer(required=True)
    body = ma.fields.String(required=True, metadata={
        "minLength": 1, "maxLength": MESSAGE_BODY_CEILING,
        "description": "Plain text; the site's limit (MESSAGE_MAX_LENGTH, 1000 by default) applies.",
    })


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(NOTIFICATION_KINDS)})
    created_at = ma.fields.AwareDateTime(required=True)
    read_at = ma.fields.AwareDateTime(allow_none=True)
    actor = ma.fields.Nested(UserSummarySchema, allow_none=True, metadata={"description": "Who caused it"})
    payload = ma.fields.Dict(allow_none=True, metadata={"description": "Details by kind, e.g. message_id"})
    post_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "The post it is about (reply, mention, like, repost)"})


class NotificationListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NotificationSchema), required=True)
    _meta = ma.fields.Nested(MetaSchema, required=True)
    _links = ma.fields.Nested(LinksSchema, required=True)


class NotificationArgs(PaginationArgs):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "Only unread notifications"})


# -- moderation --------------------------------------------------------------------------------
REASON_DOC = {"minLength": 1, "maxLength": REASON_MAX, "description": "Why: written to the audit log"}


class ReasonSchema(StrictSchema):
    reason = ma.fields.String(required=True, metadata=REASON_DOC)


class OptionalReasonSchema(StrictSchema):
    reason = ma.fields.String(allow_none=True, metadata={"maxLength": REASON_MAX})


class RoleChangeSchema(StrictSchema):
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    reason = ma.fields.String(allow_none=True, metadata={"maxLength": REASON_MAX})


class HandleReportSchema(StrictSchema):
    outcome = ma.fields.String(
        required=True, validate=ma.validate.OneOf((REPORT_RESOLVED, REPORT_DISMISSED)),
        metadata={"description": "resolved: action was taken; dismissed: none needed"},
    )
    note = ma.fields.String(allow_none=True, metadata={"maxLength": REASON_MAX,
                                                       "description": "Shown to the reporter"})


class NewReportSchema(StrictSchema):
    """What to report: exactly one of ``post_id`` and ``user_id``."""

    post_id = ma.fields.Integer(metadata={"description": "The post to report"})
    user_id = ma.fields.Integer(metadata={"description": "The account to report"})
    reason = ma.fields.String(required=True, metadata={"minLength": 1, "maxLength": REASON_MAX})

    @ma.validates_schema
    def one_target(self, data: dict, **_kwargs) -> None:
        if ("post_id" in data) == ("user_id" in data):
            raise ma.ValidationError("Give either post_id or user_id.")


class ReportSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": [REPORT_POST, REPORT_USER]})
    status = ma.fields.String(required=True, metadata={"enum": list(REPORT_STATUSES)})
    reason = ma.fields.String(required=True)
    target = ma.fields.String(required=True, attribute="target_label",
                              metadata={"description": "The account's name, or the post's author and text"})
    post_id = ma.fields.Integer(allow_none=True)
    user_id = ma.fields.Integer(allow_none=True,
                                metadata={"description": "The account, or the post's author"})
    reporter = ma.fields.Nested(UserSummarySchema, allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    handled_at = ma.fields.AwareDateTime(allow_none=True)
    note = ma.fields.String(allow_none=True)


class ReportListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ReportSchema), required=True)
    _meta = ma.fields.Nested(MetaSchema, required=True)
    _links = ma.fields.Nested(LinksSchema, required=True)


class ReportArgs(PaginationArgs):
    status = ma.fields.String(load_default=REPORT_OPEN, validate=ma.validate.OneOf(REPORT_STATUSES))


class ModeratedPostSchema(PostSchema):
    hidden_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "When a moderator hid it"})
    media_attachments = AttachmentsField(ModeratedMediaSchema, required=True, metadata={
        "description": "Its images, in order, hidden ones with their files too"})


class ModeratedUserSchema(UserSchema):
    role = ma.fields.String(required=True, metadata={"enum": list(ROLES)})
    suspended_at = ma.fields.AwareDateTime(allow_none=True)
    suspension_reason = ma.fields.String(allow_none=True)


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    actor_id = ma.fields.Integer(allow_none=True, metadata={"description": "None: the command line"})
    actor_name = ma.fields.String(allow_none=True)
    action = ma.fields.String(required=True, metadata={"enum": list(AUDIT_ACTIONS)})
    target_type = ma.fields.String(required=True)
    target_id = ma.fields.Integer(allow_none=True)
    target_label = ma.fields.String(required=True)
    details = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)


class AuditListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AuditEntrySchema), required=True)
    _meta = ma.fields.Nested(MetaSchema, required=True)
    _links = ma.fields.Nested(LinksSchema, required=True)


class OutboxMessageSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    recipient = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(OUTBOX_STATUSES)})
    attempts = ma.fields.Integer(required=True)
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    next_attempt_at = ma.fields.AwareDateTime(required=True)
    sent_at = ma.fields.AwareDateTime(allow_none=True)


class OutboxListSchema(ma.Schema):
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True,
                            metadata={"description": "Messages by status"})
    items = ma.fields.List(ma.fields.Nested(OutboxMessageSchema), required=True)
    _meta = ma.fields.Nested(MetaSchema, required=True)
    _links = ma.fields.Nested(LinksSchema, required=True)


class OutboxArgs(PaginationArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(OUTBOX_STATUSES))


class TwoFactorStatusSchema(ma.Schema):
    enabled = ma.fields.Boolean(required=True)
    enabled_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "When it was turned on"})
    recovery_codes_left = ma.fields.Integer(required=True, metadata={"description": "Unused recovery codes"})
    required = ma.fields.Boolean(
        required=True, metadata={"description": "The site requires it of your role (moderators and admins)"})


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
