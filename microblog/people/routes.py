"""Follow, unfollow, block, unblock, mute and unmute: POST-only buttons on profiles and lists, each back
to the page it was on; the settings page of muted and blocked people; who to follow; name suggestions
for the post composer.

Each action is one service call; a broken rule (following yourself, someone who blocked you) comes
back as a flash message.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from microblog import ratelimits
from microblog.avatars import avatar_url
from microblog.exceptions import DomainError, http_status
from microblog.extensions import db
from microblog.forms import EmptyForm
from microblog.models import User
from microblog.redirects import safe_next
from microblog.services import blocks, follow_requests, follows, mutes, relationships
from microblog.services.suggestions import who_to_follow
from microblog.services.users_query import username_prefix_select
from microblog.web import user_or_404, wants_json

bp = Blueprint("people", __name__)


def _act(username: str, action: Callable[[User, User], object], done: Callable[[str], str],
         category: str = "info", *, follow_button: bool = False) -> Response:
    """Run ``action(current_user, person)`` for a valid button press, flash the outcome, go back (to a
    safe local ``next``, else the profile). A fetch call (``Accept: application/json``: follow.js,
    confirm.js) gets the outcome as ``{"message": ...}`` instead, with a 2xx only when the action was
    done, and nothing flashed; a follow button's (``follow_button``) also gets ``state``: where the follow
    stands now ("following", "requested" or "none"), which the button shows."""
    person = user_or_404(username)
    message, status = None, 400
    if EmptyForm().validate_on_submit():
        try:
            action(current_user, person)
        except DomainError as exc:
            message, category, status = exc.message, "danger", http_status(exc)
        else:
            message, status = done(person.username), 200
    if wants_json():
        answer = {"message": message}
        if follow_button:
            answer["state"] = _follow_state(person)
        return make_response(jsonify(answer), status)
    if message is not None:
        flash(message, category)
    # e.g. the list the button was on, the settings page of mutes and blocks
    return redirect(safe_next(request.form.get("next"), url_for("main.user", username=person.username)))


def _follow_state(person: User) -> str:
    standing = relationships.relationship(current_user, person)
    return "following" if standing.following else "requested" if standing.requested else "none"


def _confirm(username: str, title: Callable[[str], str], explanation: str, endpoint: str, button: str) -> str:
    """The page that asks before a block or an unblock (its button without JavaScript); the change
    stays a POST to ``endpoint``, carrying the page to come back to."""
    person = user_or_404(username)
    back = safe_next(request.args.get("next"), url_for("main.user", username=person.username))
    return render_template("confirm.html", title=title(person.username), explanation=explanation,
                           person=person, action=url_for(endpoint, username=person.username), button=button,
                           next=back, cancel=back, form=EmptyForm())


@bp.route("/follow/<username>", methods=["POST"])
@login_required
@ratelimits.follows_per_account
def follow(username: str) -> Response:
    """Follow someone (POST with a CSRF token)."""
    return _act(username, follows.follow, _followed, "success", follow_button=True)


def _followed(name: str) -> str:
    if follow_requests.is_pending(current_user, user_or_404(name)):
        return _("You asked to follow %(username)s: the follow begins when they approve it.", username=name)
    return _("You are following %(username)s.", username=name)


@bp.route("/follow/<username>/withdraw", methods=["POST"])
@login_required
def withdraw_request(username: str) -> Response:
    """Cancel your pending request to follow someone (POST with a CSRF token)."""
    return _act(username, follow_requests.withdraw,
                lambda name: _("Your request to follow %(username)s is withdrawn.", username=name),
                follow_button=True)


@bp.route("/unfollow/<username>", methods=["POST"])
@login_required
def unfollow(username: str) -> Response:
    """Stop following someone (POST with a CSRF token)."""
    return _act(username, follows.unfollow,
                lambda name: _("You are not following %(username)s.", username=name), follow_button=True)


@bp.route("/block/<username>/confirm")
@login_required
def confirm_block(username: str) -> str:
    """Ask before blocking someone."""
    return _confirm(username, lambda name: _("Block %(username)s?", username=name),
                    _("Neither of you will be able to follow or message the other, the follows between you "
                      "end, and you will not see their posts. They are not told. You can unblock them "
                      "later, but the follows that end now will not come back."),
                    "people.block", _("Block"))


@bp.route("/block/<username>", methods=["POST"])
@login_required
def block(username: str) -> Response:
    """Block someone (POST with a CSRF token): no messages or follows between you, none of their posts."""
    return _act(username, blocks.block_user, lambda name: _("You have blocked %(username)s.", username=name))


@bp.route("/unblock/<username>/confirm")
@login_required
def confirm_unblock(username: str) -> str:
    """Ask before lifting a block, saying what it does not bring back."""
    return _confirm(username, lambda name: _("Unblock %(username)s?", username=name),
                    _("You will both be able to follow and message each other again. The follows that the "
                      "block ended are not restored: follow each other again if you want to."),
                    "people.unblock", _("Unblock"))


@bp.route("/unblock/<username>", methods=["POST"])
@login_required
def unblock(username: str) -> Response:
    """Lift a block (POST with a CSRF token). The follows the block ended stay ended, and it says so."""
    return _act(username, blocks.unblock_user,
                lambda name: _("You have unblocked %(username)s. The follows that the block ended are not "
                               "restored.", username=name))


@bp.route("/mute/<username>", methods=["POST"])
@login_required
def mute(username: str) -> Response:
    """Mute someone (POST with a CSRF token): their posts leave your lists; they are not told."""
    return _act(username, mutes.mute, lambda name: _("You have muted %(username)s.", username=name))


@bp.route("/unmute/<username>", methods=["POST"])
@login_required
def unmute(username: str) -> Response:
    """Lift a mute (POST with a CSRF token)."""
    return _act(username, mutes.unmute, lambda name: _("You have unmuted %(username)s.", username=name))


@bp.route("/settings/muted")
@login_required
def muted() -> str:
    """The people you muted and those you blocked, each with a button to undo it."""
    muted_people, blocked_people = mutes.muted_and_blocked(current_user)
    return render_template("people/muted.html", title=_("Muted and blocked people"), muted=muted_people,
                           blocked=blocked_people, form=EmptyForm())


@bp.route("/follow_requests")
@login_required
def show_follow_requests() -> str:
    """The requests to follow you that wait for your answer, each with Approve and Refuse buttons."""
    return render_template("people/follow_requests.html", title=_("Follow requests"),
                           pending=follow_requests.pending_for(current_user), form=EmptyForm())


def _answer(request_id: int, answer: Callable[[User, int], User], done: Callable[[User], str]) -> Response:
    """Approve or refuse request ``request_id`` (POST with a CSRF token), then back to the list."""
    if EmptyForm().validate_on_submit():
        try:
            asker = answer(current_user, request_id)
        except DomainError as exc:
            flash(exc.message, "danger")
        else:
            flash(done(asker), "success")
    return redirect(url_for("people.show_follow_requests"))


@bp.route("/follow_requests/<id:request_id>/approve", methods=["POST"])
@login_required
def approve_follow_request(request_id: int) -> Response:
    """Let the person who asked follow you."""
    return _answer(request_id, follow_requests.approve,
                   lambda asker: _("%(username)s now follows you.", username=asker.username))


@bp.route("/follow_requests/<id:request_id>/refuse", methods=["POST"])
@login_required
def refuse_follow_request(request_id: int) -> Response:
    """Turn the request down (the person who asked is not told)."""
    return _answer(request_id, follow_requests.refuse,
                   lambda asker: _("You refused the request of %(username)s.", username=asker.username))


@bp.app_context_processor
def follow_request_count() -> dict[str, Callable[[], int]]:
    """``pending_follow_requests()`` for templates: how many requests wait for the signed-in user (asked
    only where a template shows it)."""
    def count() -> int:
        return follow_requests.pending_count(current_user) if current_user.is_authenticated else 0
    return {"pending_follow_requests": count}


@bp.route("/people/suggestions")
def suggestions() -> str:
    """Who to follow: every account suggested to you (to a visitor: the active ones), with a reason."""
    viewer = current_user if current_user.is_authenticated else None
    return render_template("people/suggestions.html", title=_("Who to follow"), people=who_to_follow(viewer))


# Suggestions the composer shows at most.
SUGGESTIONS = 8


@bp.route("/users/autocomplete.json")
@login_required
@ratelimits.api_calls
def autocomplete() -> Response:
    """Up to 8 accounts whose name starts with ``q`` (any case), for the composer's @ suggestions."""
    query = username_prefix_select(request.args.get("q", ""), SUGGESTIONS)
    people = db.session.scalars(query).all() if query is not None else []
    response = jsonify([{"username": p.username, "avatar": avatar_url(p, 32)} for p in people])
    response.cache_control.private = True
    response.cache_control.max_age = 60
    return response
