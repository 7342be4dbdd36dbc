"""Follow, unfollow, block, unblock, mute and unmute: POST-only buttons on profiles, each back to the
profile; the settings page of muted and blocked people; name suggestions for the post composer.

Each action is one service call; a broken rule (following yourself, someone who blocked you) comes
back as a flash message.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from microblog import ratelimits
from microblog.avatars import avatar_url
from microblog.exceptions import DomainError
from microblog.extensions import db
from microblog.forms import EmptyForm
from microblog.models import User
from microblog.redirects import is_safe_local_path
from microblog.services import blocks, follows, mutes
from microblog.services.users_query import username_prefix_select
from microblog.web import user_or_404

bp = Blueprint("people", __name__)


def _act(username: str, action: Callable[[User, User], object], done: Callable[[str], str],
         category: str = "info") -> Response:
    """Run ``action(current_user, person)`` for a valid button press, flash the outcome, go back."""
    person = user_or_404(username)
    if EmptyForm().validate_on_submit():
        try:
            action(current_user, person)
        except DomainError as exc:
            flash(exc.message, "danger")
        else:
            flash(done(person.username), category)
    back = request.form.get("next")
    if back and is_safe_local_path(back):
        return redirect(back)  # e.g. the settings page that lists mutes and blocks
    return redirect(url_for("main.user", username=person.username))


@bp.route("/follow/<username>", methods=["POST"])
@login_required
@ratelimits.follows_per_account
def follow(username: str) -> Response:
    """Follow someone (POST with a CSRF token)."""
    return _act(username, follows.follow, lambda name: _("You are following %(username)s.", username=name),
                "success")


@bp.route("/unfollow/<username>", methods=["POST"])
@login_required
def unfollow(username: str) -> Response:
    """Stop following someone (POST with a CSRF token)."""
    return _act(username, follows.unfollow,
                lambda name: _("You are not following %(username)s.", username=name))


@bp.route("/block/<username>", methods=["POST"])
@login_required
def block(username: str) -> Response:
    """Block someone (POST with a CSRF token): no messages or follows between you, none of their posts."""
    return _act(username, blocks.block_user, lambda name: _("You have blocked %(username)s.", username=name))


@bp.route("/unblock/<username>", methods=["POST"])
@login_required
def unblock(username: str) -> Response:
    """Lift a block (POST with a CSRF token)."""
    return _act(username, blocks.unblock_user,
                lambda name: _("You have unblocked %(username)s.", username=name))


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
