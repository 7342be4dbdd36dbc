"""Logging: stdout or a rotating file, and error reports mailed to ADMINS without flooding them."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
import time
from logging.handlers import RotatingFileHandler, SMTPHandler
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request

from microblog.timeutil import utcnow

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s [in %(pathname)s:%(lineno)d]"

# Sign-ins, sign-outs, password changes and resets, API tokens, refusals (403) and limits (429).
security_log = logging.getLogger("microblog.security")


class RateLimitedSMTPHandler(SMTPHandler):
    """Mails error records, at most one per ``interval`` seconds for the same place in the code."""

    def __init__(self, *args, interval: float = 600.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.interval = interval
        self._last_sent: dict[tuple[str, int], float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        key = (record.pathname, record.lineno)
        now = time.monotonic()
        if now - self._last_sent.get(key, -self.interval) < self.interval:
            return
        self._last_sent[key] = now
        super().emit(record)


def register_logging(app: Flask) -> None:
    """Log to stdout (containers, Heroku) or to instance/logs; mail errors to ADMINS in production."""
    app.after_request(log_refusals)
    if app.testing:
        return
    formatter = logging.Formatter(FORMAT)
    if app.config["LOG_TO_STDOUT"]:
        handler: logging.Handler = logging.StreamHandler(sys.stdout)
    else:
        logs = Path(app.config["INSTANCE_DIR"]) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(logs / "microblog.log", maxBytes=1_000_000, backupCount=10)
    handler.setFormatter(formatter)
    level = app.config["LOG_LEVEL"]
    # The app's logger and our modules' loggers ("microblog.mail", "microblog.jobs", ...).
    for logger in (app.logger, logging.getLogger("microblog")):
        if not any(type(h) is type(handler) for h in logger.handlers):
            logger.addHandler(handler)
        logger.setLevel(level)
    if app.config.get("MAIL_SERVER") and app.config.get("ADMINS") and not app.debug:
        app.logger.addHandler(error_mail_handler(app))


def error_mail_handler(app: Flask) -> logging.Handler:
    config = app.config
    credentials = (config["MAIL_USERNAME"], config["MAIL_PASSWORD"]) if config["MAIL_USERNAME"] else None
    handler = RateLimitedSMTPHandler(
        mailhost=(config["MAIL_SERVER"], config["MAIL_PORT"]),
        fromaddr=config["MAIL_DEFAULT_SENDER"],
        toaddrs=config["ADMINS"],
        subject="Microblog error",
        credentials=credentials,
        secure=() if config["MAIL_USE_TLS"] else None,
        timeout=10,
    )
    handler.setLevel(logging.ERROR)
    handler.setFormatter(logging.Formatter(FORMAT))
    return handler


# -- security events --------------------------------------------------------------------------------
def security_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one security event as a single JSON line: UTC time, event name, client address, fields.

    Callers pass user ids and ``digest()`` values, never passwords, tokens or email addresses.
    """
    record: dict[str, Any] = {"ts": utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                              "event": event}
    if has_request_context():
        record["ip"] = request.remote_addr
        record["method"] = request.method
        # The route's pattern, not the path: paths carry reset and unsubscribe tokens.
        record["route"] = request.url_rule.rule if request.url_rule is not None else None
    record.update((name, value) for name, value in fields.items() if value is not None)
    security_log.log(level, json.dumps(record, default=str, ensure_ascii=True))


def digest(value: str) -> str:
    """A short keyed hash of an address or a typed name: the same input gives the same digest, so
    events can be correlated, but the log does not reveal it (unlike a plain hash of an email)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, value.strip().lower().encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:16]


def log_refusals(response: Response) -> Response:
    """After each request: a refusal (403) or a rate limit (429) is a security event."""
    if response.status_code in (403, 429):
        fields: dict[str, Any] = {"status": response.status_code, "endpoint": request.endpoint,
                                  "user_id": _known_user_id()}
        if response.status_code == 429:
            from microblog.extensions import limiter

            breached = limiter.current_limit
            fields["limit"] = str(breached.limit) if breached is not None else None
        event = "rate_limited" if response.status_code == 429 else "forbidden"
        security_event(event, logging.WARNING, **fields)
    return response


def _known_user_id() -> int | None:
    """The web or API user this request already loaded, if any (never a database query of its own)."""
    for name in ("_login_user", "api_user"):
        user = g.get(name)
        if user is not None and getattr(user, "is_authenticated", False):
            return user.id
    return None
