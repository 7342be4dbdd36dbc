"""Mastodon's media API (docs: methods/media): upload an image, ask whether it is processed, change its
description, before it is attached to a status.

- ``POST /api/v2/media``: stored at once and processed by a job: 202 with ``url`` null while it
  waits (ask ``GET /api/v1/media/:id``), 200 when the job was quicker than the answer.
- ``POST /api/v1/media`` (deprecated, still used): processed before the answer, as Mastodon's v1 is,
  so the answer is 200 with the image's ``url``.
- ``GET`` and ``PUT /api/v1/media/:id``: one of the caller's uploads not attached to a status yet
  (any other id is a 404, as Mastodon's); 206 while it is processed, 200 after, 422 when it failed.

Uploads are checked by services.media (type from the bytes, size, pixels, quota): too large is a 413,
anything else refused a 422, the storage down a 503, always ``{"error": ...}`` in English; uploads
count against RATELIMIT_UPLOADS per account (429). The views may carry one image past
MAX_CONTENT_LENGTH (web.accepts_files). ``focus`` is checked ("x,y", each
-1.0 to 1.0) but not kept: thumbnails are not cropped here. A custom ``thumbnail`` is ignored.
"""

from __future__ import annotations

import logging
import math
from typing import Any, NoReturn

from flask import Blueprint, current_app, request
from flask_babel import force_locale
from limits import parse_many

from microblog.exceptions import DomainError, http_status
from microblog.extensions import db, limiter
from microblog.mastodon.auth import current_mastodon_user, mastodon_abort, oauth_required, params
from microblog.mastodon.listing import parse_id
from microblog.mastodon.paths import route
from microblog.mastodon.status_entity import media_attachment
from microblog.models import Media, MediaStatus
from microblog.services import media
from microblog.web import accepts_files

log = logging.getLogger(__name__)
bp = Blueprint("mastodon_media", __name__)

NO_FILE = "Validation failed: File can't be blank"
BAD_FOCUS = "Validation failed: Focus must be two numbers from -1.0 to 1.0, as x,y"
BAD_DESCRIPTION = "Validation failed: Description must be text"
PROCESSING_ERROR = "Error processing thumbnail for uploaded media"


def _refused(exc: DomainError) -> NoReturn:
    headers = {"Retry-After": "2"} if http_status(exc) == 503 else None
    mastodon_abort(http_status(exc), exc.message, headers=headers)


def _description(values: dict[str, Any]) -> str | None:
    """``description`` as text (a JSON number is its digits); another type is a 422."""
    value = values.get("description")
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    mastodon_abort(422, BAD_DESCRIPTION)


def _check_focus(values: dict[str, Any]) -> None:
    """``focus``: two numbers from -1.0 to 1.0, ``x,y``, when given."""
    value = values.get("focus")
    if value in (None, ""):
        return
    parts = value.split(",") if isinstance(value, str) else []
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 2 or not all(math.isfinite(n) and -1.0 <= n <= 1.0 for n in numbers):
        mastodon_abort(422, BAD_FOCUS)


def _count_upload(user_id: int) -> None:
    """RATELIMIT_UPLOADS for the account (the Mastodon views are exempt from Flask-Limiter's decorators,
    so this counts in its storage itself): past it, 429."""
    if not limiter.enabled or not current_app.config["RATELIMIT_ENABLED"]:
        return
    try:
        allowed = all([limiter.limiter.hit(item, "mastodon-uploads", f"user:{user_id}")
                       for item in parse_many(current_app.config["RATELIMIT_UPLOADS"])])
    except Exception:  # noqa: BLE001  # storage down: not counted, as RATELIMIT_SWALLOW_ERRORS does
        log.exception("rate limit storage failed; the upload is not counted")
        return
    if not allowed:
        mastodon_abort(429, "Too many requests")


def _create(process_now: bool) -> Media:
    user = current_mastodon_user()
    _count_upload(user.id)
    values = params()
    upload = request.files.get("file")
    if upload is None:
        mastodon_abort(422, NO_FILE)
    description = _description(values)
    _check_focus(values)
    raw = upload.stream.read(int(current_app.config["MEDIA_MAX_BYTES"]) + 1)  # a byte over tells
    try:
        with force_locale("en"):
            return media.upload_media(user, raw, description, process_now=process_now)
    except DomainError as exc:
        _refused(exc)


def _unposted(raw_id: str) -> Media:
    """The caller's upload ``raw_id`` that no status carries yet (404 otherwise)."""
    media_id = parse_id(raw_id)
    try:
        item = media.own_media(current_mastodon_user(), media_id or 0)
    except DomainError:
        mastodon_abort(404, "Record not found")
    if item.post_id is not None:
        mastodon_abort(404, "Record not found")
    return item


def _answer(item: Media):
    """Mastodon's show and update: 422 failed, 206 still processing, 200 ready."""
    if item.status == MediaStatus.FAILED:
        mastodon_abort(422, PROCESSING_ERROR)
    return media_attachment(item), 206 if item.status == MediaStatus.PENDING else 200


@route(bp, "/api/v1/media", methods=["POST"])
@oauth_required("write:media")
@accepts_files(1)
def upload_v1():
    """Upload an image, processed before the answer (200)."""
    item = _create(process_now=True)
    if item.status == MediaStatus.FAILED:
        mastodon_abort(422, PROCESSING_ERROR)
    return media_attachment(item)


@route(bp, "/api/v2/media", methods=["POST"])
@oauth_required("write:media")
@accepts_files(1)
def upload_v2():
    """Upload an image, processed by a job: 202 (``url`` null) until it is, 200 if it already is."""
    item = _create(process_now=False)
    db.session.refresh(item)  # the job may have processed it already
    return media_attachment(item), 202 if item.status == MediaStatus.PENDING else 200


@route(bp, "/api/v1/media/<media_id>", methods=["GET"])
@oauth_required("write:media")
def show_media(media_id: str):
    return _answer(_unposted(media_id))


@route(bp, "/api/v1/media/<media_id>", methods=["PUT"])
@oauth_required("write:media")
def update_media(media_id: str):
    """Change the description (``focus`` is checked, not kept); only what is given changes."""
    item = _unposted(media_id)
    values = params()
    _check_focus(values)
    if "description" in values:
        description = _description(values)
        try:
            with force_locale("en"):
                item = media.describe_media(current_mastodon_user(), item.id, description)
        except DomainError as exc:
            _refused(exc)
    return _answer(item)
