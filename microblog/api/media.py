"""API media: upload an image (``multipart/form-data``), ask whether it is processed, change its alt text."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, NoReturn

import marshmallow as ma
from flask import current_app, url_for
from flask_babel import gettext as _
from flask_smorest.fields import Upload
from werkzeug.datastructures import FileStorage

from microblog import ratelimits
from microblog.api.attachments import MediaSchema
from microblog.api.auth import BEARER, token_required
from microblog.api.parsing import FORM_AND_FILES, Blueprint
from microblog.api.schemas import StrictSchema
from microblog.bearer import current_api_user
from microblog.exceptions import DomainError, Unavailable, http_status
from microblog.extensions import db
from microblog.models import MEDIA_DESCRIPTION_MAX, Media, MediaStatus, User
from microblog.services import media
from microblog.web import abort_json, accepts_files

bp = Blueprint("api_media", __name__, url_prefix="/api",
               description="Images: upload them, then attach them to a post with media_ids")

TOO_LARGE = HTTPStatus.REQUEST_ENTITY_TOO_LARGE.name
# How long a client waits before asking again about an upload being processed, or after the storage
# was down.
RETRY_AFTER = "2"


class ImageFile(Upload):
    """A file part of a multipart body (a text field of that name is refused)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ma.ValidationError(_("Send the image as a file."))
        return value


class NewMediaSchema(StrictSchema):
    """An image upload: ``multipart/form-data`` with the file and, optionally, its alt text."""

    file = ImageFile(required=True, metadata={
        "description": "A JPEG, PNG, WebP or GIF of at most MEDIA_MAX_BYTES (10 MB by default); its type is "
                       "read from its bytes. Metadata (EXIF, GPS) is removed."})
    description = ma.fields.String(metadata={"maxLength": MEDIA_DESCRIPTION_MAX,
                                             "description": "The alt text (it can be changed until posted)"})


class UpdateMediaSchema(StrictSchema):
    description = ma.fields.String(required=True, allow_none=True, metadata={
        "maxLength": MEDIA_DESCRIPTION_MAX, "description": "The new alt text; empty or null removes it"})


def _caller() -> User:
    """The token's user (the views are ``token_required``)."""
    user = current_api_user()
    assert user is not None
    return user


def _refused(exc: DomainError) -> NoReturn:
    """Answer a refused upload like any broken rule, naming the multipart field it concerns."""
    field = "description" if exc.field == "description" else "file"
    headers = {"Retry-After": RETRY_AFTER} if isinstance(exc, Unavailable) else None
    errors = {FORM_AND_FILES: {field: [exc.message]}}
    abort_json(http_status(exc), exc.message, errors=errors, headers=headers)


def _answer(item: Media, created: bool = False):
    """The upload, 202 while the job still has to process it (or always, for a new upload)."""
    status = 202 if created or item.status == MediaStatus.PENDING else 200
    headers = {"Location": url_for("api_media.get_media", media_id=item.id)}
    if item.status == MediaStatus.PENDING:
        headers["Retry-After"] = RETRY_AFTER
    return item, status, headers


@bp.route("/media", methods=["POST"])
@accepts_files(1)
@token_required
@ratelimits.api_writes
@ratelimits.uploads_per_account
@bp.arguments(NewMediaSchema, location=FORM_AND_FILES)
@bp.response(202, MediaSchema, description="Stored; ask GET /api/media/<id> until its status is not pending")
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(413, response=TOO_LARGE)
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.alt_response(503, response="SERVICE_UNAVAILABLE")
@bp.doc(security=[BEARER])
def create_media(data):
    """Upload an image to attach to a post later (``media_ids`` of ``POST /api/posts``).

    It is checked from its bytes at once (type, size, pixels, frames: 422 or 413 with the reason, and
    422 when your storage quota is full), stored, then resized and stripped of its metadata by a job.
    Uploads count against RATELIMIT_UPLOADS; one never attached to a post is deleted after a day.
    """
    upload = data["file"]
    limit = int(current_app.config["MEDIA_MAX_BYTES"])
    raw = upload.stream.read(limit + 1)  # one byte over is enough to know it is too large
    try:
        item = media.upload_media(_caller(), raw, data.get("description"))
    except DomainError as exc:
        _refused(exc)
    db.session.refresh(item)  # the job may have processed it already
    return _answer(item, created=True)


@bp.route("/media/<id:media_id>", methods=["GET"])
@token_required
@bp.response(200, MediaSchema, description="Processed (ready), or failed (see error)")
@bp.alt_response(202, schema=MediaSchema, description="Still being processed: ask again in a moment")
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
@bp.doc(security=[BEARER])
def get_media(media_id: int):
    """One of your uploads (someone else's is a 404)."""
    return _answer(media.own_media(_caller(), media_id))


@bp.route("/media/<id:media_id>", methods=["PATCH"])
@token_required
@ratelimits.api_writes
@bp.arguments(UpdateMediaSchema)
@bp.response(200, MediaSchema)
@bp.alt_response(202, schema=MediaSchema, description="Changed; still being processed")
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(404, response="NOT_FOUND")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def update_media(data, media_id: int):
    """Change the alt text of one of your uploads, until it is posted (403 after)."""
    return _answer(media.describe_media(_caller(), media_id, data["description"]))
