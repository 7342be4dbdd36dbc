"""Like, repost and bookmark buttons (POST with a CSRF token, each back to where it was pressed), and
``/bookmarks``, your private list of kept posts.

Each button is one service call. A post you may not see, or that does not exist, is a 404; a refused
repost (a followers-only post) comes back as a flash message.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from microblog.exceptions import DomainError, NotFound
from microblog.forms import EmptyForm
from microblog.models import User
from microblog.pagination import requested_page, requested_position
from microblog.paging import PageNotFound
from microblog.redirects import is_safe_local_path
from microblog.services import reactions

bp = Blueprint("reactions", __name__)


def _act(post_id: int, action: Callable[[User, int], object]) -> Response:
    """Run ``action(current_user, post_id)`` for a valid button press and go back to the safe local
    ``next`` field, else to the post's permalink."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        action(current_user, post_id)
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(exc.message, "danger")
    target = request.form.get("next")
    if not target or not is_safe_local_path(target):
        target = url_for("main.post", post_id=post_id)
    return redirect(target)


@bp.route("/post/<id:post_id>/like", methods=["POST"])
@login_required
def like(post_id: int) -> Response:
    """Like a post."""
    return _act(post_id, reactions.like)


@bp.route("/post/<id:post_id>/unlike", methods=["POST"])
@login_required
def unlike(post_id: int) -> Response:
    """Take a like back."""
    return _act(post_id, reactions.unlike)


@bp.route("/post/<id:post_id>/repost", methods=["POST"])
@login_required
def repost(post_id: int) -> Response:
    """Repost a post to your followers."""
    return _act(post_id, reactions.repost)


@bp.route("/post/<id:post_id>/unrepost", methods=["POST"])
@login_required
def unrepost(post_id: int) -> Response:
    """Take a repost back."""
    return _act(post_id, reactions.unrepost)


@bp.route("/post/<id:post_id>/bookmark", methods=["POST"])
@login_required
def bookmark(post_id: int) -> Response:
    """Keep a post in your bookmarks."""
    return _act(post_id, reactions.bookmark)


@bp.route("/post/<id:post_id>/unbookmark", methods=["POST"])
@login_required
def unbookmark(post_id: int) -> Response:
    """Remove a post from your bookmarks."""
    return _act(post_id, reactions.unbookmark)


@bp.route("/bookmarks")
@login_required
def bookmarks():
    """Your bookmarks, the newest bookmark first (only you see them)."""
    position = requested_position()
    number = 1 if position else requested_page()
    try:
        page = reactions.bookmarks_page(current_user, current_app.config["POSTS_PER_PAGE"], position, number)
    except PageNotFound:
        abort(404)
    return render_template("bookmarks.html", title=_("Bookmarks"), page=page)
