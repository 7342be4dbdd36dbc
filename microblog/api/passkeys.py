"""API passkeys: the caller's passkeys, and removing one.

Adding a passkey and signing in with one happen in a browser only (WebAuthn is a browser API). A bearer
token was made with the password (and a code with two-factor sign-in), so removing needs nothing more.
"""

from __future__ import annotations

from microblog import ratelimits
from microblog.api.account_schemas import PasskeyListSchema
from microblog.api.auth import BEARER, token_required
from microblog.api.pages import page_of
from microblog.api.parsing import Blueprint
from microblog.api.schemas import PaginationArgs
from microblog.bearer import signed_in_api_user
from microblog.services import passkeys

bp = Blueprint("api_passkeys", __name__, url_prefix="/api", description="Passkeys")


@bp.route("/passkeys", methods=["GET"])
@token_required
@bp.arguments(PaginationArgs, location="query")
@bp.response(200, PasskeyListSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.doc(security=[BEARER])
def get_passkeys(args):
    """Your passkeys, oldest first."""
    return page_of(passkeys.passkeys_select(signed_in_api_user()), args)


@bp.route("/passkeys/<id:passkey_id>", methods=["DELETE"])
@token_required
@ratelimits.api_writes
@bp.response(204)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
@bp.doc(security=[BEARER])
def delete_passkey(passkey_id: int):
    """Remove one of your passkeys: it no longer signs in. Its owner is mailed, as from the web page."""
    passkeys.remove_passkey(signed_in_api_user(), passkey_id, check_password=False)
    return ""
