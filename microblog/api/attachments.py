"""The images of posts in API answers: how one looks (``MediaSchema``), and reading them once per answer.

A list view hands its page of posts to :func:`prefetch` (``api.pages.page_of`` does it for every list);
the post schema's ``media_attachments`` then reads each post's images with :func:`attachments_of`. A
post nobody prefetched (one post, a new post) is read on its own: one statement, and none for a post
without images.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import marshmallow as ma
from flask import g

from microblog.external_urls import external_media_url
from microblog.models import MediaStatus, Post
from microblog.services import media


class MediaSchema(ma.Schema):
    """An uploaded image: processed by a job after the upload (``status``), attached to a post by id."""

    # Everyone but the moderators gets no file, placeholder or alt text of an image the moderators hid.
    redact_hidden = True

    id = ma.fields.Integer(required=True)
    type = ma.fields.String(required=True, metadata={"enum": ["image"]})
    status = ma.fields.String(required=True, metadata={
        "enum": [s.value for s in MediaStatus],
        "description": "pending: being processed (ask again); ready: the files exist; failed: see error"})
    url = ma.fields.String(allow_none=True, required=True, metadata={
        "format": "uri", "description": "The image at display size (no metadata left in it); null until "
                                        "ready, or when the moderators hid it"})
    preview_url = ma.fields.String(allow_none=True, required=True, metadata={
        "format": "uri", "description": "A thumbnail, for lists; null like url"})
    description = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "The alt text, read to people who cannot see the image"})
    width = ma.fields.Integer(allow_none=True, required=True, metadata={
        "description": "Of the display size once ready (the upload's before)"})
    height = ma.fields.Integer(allow_none=True, required=True)
    blurhash = ma.fields.String(allow_none=True, required=True,
                                metadata={"description": "A BlurHash placeholder to show while it loads"})
    colour = ma.fields.String(allow_none=True, required=True,
                              metadata={"pattern": "^#[0-9a-f]{6}$", "description": "Its average colour"})
    hidden = ma.fields.Boolean(required=True, metadata={"description": "A moderator hid it"})
    error = ma.fields.String(allow_none=True, required=True,
                             metadata={"description": "Why it failed, for people; null otherwise"})
    created_at = ma.fields.AwareDateTime(required=True)
    post_id = ma.fields.Integer(allow_none=True, required=True,
                                metadata={"description": "The post it is attached to; null until then"})

    @ma.pre_dump
    def from_row(self, item: Any, **_kwargs: Any) -> dict[str, Any]:
        """The row as clients see it (see ``redact_hidden``)."""
        shown = item.hidden_at is None or not self.redact_hidden
        ready = shown and item.status == MediaStatus.READY
        return {
            "id": item.id, "type": "image", "status": item.status,
            "url": external_media_url(item.file_key) if ready else None,
            "preview_url": external_media_url(item.thumbnail_key) if ready else None,
            "description": item.description if shown else None,
            "width": item.width, "height": item.height,
            "blurhash": item.blurhash if shown else None, "colour": item.colour if shown else None,
            "hidden": item.hidden_at is not None,
            "error": media.failure_message(item.error) if item.status == MediaStatus.FAILED else None,
            "created_at": item.created_at, "post_id": item.post_id,
        }


class ModeratedMediaSchema(MediaSchema):
    """An image as the moderators see it: hidden or not, with its files."""

    redact_hidden = False


class AttachmentsField(ma.fields.List):
    """A post's images, in order, read for the whole answer at once (see :func:`prefetch`)."""

    def __init__(self, schema: type[MediaSchema] = MediaSchema, **kwargs: Any) -> None:
        super().__init__(ma.fields.Nested(schema), **kwargs)

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = ma.missing) -> Any:
        return attachments_of(obj)


def _cache() -> dict[int, list[media.MediaRow]]:
    found: dict[int, list[media.MediaRow]] | None = g.get("api_attachments")
    if found is None:
        found = g.api_attachments = {}
    return found


def prefetch(items: Iterable[Any]) -> None:
    """Read the images of every post among ``items`` that has some, in one statement."""
    cache = _cache()
    wanted = [item.id for item in items
              if isinstance(item, Post) and item.media_count and item.id not in cache]
    if not wanted:
        return
    found = media.media_of_posts(wanted)
    for post_id in wanted:
        cache[post_id] = found.get(post_id, [])


def attachments_of(post: Post) -> list[media.MediaRow]:
    """The images of ``post`` in order (prefetched, or read now)."""
    if not post.media_count:
        return []
    cache = _cache()
    if post.id not in cache:
        prefetch([post])
    return cache[post.id]
