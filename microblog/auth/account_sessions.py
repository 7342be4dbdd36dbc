"""The sessions page ("Where you're signed in"): every browser signed in to the account and its API
tokens, each with a button that ends it, and one that signs out every other browser."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog import sessions
from microblog.forms import EmptyForm
from microblog.services import api_tokens, user_sessions
from microblog.suspension import allowed_while_suspended

bp = Blueprint("account_sessions", __name__, url_prefix="/settings/sessions")


@bp.route("", methods=["GET"])
@allowed_while_suspended
@login_required
def show():
    """Where you're signed in: browser and system, address, when signed in and last active."""
    user = current_user._get_current_object()
    page = render_template(
        "auth/sessions.html", title=_("Where you're signed in"), form=EmptyForm(),
        user_sessions=user_sessions.active_sessions(user), current_id=sessions.current_session_id(),
        tokens=api_tokens.tokens_of(user))
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<id:session_id>/revoke", methods=["POST"])
@allowed_while_suspended  # signing out
@login_required
def revoke(session_id: int):
    """Sign out one session (404 when it is not one of yours, or has ended already)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    user_sessions.revoke_session(current_user._get_current_object(), session_id)
    flash(_("That session has been signed out."), "success")
    return redirect(url_for("account_sessions.show"))


@bp.route("/others/revoke", methods=["POST"])
@allowed_while_suspended
@login_required
def revoke_others():
    """Sign out every session but this one; this browser stays signed in."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    user_sessions.sign_out_other_sessions(user, sessions.current_session_id())
    sessions.stay_signed_in(user, same_session=True)  # the account's version moved on
    flash(_("All your other sessions have been signed out."), "success")
    return redirect(url_for("account_sessions.show"))


@bp.route("/tokens/<id:token_id>/revoke", methods=["POST"])
@allowed_while_suspended
@login_required
def revoke_token(token_id: int):
    """Revoke one of your API tokens (404 when it is not one of yours)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    api_tokens.revoke_token_of(current_user._get_current_object(), token_id)
    flash(_("The API token has been revoked."), "success")
    return redirect(url_for("account_sessions.show"))
