"""Leaving pages: deactivate the account, or ask for its deletion after a grace period; and the
welcome back when signing in undoes either."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user, user_logged_in

from microblog import ratelimits
from microblog.auth.leaving_forms import DeactivateAccountForm, DeleteAccountForm
from microblog.extensions import limiter
from microblog.forms import submitted
from microblog.models import User
from microblog.services import account_deletion

bp = Blueprint("leaving", __name__, url_prefix="/settings")


def _limit_per_address():
    """They check a password: no more guesses here than at the sign-in form."""
    return limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])


def _page(status: int = 200, **forms: Any) -> Any:
    forms.setdefault("deactivate_form", DeactivateAccountForm(formdata=None))
    forms.setdefault("delete_form", DeleteAccountForm(formdata=None))
    return render_template("auth/leave.html", title=_("Deactivate or delete your account"),
                           user=current_user, days=current_app.config["ACCOUNT_DELETION_GRACE_DAYS"],
                           **forms), status


@bp.route("/deactivate", methods=["GET"])
@login_required
def deactivate_page():
    """What deactivating and deleting do, with a form for each (one page for both choices)."""
    return _page()


@bp.route("/delete", methods=["GET"])
@login_required
def delete_page():
    """What deleting and deactivating do, with a form for each."""
    return _page()


@bp.route("/deactivate", methods=["POST"])
@login_required
@_limit_per_address()
@ratelimits.two_factor_per_account
def deactivate():
    """Hide the account until its owner signs in again, and sign it out."""
    form = DeactivateAccountForm()
    user = current_user._get_current_object()
    if submitted(form, lambda: account_deletion.deactivate_account(user, form.password.data, form.code.data)):
        logout_user()
        flash(_("Your account is deactivated and you are signed out. Sign in again to reactivate it."),
              "info")
        return redirect(url_for("main.index"))
    return _page(200, deactivate_form=form)


@bp.route("/delete", methods=["POST"])
@login_required
@_limit_per_address()
@ratelimits.two_factor_per_account
def delete():
    """Schedule the account's deletion after the grace period, and sign it out everywhere."""
    form = DeleteAccountForm()
    user = current_user._get_current_object()
    due: list = []
    if submitted(form, lambda: due.append(account_deletion.schedule_deletion(user, form.password.data,
                                                                             form.code.data))):
        logout_user()
        flash(_("Your account will be deleted on %(date)s. Sign in before then to cancel.",
                date=format_date(due[0], "long")), "info")
        return redirect(url_for("main.index"))
    return _page(200, delete_form=form)


def _welcome_back(_app: Any, user: User, **_extra: Any) -> None:
    """On every sign-in to a web session: undo a deactivation or a scheduled deletion, and say so."""
    undone = account_deletion.restore_on_sign_in(user)
    if undone == account_deletion.DELETION_CANCELLED:
        flash(_("Welcome back! Your account will not be deleted: it is active again."), "success")
    elif undone == account_deletion.REACTIVATED:
        flash(_("Welcome back! Your account is active again."), "success")


def register_leaving(app: Flask) -> None:
    app.register_blueprint(bp)
    user_logged_in.connect(_welcome_back, app)
