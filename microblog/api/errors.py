"""JSON errors for the API: one helper to abort, and the mapping from domain errors to statuses."""

from __future__ import annotations

from typing import NoReturn

from microblog.exceptions import (
    ConflictError,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from microblog.web import abort_json

STATUS_FOR = {ValidationError: 422, ConflictError: 409, PermissionDenied: 403, NotFound: 404}


def abort_for(exc: DomainError, rename: dict[str, str] | None = None) -> NoReturn:
    """Turn a broken business rule into its HTTP status, naming the field when there is one.

    ``rename`` maps a web form's field name to the API's (the post form's ``post`` is ``body``).
    """
    status = next((code for kind, code in STATUS_FOR.items() if isinstance(exc, kind)), 400)
    field = (rename or {}).get(exc.field or "", exc.field)
    errors = {"json": {field: [exc.message]}} if field else None
    abort_json(status, exc.message, errors)
