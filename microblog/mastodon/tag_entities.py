"""Mastodon's Tag entity in full (docs: entities/Tag), for the views that show tags themselves: search,
a tag's page, the trends. A status names its tags more briefly (status_entity.tag_entity).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from microblog.mastodon.status_entity import tag_entity
from microblog.models import Tag
from microblog.services import tag_search


def _history(days: Sequence[tag_search.Day]) -> list[dict[str, str]]:
    """Mastodon's history: a Unix time of midnight and two counts, every value a string."""
    return [{"day": str(int(day.day.timestamp())), "uses": str(day.uses), "accounts": str(day.accounts)}
            for day in days]


def tags(rows: Sequence[Tag], signed_in: bool = False) -> list[dict[str, Any]]:
    """Tag entities with their week of history (one statement for them all). ``following`` and
    ``featuring`` are said to a signed-in caller only, and are false: tags cannot be followed here."""
    histories = tag_search.histories([tag.id for tag in rows])
    entities = []
    for tag in rows:
        entity = {"id": str(tag.id), **tag_entity(tag.name), "history": _history(histories[tag.id])}
        if signed_in:
            entity.update(following=False, featuring=False)
        entities.append(entity)
    return entities


def tag(row: Tag, signed_in: bool = False) -> dict[str, Any]:
    return tags([row], signed_in)[0]
