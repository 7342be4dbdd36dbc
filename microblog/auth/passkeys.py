"""The passkeys page (/settings/passkeys): the account's passkeys, adding one with the browser, renaming
and removing; and what the passkey sign-in routes (auth/routes.py, auth/two_factor.py) share: the
relying party of this request, the challenge kept in the session, and the JSON they answer with.

The browser side is static/passkeys.js: it asks for options with a POST (CSRF token in the
X-CSRFToken header), calls navigator.credentials, and posts the result back as JSON.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
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
from webauthn import base64url_to_bytes
from webauthn.helpers import bytes_to_base64url
from werkzeug.wrappers import Response

from microblog.auth.passkey_forms import AddPasskeyForm, RemovePasskeyForm, RenamePasskeyForm
from microblog.exceptions import DomainError, http_status
from microblog.extensions import limiter
from microblog.forms import submitted
from microblog.services import passkeys
from microblog.services.passkeys import Challenge, RelyingParty

bp = Blueprint("passkeys", __name__, url_prefix="/settings/passkeys")

CHALLENGE = "passkey_challenge"


def _limit():
    """The sign-in form's limit per client address: passkeys are tried no faster than passwords."""
    return limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])


# -- shared by the sign-in routes ---------------------------------------------------------------
def relying_party() -> RelyingParty:
    """The site as WebAuthn sees it: WEBAUTHN_RP_ID and WEBAUTHN_ORIGIN when configured, else the host
    and the scheme and host this request came to (SERVER_NAME, when set, is the only host served)."""
    config = current_app.config
    origin = config.get("WEBAUTHN_ORIGIN") or f"{request.scheme}://{request.host}"
    return RelyingParty(id=config.get("WEBAUTHN_RP_ID") or urlsplit(origin).hostname or request.host,
                        name=config["WEBAUTHN_RP_NAME"], origin=origin)


def keep_challenge(challenge: Challenge) -> None:
    """Keep a ceremony's challenge for the answer (one at a time: a new one replaces the last)."""
    session[CHALLENGE] = {"c": bytes_to_base64url(challenge.value), "t": challenge.issued_at,
                          "p": challenge.purpose}


def take_challenge() -> Challenge | None:
    """The session's challenge, removed from it: each one serves a single answer."""
    kept = session.pop(CHALLENGE, None)
    if not isinstance(kept, dict) or not isinstance(kept.get("c"), str) or not isinstance(kept.get("p"), str):
        return None
    issued = kept.get("t")
    if not isinstance(issued, int | float) or not math.isfinite(issued):
        return None
    try:
        return Challenge(base64url_to_bytes(kept["c"]), float(issued), kept["p"])
    except ValueError:
        return None


def posted_json() -> dict[str, Any]:
    """The JSON object posted, or an empty one for anything else."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def options_response(options: str) -> Response:
    """The options for navigator.credentials, made for this request only."""
    response = make_response(options)
    response.mimetype = "application/json"
    response.headers["Cache-Control"] = "no-store"
    return response


def json_error(message: str, status: int = 400) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


# -- the settings page --------------------------------------------------------------------------
def _page(status: int = 200, **forms: Any) -> Any:
    user = current_user._get_current_object()
    forms.setdefault("add_form", AddPasskeyForm(formdata=None))
    forms.setdefault("rename_form", RenamePasskeyForm(formdata=None))
    forms.setdefault("remove_form", RemovePasskeyForm(formdata=None))
    page = render_template("auth/passkeys.html", title=_("Passkeys"), passkeys=passkeys.passkeys_of(user),
                           failed_id=forms.pop("failed_id", None), **forms)
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("", methods=["GET"])
@login_required
def settings():
    """The account's passkeys (name, added, last used), with the forms to add, rename and remove them."""
    return _page()


@bp.route("/options", methods=["POST"])
@login_required
@_limit()
def registration_options():
    """The options for navigator.credentials.create() (JSON), with a new challenge."""
    options, challenge = passkeys.registration_options(current_user._get_current_object(), relying_party())
    keep_challenge(challenge)
    return options_response(options)


@bp.route("", methods=["POST"])
@login_required
@_limit()
def add():
    """Keep the passkey the browser just made (JSON: ``credential`` and ``name``); answers JSON."""
    challenge = take_challenge()
    body = posted_json()
    try:
        passkeys.add_passkey(current_user._get_current_object(), relying_party(), challenge,
                             body.get("credential"), body.get("name"))
    except DomainError as exc:
        return json_error(exc.message, http_status(exc))
    flash(_("Your passkey was added. You can sign in with it now."), "success")
    return jsonify(redirect=url_for("passkeys.settings"))


@bp.route("/<id:passkey_id>/rename", methods=["POST"])
@login_required
def rename(passkey_id: int):
    """Give a passkey another name."""
    passkeys.get_passkey(current_user, passkey_id)  # another account's: 404
    form = RenamePasskeyForm()
    if submitted(form, lambda: passkeys.rename_passkey(current_user, passkey_id, form.name.data)):
        flash(_("The passkey was renamed."), "success")
        return redirect(url_for("passkeys.settings"))
    return _page(400, rename_form=form, failed_id=passkey_id)


@bp.route("/<id:passkey_id>/remove", methods=["POST"])
@login_required
@_limit()  # it checks a password
def remove(passkey_id: int):
    """Remove a passkey, with the password: it no longer signs in."""
    passkeys.get_passkey(current_user, passkey_id)  # another account's: 404
    form = RemovePasskeyForm()
    if submitted(form, lambda: passkeys.remove_passkey(current_user, passkey_id, form.password.data)):
        flash(_("The passkey was removed."), "success")
        return redirect(url_for("passkeys.settings"))
    return _page(400, remove_form=form, failed_id=passkey_id)
