"""Notifications: the list, marking them read, and the count the navbar's bell polls."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog import sessions
from microblog.forms import MarkReadForm
from microblog.pagination import paginate, requested_page
from microblog.services import notifications as notification_service
from microblog.web import badge_response, quiet, wants_json

bp = Blueprint("notifications", __name__)


@bp.app_template_global()
def unread_notification_badge() -> dict:
    """The navbar's badge when the page is drawn; notifications.js keeps it current after that.

    The count was read with the account (sessions.load_user) when this request signed it in."""
    count = g.get("unread_notifications")
    if count is None:
        count = notification_service.unread_count(current_user.id)
    return notification_service.badge(count)


@bp.route("/notifications")
@login_required
def show_notifications():
    """Your notifications, newest first; the page marks what it shows as read (notifications.js)."""
    page = paginate(current_user.notifications_select(), requested_page(),
                    current_app.config["NOTIFICATIONS_PER_PAGE"])
    unread = [n.id for n in page.items if n.read_at is None]
    return render_template(
        "notifications/index.html", title=_("Notifications"), page=page, unread=set(unread),
        lines=notification_service.group_page(page.items),
        mark_form=MarkReadForm(up_to=max(unread)) if unread else None,
    )


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_notifications_read():
    """Mark your notifications read, up to the newest one you were shown (all of them without ``up_to``)."""
    form = MarkReadForm()
    if not form.validate_on_submit():
        abort(400)
    notification_service.mark_all_read(current_user, form.up_to.data)
    if wants_json():
        return badge_response(current_user.id)
    return redirect(url_for("notifications.show_notifications"))


def _signed_in_unread_count() -> int | None:
    """The signed-in user's unread count, or None for a visitor or an ended session.

    Every open tab asks for the count, so the id and session version are read from the signed session
    cookie and checked in the same single query that counts (no separate lookup of the account); a
    visitor with only a remember-me cookie goes through Flask-Login once, which restores the session.
    """
    parsed = sessions.parse_session_id(session.get("_user_id"))
    if parsed is None:
        if not current_user.is_authenticated:
            return None
        parsed = current_user.id, current_user.session_version, getattr(current_user, "session_key", None)
    user_id, version, key = parsed
    return notification_service.unread_count_in_session(user_id, version, key)


@bp.route("/notifications/count.json")
@quiet
def notification_count():
    """The unread count for the navbar badge, polled by notifications.js; writes nothing."""
    count = _signed_in_unread_count()
    if count is None:
        abort(401)
    response = jsonify(notification_service.badge(count))
    response.cache_control.no_store = True
    return response
