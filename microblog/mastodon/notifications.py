"""Mastodon's notifications API: the list, one notification, dismissing one or all, the unread count
(docs: methods/notifications).

Reading them here marks nothing read: the web's unread badge stays as it was (Mastodon keeps an app's
place with markers, not by reading).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint

from microblog.extensions import db
from microblog.mastodon import notification_entity
from microblog.mastodon.auth import current_mastodon_user, mastodon_abort, oauth_required, params
from microblog.mastodon.listing import list_response, page_of, parse_id, window
from microblog.mastodon.paths import route
from microblog.models import Notification, User
from microblog.services import notifications

bp = Blueprint("mastodon_notifications", __name__)

# Mastodon's notification pages: 40 by default, 80 at most (4.1.0); its unread count: 100, 1000 at most.
PAGE, PAGE_MAX = 40, 80
COUNT, COUNT_MAX = 100, 1000
NOT_FOUND = "Record not found"


def _listed(user: User, values: dict[str, Any]) -> sa.Select | None:
    """The select of what ``types[]``, ``exclude_types[]`` and ``account_id`` ask for; None when
    ``account_id`` names nobody (no notification can be from them)."""
    kinds = notification_entity.kinds(values.get("types"), values.get("exclude_types"))
    raw_account = values.get("account_id")
    actor_id = parse_id(raw_account) if raw_account not in (None, "") else None
    if raw_account not in (None, "") and actor_id is None:
        return None
    return notifications.listed_select(user, kinds, actor_id, one_per_post=True)


def _notification_or_404(user: User, raw_id: str) -> dict[str, Any]:
    """The entity of the user's notification ``raw_id`` that the list would show, or a 404."""
    notification_id = parse_id(raw_id)
    query = notifications.listed_select(user, notification_entity.kinds(), one_per_post=True)
    found = db.session.scalar(query.where(Notification.id == notification_id)) if notification_id else None
    shown = notification_entity.notifications(user, [found]) if found is not None else []
    if not shown:
        mastodon_abort(404, NOT_FOUND)
    return shown[0]


@route(bp, "/api/v1/notifications", methods=["GET"])
@oauth_required("read:notifications")
def get_notifications():
    """Your notifications, newest first, a page at a time (``Link`` header)."""
    user = current_mastodon_user()
    query = _listed(user, params())
    rows = page_of(query, Notification.id, window(PAGE, PAGE_MAX)) if query is not None else []
    # The page's ids, not its entities', page on: a row left out while building still moves the cursor.
    first, last = (str(rows[0].id), str(rows[-1].id)) if rows else (None, None)
    return list_response(notification_entity.notifications(user, rows), first, last)


@route(bp, "/api/v1/notifications/unread_count", methods=["GET"])
@oauth_required("read:notifications")
def get_unread_count():
    """How many of the notifications the list would show are unread, counted up to ``limit``."""
    user = current_mastodon_user()
    query = _listed(user, params())
    cap = window(COUNT, COUNT_MAX).limit
    return {"count": notifications.count_unread(query, cap) if query is not None else 0}


@route(bp, "/api/v1/notifications/<raw_id>", methods=["GET"])
@oauth_required("read:notifications")
def get_notification(raw_id: str):
    """One of your notifications."""
    return _notification_or_404(current_mastodon_user(), raw_id)


@route(bp, "/api/v1/notifications/clear", methods=["POST"])
@oauth_required("write:notifications")
def clear_notifications():
    """Delete all your notifications."""
    notifications.clear(current_mastodon_user())
    return {}


@route(bp, "/api/v1/notifications/<raw_id>/dismiss", methods=["POST"])
@oauth_required("write:notifications")
def dismiss_notification(raw_id: str):
    """Delete one of your notifications (another's is 404, as one that does not exist)."""
    notification_id = parse_id(raw_id)
    if notification_id is None or not notifications.dismiss(current_mastodon_user(), notification_id):
        mastodon_abort(404, NOT_FOUND)
    return {}
