"""Mastodon's conversations API over our private messages: the list, marking one read, and removing one
(docs: methods/conversations). The entities and the id scheme are direct.py's."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, request

from microblog.mastodon import direct
from microblog.mastodon.auth import current_mastodon_user, mastodon_abort, oauth_required
from microblog.mastodon.listing import list_response, page_of, window
from microblog.mastodon.paths import route
from microblog.models import Message, User
from microblog.services import messages

bp = Blueprint("mastodon_conversations", __name__)

NOT_FOUND = "Record not found"
# Messages are kept for both people until one of them deletes their account: the model has no place to
# hide a conversation from one side only, so removing one is refused rather than pretended.
KEPT = "Validation failed: conversations cannot be removed here (private messages are kept for both people)"


def _latest_or_404(user: User, raw_id: str) -> Message:
    latest = direct.conversation(user, raw_id)
    if latest is None:
        mastodon_abort(404, NOT_FOUND)
    return latest


@route(bp, "/api/v1/conversations", methods=["GET"])
@oauth_required("read:statuses")
def get_conversations():
    """Your conversations, the most recent first, a page at a time; the ``Link`` header pages on the
    ``last_status`` ids, as Mastodon's does."""
    user = current_mastodon_user()
    asked = window()
    # The paging ids are last_status ids: each names the newest message of a conversation.
    page = dataclasses.replace(asked, **{name: direct.message_key(request.args.get(name))
                                         for name in ("max_id", "since_id", "min_id")})
    rows = page_of(direct.conversations_select(user), Message.id, page)
    entities = direct.conversations(user, rows)
    first, last = ((entities[0]["last_status"]["id"], entities[-1]["last_status"]["id"]) if entities
                   else (None, None))
    return list_response(entities, first, last)


@route(bp, "/api/v1/conversations/<raw_id>/read", methods=["POST"])
@oauth_required("write:conversations")
def read_conversation(raw_id: str):
    """Mark what the other person sent you read (with its notifications); the Conversation."""
    user = current_mastodon_user()
    latest = _latest_or_404(user, raw_id)
    messages.mark_thread_read(user, latest.other_party(user))
    return direct.conversations(user, [latest])[0]


@route(bp, "/api/v1/conversations/<raw_id>", methods=["DELETE"])
@oauth_required("write:conversations")
def delete_conversation(raw_id: str):
    """Refused (422) for a conversation you have: messages cannot be hidden from one side; 404 for one
    you do not have."""
    _latest_or_404(current_mastodon_user(), raw_id)
    mastodon_abort(422, KEPT)
