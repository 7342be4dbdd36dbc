"""API imports: follows, blocks, mutes and bookmarks from Mastodon's CSV files (``multipart/form-data``),
run by a job; ask ``GET /api/imports/<id>`` for its progress, its counts and the skipped lines."""

from __future__ import annotations

from typing import Any, NoReturn

import marshmallow as ma
from flask import current_app, url_for
from flask_babel import gettext as _
from flask_smorest.fields import Upload
from werkzeug.datastructures import FileStorage

from microblog import ratelimits
from microblog.api.auth import BEARER, token_required
from microblog.api.parsing import FORM_AND_FILES, Blueprint
from microblog.api.schemas import StrictSchema
from microblog.bearer import current_api_user
from microblog.exceptions import DomainError, NotFound, http_status
from microblog.models import Task, User
from microblog.services import imports
from microblog.services.import_files import KINDS
from microblog.web import abort_json, accepts_files

bp = Blueprint("api_imports", __name__, url_prefix="/api",
               description="Imports of follows, blocks, mutes and bookmarks from Mastodon's CSV files")

RETRY_AFTER = "2"


class CsvFile(Upload):
    """A file part of a multipart body (a text field of that name is refused)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ma.ValidationError(_("Send the CSV file as a file."))
        return value


class NewImportSchema(StrictSchema):
    """An import: ``multipart/form-data`` with the kind, the mode and the file."""

    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS), metadata={
        "description": "What the file holds: following_accounts.csv, blocked_accounts.csv, "
                       "muted_accounts.csv or bookmarks.csv, as Mastodon exports them"})
    mode = ma.fields.String(load_default=imports.MERGE, validate=ma.validate.OneOf(imports.MODES), metadata={
        "description": "merge adds; overwrite also removes what the file does not name"})
    file = CsvFile(required=True, metadata={
        "description": "A UTF-8 CSV file of at most IMPORT_MAX_BYTES (1 MB) and IMPORT_MAX_ROWS "
                       "(10,000) lines"})


class ImportCountsSchema(ma.Schema):
    total = ma.fields.Integer(required=True)
    imported = ma.fields.Integer(required=True)
    skipped = ma.fields.Integer(required=True)
    pending = ma.fields.Integer(required=True)


class SkippedRowSchema(ma.Schema):
    row = ma.fields.Integer(required=True, metadata={"description": "The line's number among the data lines"})
    value = ma.fields.String(required=True)
    reason = ma.fields.String(required=True, metadata={
        "description": "invalid, remote, not_found, self, blocked_by_you, blocked_you, not_this_site, "
                       "post_not_found or refused"})
    message = ma.fields.String(required=True, metadata={"description": "The reason, for people"})


class ImportSchema(ma.Schema):
    id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    mode = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "queued, running, done or failed"})
    progress = ma.fields.Integer(required=True)
    counts = ma.fields.Nested(ImportCountsSchema, required=True)
    message = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    finished_at = ma.fields.AwareDateTime(allow_none=True)
    skipped = ma.fields.List(ma.fields.Nested(SkippedRowSchema), required=True, metadata={
        "description": "The first 200 skipped lines, once the import is done"})


def _caller() -> User:
    user = current_api_user()
    assert user is not None  # token_required
    return user


def _answer(task: Task, status: int = 200):
    data = imports.status_data(task)
    data.pop("download_url")
    data["skipped"] = imports.skipped_rows(task) if data["status"] == "done" else []
    headers = {"Location": url_for("api_imports.get_import", task_id=task.id)}
    if data["status"] in ("queued", "running"):
        headers["Retry-After"] = RETRY_AFTER
    return data, status, headers


def _refused(exc: DomainError) -> NoReturn:
    errors = {FORM_AND_FILES: {exc.field or "file": [exc.message]}}
    abort_json(http_status(exc), exc.message, errors=errors)


@bp.route("/imports", methods=["POST"])
@accepts_files(1)
@token_required
@ratelimits.api_writes
@ratelimits.imports_per_account
@bp.arguments(NewImportSchema, location=FORM_AND_FILES)
@bp.response(202, ImportSchema, description="Stored; ask GET /api/imports/<id> until its status is done")
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(403, response="FORBIDDEN")
@bp.alt_response(409, response="CONFLICT")
@bp.alt_response(413, response="REQUEST_ENTITY_TOO_LARGE")
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def create_import(data):
    """Import follows, blocks, mutes or bookmarks from a CSV file that Mastodon exported.

    The file is read at once (422 naming what is wrong with it); its lines are then applied by a job.
    Accounts and posts of this site are imported; others are skipped with a reason. One import at a
    time (409 while one is under way); accepted imports count against RATELIMIT_IMPORTS.
    """
    upload = data["file"]
    raw = upload.stream.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
    try:
        task = imports.start_import(_caller(), data["kind"], data["mode"], raw, upload.filename)
    except DomainError as exc:
        _refused(exc)
    return _answer(task, 202)


@bp.route("/imports/<task_id>", methods=["GET"])
@token_required
@bp.response(200, ImportSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
@bp.doc(security=[BEARER])
def get_import(task_id: str):
    """One of your imports: its status, progress, counts and (once done) the skipped lines."""
    task = imports.import_for(_caller(), task_id)
    if task is None:
        raise NotFound(_("There is no such import."))
    return _answer(task)
