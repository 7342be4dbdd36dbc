"""What the accounts views of the Mastodon-compatible API share: finding an account by id or by
``acct``, reading Mastodon's booleans, and answering a service's refusal in Mastodon's words."""

from __future__ import annotations

from typing import Any, NoReturn
from urllib.parse import urlsplit

from flask import Blueprint, current_app, request

from microblog.exceptions import DomainError, NotFound, PermissionDenied, Unavailable
from microblog.extensions import db
from microblog.external_urls import site_host
from microblog.mastodon.auth import mastodon_abort, params
from microblog.mastodon.listing import parse_id
from microblog.models import ID_MAX, User
from microblog.services import accounts, users_query

NOT_FOUND = "Record not found"
NOT_ALLOWED = "This action is not allowed"
# Mastodon's (Rails') words for a boolean parameter: these are false, any other value is true.
FALSE_WORDS = frozenset({"", "0", "f", "false", "off", "no", "n"})


def visible(user: User | None) -> bool:
    """True for an account others may see: deactivated accounts (and those whose deletion is pending,
    which are deactivated too) are invisible, as on the web."""
    return user is not None and user.deactivated_at is None


def account_or_404(raw_id: Any) -> User:
    """The visible account with this id, or 404 ``Record not found`` (also for "abc", "0" and ids past
    the key range)."""
    ident = parse_id(raw_id)
    user = db.session.get(User, ident) if ident is not None and ident <= ID_MAX else None
    if user is None or not visible(user):
        mastodon_abort(404, NOT_FOUND)
    return user


def users_in_order(ids: list[int]) -> list[User]:
    """The visible accounts among ``ids``, in that order; the others are left out (one statement)."""
    if not ids:
        return []
    people = {user.id: user for user in db.session.scalars(users_query.users_by_id_select(ids))}
    return [people[ident] for ident in ids if ident in people]


def site_hosts() -> set[str]:
    """This site's names in an account's address (``name@host``): the host as addresses name it (with
    its port, if any) and the bare host name."""
    return {site_host(), (urlsplit(current_app.config["SITE_URL"]).hostname or "").lower()}


def local_username(acct: str) -> str | None:
    """The username of ``acct`` when it names a local account (``name``, ``@name``, ``name@ourhost``);
    None for another server's address."""
    name, sep, host = acct.strip().lstrip("@").partition("@")
    if sep and host.lower() not in site_hosts():
        return None
    return name


def account_by_acct(acct: str) -> User | None:
    """The visible local account ``acct`` names, or None."""
    name = local_username(acct)
    user = accounts.get_user_by_username(name) if name else None
    return user if visible(user) else None


def flag(value: Any, default: bool = False) -> bool:
    """A boolean parameter as Mastodon reads it: JSON true/false, or a word ("true", "1", "false", ...);
    missing: ``default``."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() not in FALSE_WORDS
    return True


PARSE_ERROR = "Error occurred while parsing request parameters"


def body_params() -> dict[str, Any]:
    """The parameters of a write (``params()``), after checking its body as Mastodon does: malformed
    JSON is 400, a JSON body that is no object 422."""
    if request.is_json and request.get_data():
        body = request.get_json(silent=True)
        if body is None:
            mastodon_abort(400, PARSE_ERROR)
        if not isinstance(body, dict):
            mastodon_abort(422, "Validation failed: the body must be a JSON object")
    return params()


def mastodon_error(exc: DomainError) -> tuple[int, str]:
    """A service's refusal in Mastodon's words: 422 ``Validation failed: ...`` for invalid input (a file
    too large included, as Mastodon answers it), 403 ``This action is not allowed``, 404 ``Record not
    found``, 503 when the storage is down."""
    if isinstance(exc, PermissionDenied):
        return 403, NOT_ALLOWED
    if isinstance(exc, NotFound):
        return 404, NOT_FOUND
    if isinstance(exc, Unavailable):
        return 503, "Service unavailable"
    return 422, f"Validation failed: {exc.message}"


def refuse(exc: DomainError) -> NoReturn:
    """Stop with :func:`mastodon_error`'s answer."""
    mastodon_abort(*mastodon_error(exc))


def answer_domain_errors(bp: Blueprint) -> None:
    """Let ``bp``'s views leave a service's DomainError to :func:`mastodon_error`."""

    def handler(exc: DomainError) -> Any:
        status, message = mastodon_error(exc)
        return {"error": message}, status

    bp.register_error_handler(DomainError, handler)
