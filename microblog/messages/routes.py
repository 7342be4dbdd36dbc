"""Private messages, notifications and blocking: conversations, threads, the bell's count, block buttons."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog import sessions
from microblog.exceptions import DomainError
from microblog.forms import EmptyForm, show_error
from microblog.messages.forms import MarkReadForm, MessageForm
from microblog.models import User
from microblog.pagination import paginate, requested_page
from microblog.services import accounts, blocks, messages
from microblog.services import notifications as notification_service
from microblog.web import quiet, wants_json

bp = Blueprint("messages", __name__)


def _user_or_404(username: str) -> User:
    return accounts.get_user_by_username(username) or abort(404)


@bp.app_template_global()
def unread_notification_badge() -> dict:
    """The navbar's badge when the page is drawn; notifications.js keeps it current after that."""
    return notification_service.badge(notification_service.unread_count(current_user.id))


def _badge_response() -> Response:
    response = jsonify(notification_service.badge(notification_service.unread_count(current_user.id)))
    response.cache_control.no_store = True
    return response


@bp.route("/messages")
@login_required
def conversations():
    """Your conversations, grouped by the other person, the most recent first."""
    per_page = current_app.config["MESSAGES_PER_PAGE"]
    page = paginate(current_user.conversations_select(), requested_page(), per_page)
    senders = [m.sender_id for m in page.items if m.recipient_id == current_user.id]
    unread = messages.unread_from(current_user, senders)
    return render_template("messages/conversations.html", title=_("Messages"), page=page, unread=unread)


@bp.route("/messages/<username>")
@login_required
def thread(username: str):
    """The conversation with one person: a page of messages, oldest at the top, and the reply form."""
    person = _user_or_404(username)
    if person.id == current_user.id:
        return redirect(url_for("messages.conversations"))
    per_page = current_app.config["MESSAGES_PER_PAGE"]
    page = paginate(current_user.thread_select(person), requested_page(), per_page)
    unread = [m.id for m in page.items if m.recipient_id == current_user.id and m.read_at is None]
    blocked_them, blocked_me = blocks.block_state(current_user, person)
    return render_template(
        "messages/thread.html", title=_("Conversation with %(username)s", username=person.username),
        person=person, page=page, thread=list(reversed(page.items)), unread=set(unread),
        mark_form=MarkReadForm(up_to=max(unread)) if unread else None,
        form=MessageForm(), blocked_them=blocked_them, blocked_me=blocked_me,
    )


@bp.route("/messages/<username>/read", methods=["POST"])
@login_required
def mark_thread_read(username: str):
    """Mark what this person sent you as read, up to the newest message you were shown."""
    person = _user_or_404(username)
    form = MarkReadForm()
    if not form.validate_on_submit():
        abort(400)
    messages.mark_thread_read(current_user, person, form.up_to.data)
    if wants_json():
        return _badge_response()
    return redirect(url_for("messages.thread", username=person.username))


@bp.route("/send_message/<username>", methods=["GET", "POST"])
@login_required
def send_message(username: str):
    """Write to someone: the form, and sending it."""
    person = _user_or_404(username)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            messages.send_message(current_user, person, form.message.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Your message to %(username)s has been sent.", username=person.username), "success")
            return redirect(url_for("messages.thread", username=person.username))
    refusal = None
    try:
        messages.check_can_message(current_user, person)
    except DomainError as exc:
        refusal = exc.message
    title = _("Message %(username)s", username=person.username)
    return render_template("messages/send_message.html", title=title, person=person, form=form,
                           refusal=refusal)


@bp.route("/notifications", endpoint="notifications")
@login_required
def show_notifications():
    """Your notifications, newest first; the page marks what it shows as read (notifications.js)."""
    page = paginate(current_user.notifications_select(), requested_page(),
                    current_app.config["NOTIFICATIONS_PER_PAGE"])
    unread = [n.id for n in page.items if n.read_at is None]
    return render_template(
        "messages/notifications.html", title=_("Notifications"), page=page, unread=set(unread),
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
        return _badge_response()
    return redirect(url_for("messages.notifications"))


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
        parsed = current_user.id, current_user.session_version
    return notification_service.unread_count_in_session(*parsed)


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


@bp.route("/block/<username>", methods=["POST"])
@login_required
def block(username: str):
    """Block someone (POST with a CSRF token): no messages or follows between you, none of their posts."""
    person = _user_or_404(username)
    if EmptyForm().validate_on_submit():
        try:
            blocks.block_user(current_user, person)
        except DomainError as exc:
            flash(exc.message, "danger")
        else:
            flash(_("You have blocked %(username)s.", username=person.username), "info")
    return redirect(url_for("main.user", username=person.username))


@bp.route("/unblock/<username>", methods=["POST"])
@login_required
def unblock(username: str):
    """Lift a block (POST with a CSRF token)."""
    person = _user_or_404(username)
    if EmptyForm().validate_on_submit():
        blocks.unblock_user(current_user, person)
        flash(_("You have unblocked %(username)s.", username=person.username), "info")
    return redirect(url_for("main.user", username=person.username))
