"""Sign-up, log-in and log-out pages."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from microblog import ratelimits, sessions, signed_tokens
from microblog.auth import passkeys as passkey_pages
from microblog.auth import two_factor as two_factor_pages
from microblog.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    RegistrationForm,
    ResetPasswordForm,
    ResetPasswordRequestForm,
)
from microblog.exceptions import DomainError
from microblog.extensions import csrf, limiter
from microblog.forms import EmptyForm, submitted
from microblog.models import User
from microblog.redirects import is_safe_local_path
from microblog.services import accounts, passkeys, password_reset
from microblog.suspension import allowed_while_suspended

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _limit(name: str):
    """A POST-only rate limit read from config (RATELIMIT_<NAME>), counted per client address."""
    return limiter.limit(lambda: current_app.config[f"RATELIMIT_{name}"], methods=["POST"])


@bp.route("/register", methods=["GET", "POST"])
@_limit("SIGNUP")
def register():
    """Create an account. Without email confirmation its new owner is signed in and sees their home
    page; with it, they are asked to confirm their address and sign in (the same answer as for an
    address that already has an account)."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    # Where the new account was heading (a profile's "Create an account"): local paths only.
    target = request.args.get("next") if is_safe_local_path(request.args.get("next")) else None
    form = RegistrationForm()
    created: list[User | None] = []
    if submitted(form, lambda: created.append(accounts.register_user(form.username.data, form.email.data,
                                                                     form.password.data))):
        user = created[0]
        if current_app.config["EMAIL_CONFIRMATION"]:
            # Where mail is sent, an address that already has an account gets the very same answer
            # (its owner is mailed instead): signing the new account in would tell the two apart.
            flash(_("Welcome! We sent you a link to confirm your email address. Please sign in."),
                  "success")
            return redirect(url_for("auth.login", next=target))
        if user is None:
            # The address already has an account (its owner was told in the log or by mail).
            flash(_("Please check your email: we sent a message to that address."), "info")
        else:
            _sign_in(user, via="signup")
            flash(_("Welcome! Your account is ready."), "success")
            if target:
                return redirect(target)
        return redirect(url_for("main.index"))
    return render_template("auth/register.html", title=_("Register"), form=form)


def _sign_in(user: User, *, remember: bool = False, via: str | None = None) -> None:
    """Sign ``user`` in on this browser, in a new session (sessions.sign_in; the owner is mailed when the
    browser is new to the account, except right after signing up). Flask-Login's signal gives the
    session a new CSRF token (sessions.new_csrf_token); a sign-in without a password check (``via``) is
    logged here, as ``accounts.authenticate`` logs the ones with."""
    sessions.sign_in(user, remember=remember, announce=via != "signup")
    session.pop(ratelimits.PENDING_SIGN_IN, None)  # a half-done sign-in of another account ends here
    if via is not None:
        accounts.record_sign_in(user, via=via)


@bp.route("/login", methods=["GET", "POST"])
@allowed_while_suspended  # a suspended account can still sign in, to read and to export its data
@_limit("LOGIN")
@ratelimits.login_per_account
def login():
    """Sign in, then go where the user was heading (local paths only)."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is None:
            flash(_("Invalid username or password."), "danger")
            return _login_page(form), 200
        target = request.args.get("next")
        if user.two_factor_enabled:
            if not two_factor_pages.remembered_device(user):
                return two_factor_pages.begin_second_step(user, remember=form.remember_me.data, target=target)
            accounts.record_sign_in(user, via="remembered_device")
        _sign_in(user, remember=form.remember_me.data)
        return redirect(target if is_safe_local_path(target) else url_for("main.index"))
    return _login_page(form)


def _login_page(form: LoginForm) -> str:
    # The passkey button posts its JSON with this page's CSRF token, and goes on to ?next= like the form.
    return render_template("auth/login.html", title=_("Sign in"), form=form,
                           passkey_url=url_for("auth.passkey_sign_in", next=request.args.get("next")))


@bp.route("/passkey/options", methods=["POST"])
@allowed_while_suspended
@_limit("LOGIN")
def passkey_options():
    """The options for signing in with a passkey and no password (JSON), with a new challenge."""
    options, challenge = passkeys.authentication_options(passkey_pages.relying_party())
    passkey_pages.keep_challenge(challenge)
    return passkey_pages.options_response(options)


@bp.route("/passkey", methods=["POST"])
@allowed_while_suspended  # a suspended account can still sign in, as with the password
@_limit("LOGIN")
def passkey_sign_in():
    """Sign in with a passkey alone (JSON: ``credential``, ``remember_me``): one that verified its user
    is two factors in itself. Answers JSON with where to go next (local paths only)."""
    challenge = passkey_pages.take_challenge()
    if current_user.is_authenticated:
        return jsonify(redirect=url_for("main.index"))
    body = passkey_pages.posted_json()
    user = passkeys.authenticate(passkey_pages.relying_party(), challenge, body.get("credential"))
    if user is None:
        return passkey_pages.json_error(_("That passkey did not sign you in. Please try again."), 401)
    _sign_in(user, remember=body.get("remember_me") is True, via="passkey")
    target = request.args.get("next")
    return jsonify(redirect=target if is_safe_local_path(target) else url_for("main.index"))


@bp.route("/logout", methods=["POST"])
@allowed_while_suspended
def logout():
    """Sign out (POST with a CSRF token, so no link or image can do it for the user)."""
    if EmptyForm().validate_on_submit():
        user = current_user._get_current_object() if current_user.is_authenticated else None
        logout_user()
        if user is not None:
            # Ends this session on the server too: this cookie, or a copy of it, no longer signs in.
            # Other browsers stay signed in (the sessions page signs them out).
            sessions.sign_out(user)
        flash(_("You have been signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/change_password", methods=["GET", "POST"])
@login_required
@_limit("LOGIN")  # it checks a password: no more guesses here than at the login form
def change_password():
    """A new password for a signed-in user: other devices and API tokens are signed out, this one stays."""
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    if submitted(form, lambda: accounts.change_password(user, form.current_password.data,
                                                        form.password.data)):
        sessions.stay_signed_in(user)
        flash(_("Your password has been changed. Other devices and API tokens were signed out."), "success")
        return redirect(url_for("main.edit_profile"))
    return render_template("auth/change_password.html", title=_("Change password"), form=form)


@bp.route("/reset_password_request", methods=["GET", "POST"])
@_limit("RESET")
@ratelimits.reset_per_address
def reset_password_request():
    """Ask for a reset link. The answer is the same whether or not the address has an account."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = ResetPasswordRequestForm()
    if form.validate_on_submit():
        password_reset.request_password_reset(form.email.data, request.remote_addr)
        flash(_("If that address has an account, a reset link is on its way. Check your email."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password_request.html", title=_("Reset password"), form=form)


@bp.route("/reset_password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from an emailed link (single use, expires)."""
    if signed_tokens.user_for_reset_token(token) is None:
        return render_template("auth/link_invalid.html", title=_("Link expired"), reset=True), 400
    form = ResetPasswordForm()
    if submitted(form, lambda: password_reset.reset_password(token, form.password.data)):
        flash(_("Your password has been changed. Please sign in."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", title=_("Choose a new password"), form=form)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """Confirm an address from the emailed link: a page with a button (no GET changes anything)."""
    if signed_tokens.user_for_confirm_token(token) is None:
        return render_template("auth/link_invalid.html", title=_("Link expired"), reset=False), 400
    form = EmptyForm()
    if form.validate_on_submit():
        accounts.confirm_email(token)  # confirming twice is harmless
        flash(_("Thank you: your email address is confirmed."), "success")
        return redirect(url_for("main.index"))
    return render_template("auth/confirm_email.html", title=_("Confirm your email address"), form=form)


@bp.route("/resend_confirmation", methods=["POST"])
@login_required
def resend_confirmation():
    """Send the confirmation link again."""
    if EmptyForm().validate_on_submit() and current_user.confirmed_at is None:
        accounts.send_confirmation(current_user)
        flash(_("A new confirmation link is on its way to %(email)s.", email=current_user.email), "info")
    return redirect(url_for("main.index"))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@allowed_while_suspended  # asking for less email is not a change anyone else sees
@csrf.exempt  # the signed token is the credential; mail clients POST here with no session (RFC 8058)
def unsubscribe(token: str):
    """Stop one kind of notification email: a page with a button, or a one-click POST."""
    found = signed_tokens.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    user, kind = found
    if request.method == "POST":
        try:
            accounts.unsubscribe(user, kind)
        except DomainError:
            abort(404)
        return render_template("auth/unsubscribed.html", title=_("Unsubscribed"))
    return render_template("auth/unsubscribe.html", title=_("Unsubscribe"), token=token, kind=kind)
