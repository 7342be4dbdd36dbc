"""Error pages: HTML in the site's style, or JSON for clients that ask for it."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, g, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from microblog.exceptions import DomainError, http_status
from microblog.extensions import db, login
from microblog.web import wants_json

bp = Blueprint("errors", __name__)

def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood. Please check what you sent.")),
        403: (_("Forbidden"), _("You do not have permission to do that.")),
        404: (_("Page not found"), _("The page you asked for does not exist, or it has moved.")),
        405: (_("Method not allowed"), _("This address does not accept that kind of request.")),
        401: (_("Unauthorized"), _("Please sign in or send valid credentials.")),
        409: (_("Conflict"), _("That clashes with something that already exists.")),
        413: (_("Too large"), _("What you sent is larger than this site accepts.")),
        415: (_("Unsupported media type"), _("Please send JSON with the Content-Type application/json.")),
        422: (_("Invalid input"), _("Some of what you sent is not valid.")),
        429: (_("Too many requests"), _("You are going a little fast. Please wait a moment and try again.")),
        500: (_("Something went wrong"),
              _("An unexpected error happened. It has been logged; please try again.")),
        503: (_("Back in a moment"),
              _("The site cannot reach its database right now. Please try again in a few seconds.")),
    }


def render_error(
    code: int,
    description: str | None = None,
    headers: dict[str, str] | None = None,
    field_errors: dict | None = None,
):
    """The error response for ``code``, as JSON or as a page."""
    title, text = _messages().get(code, (_("Error"), _("The request could not be completed.")))
    if description:
        text = description
    if wants_json():
        body = {"error": title, "message": text}
        if field_errors:
            body["errors"] = field_errors
        return body, code, headers or {}
    html = render_template("errors/error.html", code=code, title=title, message=text)
    return html, code, headers or {}


def handle_http_error(exc: HTTPException):
    if exc.response is not None:
        # The raiser chose the answer (a rate limit's on_breach: /oauth/token answers apps in JSON).
        return exc.response
    code = exc.code or 500
    if code >= 500:
        db.session.rollback()
    headers = {}
    allowed = getattr(exc, "valid_methods", None)  # only MethodNotAllowed has it
    if allowed:
        headers["Allow"] = ", ".join(allowed)
    # webargs (API input validation) and our API helpers attach details to the exception.
    data = getattr(exc, "data", None) or {}
    headers.update(data.get("headers") or {})
    # Werkzeug's default descriptions are English-only; ours are translated.
    return render_error(code, data.get("message"), headers=headers,
                        field_errors=data.get("errors") or data.get("messages"))


def handle_domain_error(exc: DomainError):
    """A broken business rule a view let through (every API view does): its status and message, and
    the field it concerns under the name the service gave it (JSON) or on the error page (HTML)."""
    db.session.rollback()
    errors = {"json": {exc.field: [exc.message]}} if exc.field else None
    return render_error(http_status(exc), exc.message, field_errors=errors)


def handle_untrusted_host(exc: SecurityError):
    """A Host header outside TRUSTED_HOSTS: no URL can be built for it, so answer without the page layout."""
    text = _("The request could not be understood. Please check what you sent.")
    if wants_json():
        return {"error": _("Bad request"), "message": text}, 400
    return text, 400, {"Content-Type": "text/plain; charset=utf-8"}


def handle_csrf_error(exc: CSRFError):
    return render_error(
        400, _("Your form expired or was sent from elsewhere. Please reload the page and try again.")
    )


def handle_unexpected(exc: Exception):
    db.session.rollback()
    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    return render_error(500)


def handle_database_down(exc: Exception):
    """The database does not answer: a 503 that needs no database, and a hint to retry soon."""
    current_app.logger.error("database unavailable: %s", exc)
    try:
        db.session.rollback()
    except sa.exc.SQLAlchemyError:
        pass
    # The page must not ask the database who is signed in (that is what just failed).
    g._login_user = login.anonymous_user()
    return render_error(503, headers={"Retry-After": "5"})


def register_error_handlers(app: Flask) -> None:
    # A connection that fails or drops (server down, network, pool): OperationalError/InterfaceError.
    app.register_error_handler(sa.exc.OperationalError, handle_database_down)
    app.register_error_handler(sa.exc.InterfaceError, handle_database_down)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(SecurityError, handle_untrusted_host)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected)
