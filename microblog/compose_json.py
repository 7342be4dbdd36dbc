"""The composer's answers to a fetch (static/compose.js posts without reloading the page): the new
post's card to put at the top of the timeline, or the form's errors to show beside its fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Response, get_flashed_messages, jsonify
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import Field, FieldList

from microblog.models import Post
from microblog.post_cards import post_card
from microblog.timeline import top_cursor


def published(post: Post, message: str, back: str, changed: Sequence[Post] = ()) -> Response:
    """201 with the card of ``post`` (as the timeline renders it), the success ``message``, and the
    fresh cards of the posts in ``changed`` (a reply's parent: its reply count went up), by card id.
    ``back``: the page the cards are shown on, where their buttons come back to."""
    # The service's flash, if any, is said here instead of on the next page.
    get_flashed_messages()
    cards = {f"post-{other.id}": str(post_card(other, back)) for other in changed}
    response = jsonify({"html": str(post_card(post, back)), "message": message, "id": post.id,
                        "top": top_cursor(post), "changed": cards})
    response.status_code = 201
    response.cache_control.no_store = True
    return response


def refused(form: FlaskForm) -> Response:
    """400 with ``{"errors": [{"field": <id or null>, "messages": [...]}, ...]}``: each field's errors
    under the id of its input, and those of no field (a refused token, a domain rule flashed by
    ``show_error``) with a null field."""
    errors: list[dict[str, Any]] = []
    for field in form:
        errors.extend(_field_errors(field))
    general = [str(message) for message in get_flashed_messages()]
    if not errors and not general:
        general = [_("The post could not be sent. Please try again.")]
    if general:
        errors.append({"field": None, "messages": [str(message) for message in general]})
    response = jsonify({"errors": errors})
    response.status_code = 400
    response.cache_control.no_store = True
    return response


def _field_errors(field: Field) -> list[dict[str, Any]]:
    if isinstance(field, FieldList):
        return [item for entry in field.entries for item in _field_errors(entry)]
    if not field.errors:
        return []
    # The token is no field anyone can fix: its error is said for the whole form.
    name = None if field.type == "CSRFTokenField" else field.id
    return [{"field": name, "messages": [str(message) for message in field.errors]}]
