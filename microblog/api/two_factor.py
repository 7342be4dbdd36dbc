"""API two-factor status: whether the caller's account signs in with a second factor.

Turning it on and off happens on the web pages only (they show a QR code and recovery codes once).
Bearer tokens are not asked for codes: a token of an account with two-factor sign-in is made with
the password *and* a code (``X-OTP`` header of ``POST /api/tokens``), so holding one already proves both.
"""

from __future__ import annotations

from microblog.api.account_schemas import TwoFactorStatusSchema
from microblog.api.auth import BEARER, token_required
from microblog.api.parsing import Blueprint
from microblog.bearer import current_api_user
from microblog.services import two_factor
from microblog.suspension import allowed_while_suspended

bp = Blueprint("api_two_factor", __name__, url_prefix="/api", description="Two-factor authentication")


@bp.route("/two_factor", methods=["GET"])
@allowed_while_suspended
@token_required
@bp.response(200, TwoFactorStatusSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.doc(security=[BEARER])
def get_two_factor():
    """Whether two-factor authentication is on for your account, and how many recovery codes are left."""
    user = current_api_user()
    assert user is not None  # token_required
    return {
        "enabled": user.two_factor_enabled,
        "enabled_at": user.totp_enabled_at,
        "recovery_codes_left": two_factor.recovery_codes_left(user) if user.two_factor_enabled else 0,
        "required": two_factor.staff_requirement_applies(user),
    }
