"""API private messages: list yours (or one conversation) and send one."""

from __future__ import annotations

from microblog import ratelimits
from microblog.api.auth import BEARER, token_required
from microblog.api.pages import page_of
from microblog.api.parsing import Blueprint
from microblog.api.schemas import MessageArgs, MessageListSchema, MessageSchema, NewMessageSchema
from microblog.bearer import current_api_user
from microblog.services import messages
from microblog.web import active_user_or_404

bp = Blueprint("api_messages", __name__, url_prefix="/api", description="Private messages")

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
        other = active_user_or_404(args["user_id"])
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
    recipient = active_user_or_404(data["recipient_id"])
    message = messages.send_message(current_api_user(), recipient, data["body"])
    return message, 201
