"""Mastodon's StatusEdit entity (docs: entities/StatusEdit): one version of a status, for
``GET /api/v1/statuses/:id/history``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from microblog.mastodon import entities
from microblog.mastodon.status_entity import content_html, status
from microblog.models import Post, User
from microblog.services import threads


def history(viewer: User | None, post: Post) -> list[dict[str, Any]]:
    """Every version of ``post``, oldest first, the current one last (a post never edited has one).

    Only the text and the content warning have versions: each version shows the post's images, and
    its mentions are linked as the current version's are."""
    current = status(viewer, post)
    mentioned = [mention["username"] for mention in current["mentions"]]
    versions: list[tuple[str, str | None, datetime]] = [
        (edit.body, edit.summary, edit.written_at) for edit in reversed(threads.history(post))]
    versions.append((post.body, post.summary, post.edited_at or post.timestamp))
    return [{"content": content_html(Post(body=body), mentioned), "spoiler_text": summary or "",
             "sensitive": bool(summary), "created_at": entities.iso(written_at),
             "account": current["account"], "poll": None, "media_attachments": current["media_attachments"],
             "emojis": []}
            for body, summary, written_at in versions]
