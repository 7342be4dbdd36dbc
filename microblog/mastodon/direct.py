"""Private messages as Mastodon's direct statuses and conversations (docs: entities/Status,
entities/Conversation, methods/conversations): writing one (a status with ``visibility: direct``) and
the Conversation entities of a page.

A conversation is everything between the viewer and one other person, so its id is that person's
account id (stable, and unique among the viewer's conversations). Its ``last_status`` is the newest
message, shaped as a Status with ``visibility: "direct"``.

Status ids of messages: ``MESSAGE_ID_OFFSET`` + the message id. Post ids stay below ``ID_MAX`` (2**31)
and repost ids are ``REBLOG_ID_OFFSET`` (10**15) + an announce id, so a message's status id (from 2 *
10**15 on) collides with neither, and ``status_entity.parse_status_id`` names no post for it (a
message is not a post: /api/v1/statuses/:id answers 404 for it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import sqlalchemy as sa
from flask_babel import force_locale

from microblog.exceptions import DomainError
from microblog.extensions import db
from microblog.external_urls import external_url
from microblog.mastodon import entities
from microblog.mastodon.auth import mastodon_abort
from microblog.mastodon.listing import BIGINT_MAX, parse_id
from microblog.mastodon.status_entity import mention_entity
from microblog.models import ID_MAX, Message, Post, User
from microblog.post_html import text_html
from microblog.services import messages

MESSAGE_ID_OFFSET = 2 * 10**15
NO_RECIPIENT = "Mention at least one account of this site to send a direct message to"
TEXT_ONLY = "A direct message is text only (no media, no poll)"


def message_status_id(message: Message) -> str:
    """The status id of a private message."""
    return str(MESSAGE_ID_OFFSET + message.id)


def message_key(raw: Any) -> int | None:
    """The message id behind a conversation list's paging id (a ``last_status`` id; a bare message id
    is taken too), or None."""
    value = parse_id(raw, BIGINT_MAX)
    if value is not None and value > MESSAGE_ID_OFFSET:
        value -= MESSAGE_ID_OFFSET
    return value if value is not None and value <= ID_MAX else None


def _message_status(viewer: User, message: Message, mentioned: Sequence[User],
                    accounts: dict[int, dict[str, Any]]) -> dict[str, Any]:
    other = message.other_party(viewer)
    url = external_url("messages.thread", username=other.username)
    return {
        "id": message_status_id(message),
        "uri": f"{external_url('messages.conversations')}#message-{message.id}",
        "url": url,
        "created_at": entities.iso(message.timestamp),
        "edited_at": None,
        "account": accounts[message.sender_id],
        "content": text_html(message.body, [person.username for person in mentioned]),
        "visibility": "direct",
        "sensitive": False,
        "spoiler_text": "",
        "media_attachments": [],
        "application": None,
        "mentions": [mention_entity(person) for person in mentioned],
        "tags": [],
        "emojis": [],
        "reblogs_count": 0,
        "favourites_count": 0,
        "replies_count": 0,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": None,
        "poll": None,
        "card": None,
        "language": None,
        "filtered": [],
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        **({"pinned": False} if message.sender_id == viewer.id else {}),
    }


def message_statuses(viewer: User, rows: Sequence[Message]) -> list[dict[str, Any]]:
    """The direct statuses of ``viewer``'s messages, each mentioning its recipient (one statement for
    all the accounts)."""
    accounts = entities.accounts(_people(rows))
    return [_message_status(viewer, row, [row.recipient], accounts) for row in rows]


def conversations(viewer: User, rows: Sequence[Message]) -> list[dict[str, Any]]:
    """The Conversation entities of a page of conversations, given as their newest messages: two
    statements whatever the page's length (the accounts; the unread messages per sender)."""
    others = [row.other_party(viewer) for row in rows]
    unread = messages.unread_from(viewer, [other.id for other in others])
    accounts = entities.accounts(_people(rows))
    return [{"id": str(other.id), "unread": bool(unread.get(other.id)), "accounts": [accounts[other.id]],
             "last_status": _message_status(viewer, row, [row.recipient], accounts)}
            for row, other in zip(rows, others, strict=True)]


def _people(rows: Iterable[Message]) -> list[User]:
    return [person for row in rows for person in (row.sender, row.recipient)]


def conversations_select(viewer: User) -> sa.Select:
    """The newest message of each of ``viewer``'s conversations, the most recent first, leaving out
    those with a deactivated account (nobody sees it while it is away)."""
    away = Post.deactivated_authors()
    return viewer.conversations_select().where(Message.sender_id.not_in(away),
                                               Message.recipient_id.not_in(away))


def conversation(viewer: User, raw_id: Any) -> Message | None:
    """The newest message of ``viewer``'s conversation ``raw_id`` (the other person's id), or None when
    there is no such conversation (nobody by that id, a deactivated account, not a message between them)."""
    other_id = parse_id(raw_id)
    if other_id is None or other_id > ID_MAX or other_id == viewer.id:
        return None
    other = db.session.get(User, other_id)
    if other is None or other.is_deactivated:
        return None
    return db.session.scalar(viewer.thread_select(other).limit(1))


def _refuse(reason: str) -> NoReturn:
    mastodon_abort(422, f"Validation failed: {reason}")


def create_direct_status(user: User, values: dict[str, Any]) -> dict[str, Any]:
    """What ``POST /api/v1/statuses`` with ``visibility: direct`` does: send the text (``status``) as a
    private message to each account of this site it @mentions, with the messages' rules (length,
    blocks either way, a suspended or unconfirmed sender). Each recipient gets a message of their own,
    in their own conversation; the answer is the direct status of the first one, exactly as its
    conversation shows it (one status id, one shape), so it mentions the first recipient only.

    Stops with 422 ``{"error": "Validation failed: ..."}`` (Mastodon's English, whatever the
    request's language) when no account is mentioned, when media or a poll come along, or when the
    rules refuse any recipient: then nobody is sent anything.
    """
    text = values.get("status")
    text = text if isinstance(text, str) else ""
    if values.get("media_ids") or values.get("poll"):
        _refuse(TEXT_ONLY)
    recipients = messages.mentioned_recipients(user, text)
    if not recipients:
        _refuse(NO_RECIPIENT)
    try:
        with force_locale("en"):
            sent = messages.send_messages(user, recipients, text)
    except DomainError as refusal:
        db.session.rollback()
        _refuse(refusal.message.rstrip("."))
    return message_statuses(user, sent[:1])[0]
