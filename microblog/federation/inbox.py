"""The inboxes: ``POST /user/<name>/inbox`` and the shared ``POST /inbox``.

An activity is accepted only with a valid HTTP Signature by a key of the actor it names, from a server
that is not blocked. It is stored by its id (a second delivery of it is a no-op) and handled by a job
(federation/processing.py): the answer is a quick 202.
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from flask import abort, current_app, jsonify, request

from microblog.extensions import db, limiter
from microblog.federation import actors, httpsig, instances, processing
from microblog.federation.blueprint import bp
from microblog.models import URI_MAX, InboxActivity, User

log = logging.getLogger(__name__)


def _sender_host() -> str:
    """Who an inbox POST counts against: the host of the key it was signed with (else the address)."""
    try:
        return "inbox:" + instances.domain_of(httpsig.key_id_of(request.headers))
    except httpsig.SignatureError:
        return f"inbox-ip:{request.remote_addr}"


def _refuse(status: int, message: str):
    return jsonify(error=message), status


@bp.post("/user/<username>/inbox")
@limiter.limit(lambda: current_app.config["RATELIMIT_INBOX"], key_func=_sender_host)
def inbox(username: str):
    recipient = db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == username.lower(),
                                                        User.domain.is_(None)))
    if recipient is None or not current_app.config["FEDERATION_ENABLED"]:
        abort(404)
    return _receive(recipient.id)


@bp.post("/inbox")
@limiter.limit(lambda: current_app.config["RATELIMIT_INBOX"], key_func=_sender_host)
def shared_inbox():
    if not current_app.config["FEDERATION_ENABLED"]:
        abort(404)
    return _receive(None)


def _read_body() -> bytes:
    limit = current_app.config["FEDERATION_MAX_INBOX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        abort(413)
    return body


def _receive(recipient_id: int | None):
    body = _read_body()
    try:
        activity = json.loads(body)
    except ValueError:
        return _refuse(400, "The body is not JSON.")
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        return _refuse(400, "The body is not an activity.")
    try:
        key_id = httpsig.key_id_of(request.headers)
    except httpsig.SignatureError as exc:
        return _refuse(401, str(exc))
    if instances.is_blocked(instances.domain_of(key_id)):
        return _refuse(403, "This server does not accept activities from yours.")
    sender, problem = _verified_sender(key_id, body)
    if sender is None:
        return _refuse(401, problem)
    actor = activity.get("actor")
    actor_id = actor.get("id") if isinstance(actor, dict) else actor
    if not isinstance(actor_id, str) or actor_id != sender.actor_uri:
        # Another server's key cannot speak for this actor (no relayed or forged activities).
        return _refuse(401, "The activity's actor is not the signer.")
    uri = activity.get("id")
    if not isinstance(uri, str) or not uri or len(uri) > URI_MAX \
            or instances.domain_of(uri) != instances.domain_of(actor_id):
        return _refuse(400, "The activity needs an id on its actor's server.")
    if not processing.is_supported(activity["type"]):
        return "", 202  # accepted and ignored, as servers expect of types they do not handle
    stored = _store(uri, sender.actor_uri or "", activity["type"][:32], body.decode("utf-8", "replace"),
                    recipient_id)
    if stored is not None:
        processing.queue(stored)
    return "", 202


def _verified_sender(key_id: str, body: bytes) -> tuple[User | None, str]:
    """The remote actor whose key signed this request, after one refetch of the key if it failed to
    verify (the actor may have rotated its key); else None and what was wrong."""
    target = request.full_path if request.query_string else request.path
    problem = "The key that signed the request is unknown."
    for refresh in (False, True):
        sender = actors.actor_for_key(key_id, refresh=refresh)
        if sender is None or not sender.public_key_pem:
            continue
        try:
            httpsig.verify_request("POST", target, request.headers, body, sender.public_key_pem)
            return sender, ""
        except httpsig.SignatureError as exc:
            log.info("inbox: signature from %s refused (%s)", key_id, exc)
            problem = f"The signature is not valid: {exc}."
    return None, problem


def _store(uri: str, actor_uri: str, kind: str, payload: str, recipient_id: int | None) -> int | None:
    """Keep the activity; None when its id was received before (duplicates are processed once)."""
    if db.session.scalar(sa.select(InboxActivity.id).where(InboxActivity.uri == uri)) is not None:
        return None
    row = InboxActivity(uri=uri, actor_uri=actor_uri, type=kind, payload=payload, recipient_id=recipient_id)
    db.session.add(row)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # the same activity, delivered to two inboxes at once
        db.session.rollback()
        return None
    return row.id
