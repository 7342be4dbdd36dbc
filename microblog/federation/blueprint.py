"""The federation blueprint: inboxes, WebFinger, the collections (registered by ``register_federation``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("federation", __name__)
