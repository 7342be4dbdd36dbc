"""API users: list, register, read, update; followers, following; follow and unfollow."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from microblog import ratelimits
from microblog.api.auth import BEARER, token_required
from microblog.api.pages import page_of
from microblog.api.parsing import Blueprint
from microblog.api.schemas import (
    NewUserSchema,
    PaginationArgs,
    SignUpSchema,
    UpdateUserSchema,
    UserListSchema,
    UserSchema,
)
from microblog.bearer import current_api_user
from microblog.extensions import limiter
from microblog.pagination import follow_page
from microblog.services import accounts, follows, users_query
from microblog.web import abort_json, active_user_or_404

bp = Blueprint("api_users", __name__, url_prefix="/api", description="Users and the follower graph")


def _signup_limit() -> str:
    return current_app.config["RATELIMIT_SIGNUP"]


@bp.route("/users", methods=["GET"])
@bp.arguments(PaginationArgs, location="query")
@bp.response(200, UserListSchema)
def get_users(args):
    """Everyone, newest accounts first (but the deactivated accounts)."""
    total = users_query.user_count_select(active=True)
    return page_of(users_query.all_users_select(active=True), args, total)


@bp.route("/users", methods=["POST"])
@limiter.limit(_signup_limit)
@bp.arguments(NewUserSchema)
@bp.response(202, SignUpSchema)
@bp.alt_response(409, response="CONFLICT")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
def create_user(data):
    """Register a new account (the same rules as the sign-up form).

    The answer is the same whether or not the address already has an account (that owner is mailed
    a notice instead), so it names no account: get a token with the new credentials, whose answer
    carries your user id. A username that is taken is still a 409 (usernames are public).
    """
    accounts.register_user(data["username"], data["email"], data["password"])
    if current_app.config["EMAIL_CONFIRMATION"]:
        message = _("Welcome! We sent you a link to confirm your email address. Please sign in.")
    else:
        message = _("Welcome! Your account is ready: please sign in.")
    return {"message": message}, 202


@bp.route("/users/<id:user_id>", methods=["GET"])
@bp.response(200, UserSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_user(user_id: int):
    """One user, with their counts."""
    return active_user_or_404(user_id)


@bp.route("/users/<id:user_id>", methods=["PUT"])
@token_required
@ratelimits.api_writes
@bp.arguments(UpdateUserSchema, required=False)  # nothing sent: nothing changes
@bp.response(200, UserSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(409, response="CONFLICT")
@bp.doc(security=[BEARER])
def update_user(data, user_id: int):
    """Change your own username or about-me text."""
    user = active_user_or_404(user_id)
    if user.id != current_api_user().id:
        abort_json(403, "You can only change your own profile.")
    accounts.update_profile(user, data.get("username", user.username), data.get("about_me", user.about_me))
    return user


@bp.route("/users/<id:user_id>/followers", methods=["GET"])
@bp.arguments(PaginationArgs, location="query")
@bp.response(200, UserListSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_followers(args, user_id: int):
    """The people who follow this user, most recent first."""
    user = active_user_or_404(user_id)
    return page_of(
        user.followers_select(), args, keyset=follow_page, total=user.follower_count, user_id=user_id
    )


@bp.route("/users/<id:user_id>/following", methods=["GET"])
@bp.arguments(PaginationArgs, location="query")
@bp.response(200, UserListSchema)
@bp.alt_response(404, response="NOT_FOUND")
def get_following(args, user_id: int):
    """The people this user follows, most recent first."""
    user = active_user_or_404(user_id)
    return page_of(
        user.following_select(), args, keyset=follow_page, total=user.following_count, user_id=user_id
    )


@bp.route("/users/<id:user_id>/follow", methods=["POST"])
@token_required
@ratelimits.api_writes
@ratelimits.follows_per_account
@bp.response(204)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@bp.doc(security=[BEARER])
def follow_user(user_id: int):
    """Follow this user (following twice is harmless; following yourself, or across a block, is refused)."""
    follows.follow(current_api_user(), active_user_or_404(user_id))
    return ""


@bp.route("/users/<id:user_id>/follow", methods=["DELETE"])
@token_required
@ratelimits.api_writes
@bp.response(204)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
@bp.doc(security=[BEARER])
def unfollow_user(user_id: int):
    """Stop following this user."""
    follows.unfollow(current_api_user(), active_user_or_404(user_id))
    return ""
