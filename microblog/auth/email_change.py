"""Email address pages: ask for a new address, and the links mailed to the new address (confirm) and to
the old one (undo). The links show a page with a button: no GET changes anything."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from microblog import ratelimits
from microblog.auth.forms import ChangeEmailForm
from microblog.extensions import limiter
from microblog.forms import EmptyForm, submitted
from microblog.services import email_change

bp = Blueprint("email_change", __name__, url_prefix="/settings/email")


def _limit_per_address():
    """The sign-in form's limit per client address: the form checks a password and a code."""
    return limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])


def _settings_page(form: ChangeEmailForm) -> Any:
    user = current_user._get_current_object()
    return render_template("auth/email_change.html", title=_("Email address"), user=user, form=form,
                           pending=email_change.pending_change(user), cancel_form=EmptyForm(formdata=None))


@bp.route("", methods=["GET", "POST"])
@login_required
@_limit_per_address()
@ratelimits.email_changes_per_account
@ratelimits.two_factor_per_account  # wrong codes here count with the sign-in's
def settings():
    """The account's address, whether it is confirmed, a change waiting for its link, and the form to
    ask for a new one (password, and a code with two-factor sign-in)."""
    user = current_user._get_current_object()
    form = ChangeEmailForm()
    if not user.two_factor_enabled:
        del form.otp
    if submitted(form, lambda: email_change.request_change(
            user, form.email.data, form.password.data, form.otp.data if form.otp else None)):
        flash(_("We sent a link to %(email)s. Your address changes when you open it.",
                email=form.email.data.strip().lower()), "info")
        return redirect(url_for("email_change.settings"))
    return _settings_page(form)


@bp.route("/cancel", methods=["POST"])
@login_required
def cancel():
    """Forget the change waiting for its link (the link stops working)."""
    if EmptyForm().validate_on_submit() and email_change.cancel_change(current_user._get_current_object()):
        flash(_("The change of address was cancelled: the link no longer works."), "info")
    return redirect(url_for("email_change.settings"))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """Confirm a new address from the link mailed to it (single use, 24 hours)."""
    change = email_change.change_for_confirm_token(token)
    if change is None:
        return render_template("auth/link_invalid.html", title=_("Link expired"), reset=False), 400
    form = EmptyForm()
    if submitted(form, lambda: email_change.confirm_change(token)):
        flash(_("Your email address is now %(email)s.", email=change.new_email), "success")
        return redirect(url_for("email_change.settings") if current_user.is_authenticated
                        else url_for("auth.login"))
    return render_template("auth/email_change_confirm.html", title=_("Confirm your new email address"),
                           form=form, new_email=change.new_email)


@bp.route("/undo/<token>", methods=["GET", "POST"])
def undo(token: str):
    """Put the old address back from the link mailed to it (single use, 7 days): every session ends and
    the person is asked to choose a new password."""
    change = email_change.change_for_undo_token(token)
    if change is None:
        return render_template("auth/link_invalid.html", title=_("Link expired"), reset=True), 400
    form = EmptyForm()
    if submitted(form, lambda: email_change.undo_change(token)):
        logout_user()  # the account's sessions ended already; this browser forgets it too
        flash(_("Your address %(email)s is back, and every device and API token was signed out. Someone may "
                "know your password: choose a new one now.", email=change.old_email), "warning")
        return redirect(url_for("auth.reset_password_request"))
    return render_template("auth/email_change_undo.html", title=_("Undo the change of address"), form=form,
                           old_email=change.old_email)
