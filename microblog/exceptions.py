"""Domain errors raised by the services and turned into messages by the routes."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule was broken. ``field`` names the form field the message belongs to, if any."""

    field: str | None = None

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class ValidationError(DomainError):
    """Input that breaks a rule (length, format)."""


class TooLarge(ValidationError):
    """Input over a size limit (an uploaded file larger than MEDIA_MAX_BYTES)."""


class ConflictError(DomainError):
    """The request clashes with existing data (a taken username, for example)."""


class PermissionDenied(DomainError):
    """The user may not do this."""


class NotFound(DomainError):
    """The thing asked for does not exist."""


class Unavailable(DomainError):
    """A service the action needs (the media storage) cannot be reached: nothing was saved, try again."""


class AccountSuspended(PermissionDenied):
    """The account is suspended: it can read, export its data and sign out, but change nothing."""


def http_status(exc: DomainError) -> int:
    """The HTTP status that answers a broken rule: 413 too large, 422 invalid, 409 conflict, 403 refused,
    404 missing, 503 a service it needs is down."""
    statuses = ((TooLarge, 413), (ValidationError, 422), (ConflictError, 409), (PermissionDenied, 403),
                (NotFound, 404), (Unavailable, 503))
    for kind, status in statuses:
        if isinstance(exc, kind):
            return status
    return 400
