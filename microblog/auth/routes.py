"""Sign-up, log-in and log-out pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from microblog.auth.forms import EmptyForm, LoginForm, RegistrationForm
from microblog.errors.exceptions import DomainError
from microblog.errors.forms import show_error
from microblog.services import accounts
from microblog.urls import is_safe_local_path

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create an account, then send the new user to the login page."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            accounts.register_user(form.username.data, form.email.data, form.password.data)
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Welcome! Your account is ready: please sign in."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html", title=_("Register"), form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in, then go where the user was heading (local paths only)."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is None:
            flash(_("Invalid username or password."), "danger")
            return render_template("auth/login.html", title=_("Sign in"), form=form), 200
        login_user(user, remember=form.remember_me.data)
        target = request.args.get("next")
        return redirect(target if is_safe_local_path(target) else url_for("main.index"))
    return render_template("auth/login.html", title=_("Sign in"), form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (POST with a CSRF token, so no link or image can do it for the user)."""
    if EmptyForm().validate_on_submit():
        logout_user()
        flash(_("You have been signed out."), "info")
    return redirect(url_for("main.index"))
