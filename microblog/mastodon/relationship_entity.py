"""Mastodon's Relationship entity (docs: entities/Relationship): how the token's user stands with
other accounts, every documented key present, for any number of accounts in two statements.

``requested`` is a follow request waiting for the answer of a locked (or remote) account. What this
site has no notion of is answered as the fact it is here: no private notes, no endorsements, no domain
blocks, no per-follow reblog or post notifications or languages (a follow shows reblogs;
``showing_reblogs`` follows ``following``), and a mute always silences notifications too
(``muting_notifications`` is ``muting``) and never expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from microblog.models import User
from microblog.services import relationships as relationships_


def relationships(viewer: User, people: Sequence[User]) -> list[dict[str, Any]]:
    """The Relationship of ``viewer`` with each of ``people``, in their order."""
    facts = relationships_.relationships_with(viewer, people)
    followed_by = relationships_.followers_among(viewer, [person.id for person in people])
    entities = []
    for person in people:
        fact = facts.get(person.id, relationships_.NONE)
        entities.append({
            "id": str(person.id),
            "following": fact.following,
            "showing_reblogs": fact.following,
            "notifying": False,
            "languages": None,
            "followed_by": person.id in followed_by,
            "blocking": fact.blocked_them,
            "blocked_by": fact.blocked_me,
            "muting": fact.muted,
            "muting_notifications": fact.muted,
            "muting_expires_at": None,
            "requested": fact.requested,
            "requested_by": False,
            "domain_blocking": False,
            "endorsed": False,
            "note": "",
        })
    return entities


def relationship(viewer: User, person: User) -> dict[str, Any]:
    """The Relationship of ``viewer`` with one account (what follow, block and mute answer)."""
    return relationships(viewer, [person])[0]
