"""What a Mastodon client sends to post or edit a status (docs: methods/statuses#create, #edit), read
into the arguments of ``services.posts``; what we cannot do yet is refused with Mastodon's 422
``{"error": "Validation failed: ..."}``, never silently dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

from microblog.mastodon.auth import mastodon_abort, text_param
from microblog.mastodon.listing import parse_id
from microblog.models import Visibility

# Mastodon's visibilities as ours. "direct" is a private message (``mastodon.direct``), which the
# create view sends before it gets here.
VISIBILITIES = {"public": Visibility.PUBLIC.value, "unlisted": Visibility.UNLISTED.value,
                "private": Visibility.FOLLOWERS.value}
DIRECT = "direct"
# Parameters of features this server does not have: refused rather than ignored, so a client does not
# believe it made a poll or scheduled a post.
UNSUPPORTED = {"poll": "Polls are not supported", "scheduled_at": "Scheduled posts are not supported",
               "quoted_status_id": "Quote posts are not supported"}


def invalid(reason: str) -> NoReturn:
    """Stop with Mastodon's 422: ``{"error": "Validation failed: <reason>"}``."""
    mastodon_abort(422, f"Validation failed: {reason}")


@dataclass(frozen=True)
class NewStatus:
    """The arguments of ``posts.publish_post`` a create request gives (``in_reply_to``: a status id as
    sent, resolved by the view)."""

    body: str
    in_reply_to: Any = None
    visibility: str | None = None
    summary: str | None = None
    media_ids: list[int] = field(default_factory=list)


def media_ids(values: dict[str, Any]) -> list[int] | None:
    """``media_ids[]`` as ids (None when not sent); one that is no id is refused."""
    raw = values.get("media_ids")
    if raw is None:
        return None
    items = raw if isinstance(raw, list) else [raw]
    ids = [parse_id(item) for item in items if item != ""]
    if any(item is None for item in ids):
        invalid("media_ids must be a list of media attachment ids")
    return [item for item in ids if item is not None]


def check_supported(values: dict[str, Any]) -> None:
    """Refuse what a create or edit asks for that this server cannot do (a poll, a schedule, a quote),
    and text parameters that are not text."""
    for name, reason in UNSUPPORTED.items():
        # A form sends a poll as poll[options][]=...&poll[expires_in]=...
        if values.get(name) not in (None, "", {}) or any(key.startswith(f"{name}[") for key in values):
            invalid(reason)
    for name in ("status", "spoiler_text"):
        if values.get(name) is not None and not isinstance(values[name], str):
            invalid(f"{name} must be text")


def new_status(values: dict[str, Any]) -> NewStatus:
    """A create request's parameters (``auth.params()``), checked for type; the services check the rest."""
    check_supported(values)
    visibility = values.get("visibility")
    if visibility not in (None, "") and (not isinstance(visibility, str) or visibility not in VISIBILITIES):
        invalid("Visibility is not included in the list")
    return NewStatus(
        body=text_param(values, "status") or "",
        in_reply_to=values.get("in_reply_to_id") or None,
        visibility=VISIBILITIES.get(visibility) if isinstance(visibility, str) else None,
        summary=text_param(values, "spoiler_text"),
        media_ids=media_ids(values) or [],
    )
