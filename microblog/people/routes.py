"""Follow, unfollow, block and unblock: POST-only buttons on profiles, each back to the profile.

Each action is one service call; a broken rule (following yourself, someone who blocked you) comes
back as a flash message.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from microblog import ratelimits
from microblog.exceptions import DomainError
from microblog.forms import EmptyForm
from microblog.models import User
from microblog.services import blocks, follows
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
