"""Two-factor sign-in pages: turning it on and off, recovery codes, and the code step of signing in.

After a correct password, an account with two-factor sign-in is not signed in yet: the session holds a
pending sign-in (the account, its session version and an expiry) and the code page finishes it. A
"remember this device" cookie, signed and bound to the account's two-factor nonce, skips that page.
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from microblog import qr, ratelimits, sessions
from microblog.auth import passkeys as passkey_pages
from microblog.auth.two_factor_forms import (
    ConfirmTwoFactorForm,
    DisableTwoFactorForm,
    NewRecoveryCodesForm,
    SecondStepForm,
    StartTwoFactorForm,
)
from microblog.extensions import db, limiter
from microblog.forms import submitted
from microblog.models import User
from microblog.redirects import is_safe_local_path
from microblog.services import accounts, passkeys, two_factor
from microblog.suspension import allowed_while_suspended

bp = Blueprint("two_factor", __name__, url_prefix="/auth/two_factor")

PENDING = ratelimits.PENDING_SIGN_IN
DEVICE_COOKIE = "two_factor_device"


def _limit_per_address():
    """The sign-in form's limit per client address: a code is guessed no faster than a password."""
    return limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])


def _private(response: Any) -> Response:
    """Pages with secrets or recovery codes: kept out of every cache."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- the code step of signing in ----------------------------------------------------------------
def remembered_device(user: User) -> bool:
    return two_factor.device_remembered(user, request.cookies.get(DEVICE_COOKIE))


def begin_second_step(user: User, *, remember: bool, target: str | None) -> Response:
    """Keep a sign-in waiting for its code (the password was right) and send the browser to the code page."""
    session[PENDING] = {
        "id": user.id, "v": user.session_version or 0, "remember": bool(remember),
        "exp": int(time.time()) + current_app.config["TWO_FACTOR_PENDING_SECONDS"],
        "next": target if is_safe_local_path(target) else None,
    }
    return redirect(url_for("two_factor.verify"))


def _pending_user() -> tuple[User, dict] | None:
    """The account of this session's pending sign-in, if it is still current: not expired, and the
    account has not signed out everywhere or changed its password since."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("id"), int):
        return None
    if not isinstance(pending.get("exp"), int) or pending["exp"] < time.time():
        return None
    user = db.session.get(User, pending["id"])
    if user is None or (user.session_version or 0) != pending.get("v") or not user.two_factor_enabled:
        return None
    return user, pending


@bp.route("/verify", methods=["GET", "POST"])
@allowed_while_suspended  # signing in
@_limit_per_address()
@ratelimits.two_factor_per_account
def verify():
    """The second step of signing in: a code from the app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    found = _pending_user()
    if found is None:
        session.pop(PENDING, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    user, pending = found
    form = SecondStepForm()
    days = current_app.config["TWO_FACTOR_REMEMBER_DAYS"]
    form.remember_device.label.text = _("Remember this device for %(days)d days", days=days)
    if form.validate_on_submit():
        via = two_factor.verify_code(user, form.code.data)
        if via is not None:
            return _finish_sign_in(user, pending, via, remember_device=form.remember_device.data)
        form.code.errors = [two_factor.invalid_code_message()]
    return render_template("auth/two_factor_verify.html", title=_("Two-factor authentication"), form=form,
                           has_passkeys=passkeys.has_passkeys(user))


@bp.route("/passkey/options", methods=["POST"])
@allowed_while_suspended
@_limit_per_address()
def passkey_options():
    """The options for using one of the pending account's passkeys as the second step (JSON)."""
    found = _pending_user()
    if found is None:
        return passkey_pages.json_error(_("Please sign in again."))
    options, challenge = passkeys.authentication_options(passkey_pages.relying_party(), found[0])
    passkey_pages.keep_challenge(challenge)
    return passkey_pages.options_response(options)


@bp.route("/passkey", methods=["POST"])
@allowed_while_suspended
@_limit_per_address()
@ratelimits.two_factor_per_account  # a refused passkey (401) counts as a wrong code does
def passkey():
    """The second step of signing in with one of the account's passkeys instead of a code (JSON:
    ``credential``, ``remember_device``). Answers JSON with where to go next."""
    challenge = passkey_pages.take_challenge()
    found = _pending_user()
    if found is None:
        return passkey_pages.json_error(_("Please sign in again."))
    user, pending = found
    body = passkey_pages.posted_json()
    if passkeys.authenticate(passkey_pages.relying_party(), challenge, body.get("credential"), user) is None:
        return passkey_pages.json_error(_("That passkey did not sign you in. Please try again."), 401)
    g.two_factor_succeeded = True
    done = _finish_sign_in(user, pending, "passkey", remember_device=body.get("remember_device") is True)
    answer = jsonify(redirect=done.location)
    for cookie in done.headers.getlist("Set-Cookie"):  # the remembered device's
        answer.headers.add("Set-Cookie", cookie)
    return answer


def _finish_sign_in(user: User, pending: dict, via: str, *, remember_device: bool) -> Response:
    session.pop(PENDING, None)
    sessions.sign_in(user, remember=bool(pending.get("remember")))  # a new CSRF token too
    accounts.record_sign_in(user, via=via)
    if via == "recovery_code":
        flash(_("You used a recovery code: %(left)d are left. Make new ones in the settings if you run low.",
                left=two_factor.recovery_codes_left(user)), "warning")
    response = redirect(pending.get("next") or url_for("main.index"))
    if remember_device:
        config = current_app.config
        response.set_cookie(
            DEVICE_COOKIE, two_factor.device_token(user), max_age=config["TWO_FACTOR_REMEMBER_DAYS"] * 86400,
            path="/auth/", httponly=True, samesite="Lax",
            secure=request.is_secure or bool(config.get("SESSION_COOKIE_SECURE")),
        )
    return response


# -- settings: turning it on and off ------------------------------------------------------------
def _codes_page(codes: list[str]) -> Response:
    g.two_factor_succeeded = True  # a 200 that is no refusal (ratelimits.two_factor_per_account)
    return _private(render_template("auth/recovery_codes.html", title=_("Your recovery codes"), codes=codes))


def _settings_page(status: int = 200, **forms: Any) -> Any:
    user = current_user._get_current_object()
    forms.setdefault("start_form", StartTwoFactorForm(formdata=None))
    forms.setdefault("disable_form", DisableTwoFactorForm(formdata=None))
    forms.setdefault("codes_form", NewRecoveryCodesForm(formdata=None))
    left = two_factor.recovery_codes_left(user) if user.two_factor_enabled else 0
    page = render_template("auth/two_factor.html", title=_("Two-factor authentication"), user=user,
                           codes_left=left, **forms)
    return _private((page, status))


@bp.route("", methods=["GET"])
@login_required
def settings():
    """Whether two-factor sign-in is on, with the forms to turn it on or off and to renew recovery codes."""
    if two_factor.staff_must_enrol(current_user):
        flash(_("Your role requires two-factor authentication. Please turn it on to continue."), "warning")
    return _settings_page()


@bp.route("/start", methods=["POST"])
@login_required
@_limit_per_address()  # it checks a password
def start():
    """Make a new secret (after the password) and go on to scan it."""
    form = StartTwoFactorForm()
    user = current_user._get_current_object()
    if submitted(form, lambda: two_factor.begin_enrolment(user, form.password.data)):
        return redirect(url_for("two_factor.setup"))
    return _settings_page(200, start_form=form)


@bp.route("/setup", methods=["GET", "POST"])
@login_required
@_limit_per_address()
@ratelimits.two_factor_per_account
def setup():
    """Show the pending secret (QR code, text and URI) and turn two-factor sign-in on with a code from it.

    The recovery codes are shown in the answer to the confirming POST itself, not after a redirect:
    they are never stored in clear, not even in the session for the next request.
    """
    user = current_user._get_current_object()
    secret = two_factor.pending_secret(user)
    if secret is None:
        if user.two_factor_enabled:
            flash(_("Two-factor authentication is already on."), "info")
        return redirect(url_for("two_factor.settings"))
    form = ConfirmTwoFactorForm()
    codes: list[str] = []
    if submitted(form, lambda: codes.extend(two_factor.confirm_enrolment(user, form.code.data))):
        flash(_("Two-factor authentication is on."), "success")
        return _codes_page(codes)
    uri = two_factor.provisioning_uri(user, secret)
    return _private(render_template(
        "auth/two_factor_setup.html", title=_("Set up two-factor authentication"), form=form, secret=secret,
        uri=uri, qr_code=qr.svg(uri, _("QR code for your authenticator app"))))


@bp.route("/disable", methods=["POST"])
@login_required
@_limit_per_address()
@ratelimits.two_factor_per_account
def disable():
    """Turn two-factor sign-in off, with the password and a code."""
    form = DisableTwoFactorForm()
    user = current_user._get_current_object()
    if submitted(form, lambda: two_factor.disable(user, form.password.data, form.code.data)):
        flash(_("Two-factor authentication is off."), "success")
        return redirect(url_for("two_factor.settings"))
    return _settings_page(200, disable_form=form)


@bp.route("/recovery_codes", methods=["POST"])
@login_required
@_limit_per_address()
@ratelimits.two_factor_per_account
def recovery_codes():
    """New recovery codes (after the password), shown once in this answer."""
    form = NewRecoveryCodesForm()
    user = current_user._get_current_object()
    codes: list[str] = []
    if submitted(form, lambda: codes.extend(two_factor.regenerate_recovery_codes(user, form.password.data))):
        flash(_("You have new recovery codes: the old ones no longer work."), "success")
        return _codes_page(codes)
    return _settings_page(200, codes_form=form)


# -- the staff requirement ----------------------------------------------------------------------
# Signing out, and reading the enrolment page in one's own language.
ALWAYS_OPEN = frozenset({"auth.logout", "main.set_language", "static"})


def require_staff_enrolment():
    """Before each request: when the site requires two-factor sign-in of staff (REQUIRE_2FA_FOR_STAFF, or
    the admin area's setting), a moderator or admin without it sees only the pages that turn it on (and
    can sign out) until it is on. Only a signed-in moderator or admin without it costs a query."""
    endpoint = request.endpoint or ""
    if (endpoint in ALWAYS_OPEN or endpoint.startswith("two_factor.") or endpoint.endswith(".static")
            or request.path.startswith("/api/")):
        return None  # before asking who is signed in: a static file loads no account
    if getattr(current_app.view_functions.get(endpoint), "quiet", False):
        return None  # not a visit (the badge's poll): it answers in one query, loading no account
    if not (current_user.is_authenticated and current_user.is_staff and not current_user.two_factor_enabled):
        return None
    if two_factor.staff_must_enrol(current_user):
        return redirect(url_for("two_factor.settings"))
    return None


def register_two_factor(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(require_staff_enrolment)
