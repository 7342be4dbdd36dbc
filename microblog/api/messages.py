"""API private messages: list yours (or one conversation) and send one."""

from __future__ import annotations

from microblog import ratelimits
from microblog.api.auth import BEARER, token_required
from microblog.api.errors import abort_for
from microblog.api.pages import page_of
from microblog.api.parsing import Blueprint
from microblog.api.schemas import MessageArgs, MessageListSchema, MessageSchema, NewMessageSchema
from microblog.bearer import current_api_user
from microblog.exceptions import DomainError
from microblog.extensions import db
from microblog.models import ID_MAX, User
from microblog.services import messages
from microblog.web import abort_json

bp = Blueprint("api_messages", __name__, url_prefix="/api", description="Private messages")

# The web form calls the text "message"; in the API it is "body".
FIELDS = {messages.FIELD: "body"}


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id) if 0 < user_id <= ID_MAX else None
    if user is None:
        abort_json(404)
    return user


@bp.route("/messages", methods=["GET"])
@token_required
@bp.arguments(MessageArgs, location="query")
@bp.response(200, MessageListSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
@bp.doc(security=[BEARER])
def get_messages(args):
    """Messages you sent or received, newest first; with ``user_id``, only the conversation with them."""
    me = current_api_user()
    if "user_id" in args:
        other = _user_or_404(args["user_id"])
        return page_of(me.thread_select(other), args, user_id=other.id)
    return page_of(me.messages_select(), args)


@bp.route("/messages", methods=["POST"])
@token_required
@ratelimits.api_writes
@bp.arguments(NewMessageSchema)
@bp.response(201, MessageSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def create_message(data):
    """Send a private message (the same rules as the web form: length, blocks, not to yourself)."""
    recipient = _user_or_404(data["recipient_id"])
    try:
        message = messages.send_message(current_api_user(), recipient, data["body"])
    except DomainError as exc:
        abort_for(exc, FIELDS)
    return message, 201
