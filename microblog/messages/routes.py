"""Private messages: conversations, threads, writing to someone, marking a thread read."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.exceptions import DomainError
from microblog.forms import MarkReadForm, submitted
from microblog.messages.forms import MessageForm
from microblog.pagination import paginate, requested_page
from microblog.services import blocks, messages
from microblog.web import badge_response, user_or_404, wants_json

bp = Blueprint("messages", __name__)


@bp.route("/messages")
@login_required
def conversations():
    """Your conversations, grouped by the other person, the most recent first."""
    per_page = current_app.config["MESSAGES_PER_PAGE"]
    page = paginate(current_user.conversations_select(), requested_page(), per_page)
    senders = [m.sender_id for m in page.items if m.recipient_id == current_user.id]
    unread = messages.unread_from(current_user, senders)
    return render_template("messages/conversations.html", title=_("Messages"), page=page, unread=unread)


@bp.route("/messages/<username>", methods=["GET", "POST"])
@login_required
def thread(username: str):
    """The conversation with one person: a page of messages, oldest at the top, and the reply form.

    The reply form posts here, so a refused reply (empty, too long) comes back with the conversation
    still on screen and the error beside the field, instead of on a page of its own.
    """
    person = user_or_404(username)
    if person.id == current_user.id:
        return redirect(url_for("messages.conversations"))
    form = MessageForm()
    if submitted(form, lambda: messages.send_message(current_user, person, form.message.data)):
        flash(_("Your message to %(username)s has been sent.", username=person.username), "success")
        return redirect(url_for("messages.thread", username=person.username))
    per_page = current_app.config["MESSAGES_PER_PAGE"]
    page = paginate(current_user.thread_select(person), requested_page(), per_page)
    unread = [m.id for m in page.items if m.recipient_id == current_user.id and m.read_at is None]
    blocked_them, blocked_me = blocks.block_state(current_user, person)
    return render_template(
        "messages/thread.html", title=_("Conversation with %(username)s", username=person.username),
        person=person, page=page, thread=list(reversed(page.items)), unread=set(unread),
        mark_form=MarkReadForm(formdata=None, up_to=max(unread)) if unread else None,
        form=form, blocked_them=blocked_them, blocked_me=blocked_me,
    )


@bp.route("/messages/<username>/read", methods=["POST"])
@login_required
def mark_thread_read(username: str):
    """Mark what this person sent you as read, up to the newest message you were shown."""
    person = user_or_404(username)
    form = MarkReadForm()
    if not form.validate_on_submit():
        abort(400)
    messages.mark_thread_read(current_user, person, form.up_to.data)
    if wants_json():
        return badge_response(current_user.id)
    return redirect(url_for("messages.thread", username=person.username))


@bp.route("/send_message/<username>", methods=["GET", "POST"])
@login_required
def send_message(username: str):
    """Write to someone: the form, and sending it."""
    person = user_or_404(username)
    form = MessageForm()
    if submitted(form, lambda: messages.send_message(current_user, person, form.message.data)):
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
