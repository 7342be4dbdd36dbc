"""API exports: start an export of your data (the whole account as a zip, or your posts as CSV or
JSON), poll its progress, download the file: the same exports, rules and retention as the web pages."""

from __future__ import annotations

import marshmallow as ma
from flask import send_file, url_for

from microblog import ratelimits
from microblog.api.auth import BEARER, token_required
from microblog.api.parsing import Blueprint
from microblog.api.schemas import StrictSchema
from microblog.bearer import current_api_user
from microblog.models import Task, User
from microblog.services import exports
from microblog.suspension import allowed_while_suspended
from microblog.web import abort_json

bp = Blueprint("api_exports", __name__, url_prefix="/api", description="Exports of your data")


class NewExportSchema(StrictSchema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(tuple(exports.FORMATS)), metadata={
        "description": "archive: everything in your account as a zip; csv or json: your posts"})


class ExportSchema(ma.Schema):
    id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "archive, csv or json"})
    status = ma.fields.String(required=True, metadata={"description": "queued, running, done or failed"})
    progress = ma.fields.Integer(required=True, metadata={"description": "0 to 100"})
    message = ma.fields.String(required=True, metadata={"description": "The status in words, translated"})
    finished_at = ma.fields.String(allow_none=True, metadata={"description": "ISO 8601, UTC"})
    expires_at = ma.fields.String(allow_none=True, metadata={"description": "When the file goes (ISO 8601)"})
    download_url = ma.fields.String(allow_none=True, metadata={
        "description": "Where to download the file (with your token) once it is ready and until it expires"})
    _links = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


def _me() -> User:
    user = current_api_user()
    assert user is not None  # token_required
    return user


def _export_or_404(task_id: str) -> Task:
    """One of your exports; anyone else's, or another kind of task, is a 404 (as if it did not exist)."""
    task = exports.task_for(_me(), task_id)
    if task is None or exports.export_format(task) is None:
        abort_json(404)
    return task


def _body(task: Task) -> dict:
    status = exports.task_status(task, url_for("api_exports.download_export", task_id=task.id))
    status["kind"] = status.pop("format")
    status["_links"] = {"self": url_for("api_exports.get_export", task_id=task.id)}
    return status


@bp.route("/exports", methods=["POST"])
@allowed_while_suspended  # your data is yours to take, suspended or not
@token_required
@ratelimits.api_writes
@bp.arguments(NewExportSchema)
@bp.response(202, ExportSchema, description="Started; ask GET /api/exports/<id> until it is done or failed")
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(409, response="CONFLICT", description="An export of yours is under way (Location: it)")
@bp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@bp.alt_response(429, response="TOO_MANY_REQUESTS")
@bp.doc(security=[BEARER])
def create_export(data):
    """Start an export: ``archive`` (everything: profile, posts and their images, likes, bookmarks,
    follows, blocks, mutes, messages, and Mastodon's CSVs, in one zip), ``csv`` or ``json`` (your posts).
    You also get an email with the link when it is ready."""
    try:
        task = exports.start_export(_me(), data["kind"])
    except exports.ExportInProgress as exc:
        running = url_for("api_exports.get_export", task_id=exc.task_id)
        abort_json(409, exc.message, headers={"Location": running})
    return _body(task), 202, {"Location": url_for("api_exports.get_export", task_id=task.id)}


@bp.route("/exports/<task_id>", methods=["GET"])
@token_required
@bp.response(200, ExportSchema)
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
@bp.doc(security=[BEARER])
def get_export(task_id: str):
    """One of your exports: its status and progress, and ``download_url`` once the file is ready."""
    return _body(_export_or_404(task_id)), 200, {"Cache-Control": "no-store"}


@bp.route("/exports/<task_id>/download", methods=["GET"])
@token_required
@bp.response(200, description="The file (application/zip, text/csv or application/json)")
@bp.alt_response(401, response="UNAUTHORIZED")
@bp.alt_response(404, response="NOT_FOUND")
@bp.doc(security=[BEARER])
def download_export(task_id: str):
    """The file of one of your finished exports, until it expires (404 before it is ready and after)."""
    task = _export_or_404(task_id)
    path = exports.export_file_for(_me(), task.id)
    if path is None:
        abort_json(404)
    response = send_file(path, mimetype=exports.content_type(task), as_attachment=True,
                         download_name=exports.download_name(task))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
