"""Mastodon's markers API (docs: methods/markers, entities/Marker): where the user stopped reading their
home timeline and notifications, shared between apps."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from microblog.mastodon import entities
from microblog.mastodon.auth import current_mastodon_user, mastodon_abort, oauth_required, params
from microblog.mastodon.paths import route
from microblog.models import MARKER_ID_MAX, MARKER_TIMELINES, Marker
from microblog.services import markers

bp = Blueprint("mastodon_markers", __name__)


def _entities(saved: list[Marker]) -> dict[str, Any]:
    """``{"home": Marker, ...}``: Mastodon answers a hash keyed by timeline."""
    return {marker.timeline: {"last_read_id": marker.last_read_id, "version": marker.version,
                              "updated_at": entities.iso(marker.updated_at)} for marker in saved}


def _last_read_id(values: dict[str, Any], timeline: str) -> Any:
    """``home[last_read_id]`` as a form field, or ``{"home": {"last_read_id": ...}}`` in JSON."""
    nested = values.get(timeline)
    if isinstance(nested, dict):
        return nested.get("last_read_id")
    return values.get(f"{timeline}[last_read_id]")


@route(bp, "/api/v1/markers", methods=["GET"])
@oauth_required("read:statuses")
def get_markers():
    """The markers of the timelines asked for (``timeline[]=home&timeline[]=notifications``)."""
    asked = params().get("timeline")
    names = [asked] if isinstance(asked, str) else asked if isinstance(asked, list) else []
    return _entities(markers.get_markers(current_mastodon_user(), [n for n in names if isinstance(n, str)]))


@route(bp, "/api/v1/markers", methods=["POST"])
@oauth_required("write:statuses")
def save_markers():
    """Save ``home[last_read_id]`` and/or ``notifications[last_read_id]``; the saved markers back."""
    values = params()
    positions: dict[str, str] = {}
    for timeline in MARKER_TIMELINES:
        raw = _last_read_id(values, timeline)
        if raw is None:
            continue
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str) or not raw.strip() or len(raw) > MARKER_ID_MAX:
            mastodon_abort(422, "Validation failed: Last read id can't be blank")
        positions[timeline] = raw.strip()
    return _entities(markers.save_markers(current_mastodon_user(), positions))
