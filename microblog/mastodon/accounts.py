"""Mastodon's accounts API (docs: methods/accounts): the token's own account and its profile edits,
other accounts by id or address, their followers and follows, relationships, search.

Deactivated accounts (and those whose deletion is pending) are invisible here as on the web: 404.
Following, blocking and muting are in account_actions.py.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, jsonify

from microblog.mastodon import account_paging, entities
from microblog.mastodon.account_search import find_accounts
from microblog.mastodon.account_support import (
    NOT_FOUND,
    account_by_acct,
    account_or_404,
    answer_domain_errors,
    body_params,
    flag,
    users_in_order,
)
from microblog.mastodon.auth import (
    current_mastodon_user,
    current_user_or_none,
    mastodon_abort,
    oauth_optional,
    oauth_required,
    params,
    text_param,
)
from microblog.mastodon.listing import parse_id, window
from microblog.mastodon.paths import route
from microblog.mastodon.profile_update import apply_change, read_change
from microblog.mastodon.relationship_entity import relationships as relationship_entities
from microblog.models import User
from microblog.services import relationships
from microblog.web import accepts_files

bp = Blueprint("mastodon_accounts", __name__)
answer_domain_errors(bp)

# Lists of accounts: 40 by default, 80 at most (Mastodon's numbers for these lists).
ACCOUNTS_LIMIT, ACCOUNTS_MAX = 40, 80
# How many ids one request may name (id[]): more are ignored.
IDS_MAX = 80


def _ids() -> list[int]:
    """The ``id[]`` parameter as account ids, in order, without repeats (unusable ones left out)."""
    raw = params().get("id")
    values = raw if isinstance(raw, list) else [raw] if raw is not None else []
    found = [ident for ident in (parse_id(value) for value in values[:IDS_MAX]) if ident is not None]
    return list(dict.fromkeys(found))


def _count(name: str, default: int, most: int) -> int:
    """A numeric query parameter, clamped to 0..most (a bad one takes the default, as Mastodon does)."""
    raw = params().get(name)
    try:
        value = int(raw) if raw not in (None, "") else default
    except (TypeError, ValueError):
        value = default
    return min(max(value, 0), most)


@route(bp, "/api/v1/accounts/verify_credentials", methods=["GET"])
@oauth_required("read:accounts", "profile")
def verify_credentials():
    """The token's user as a CredentialAccount (the ``profile`` scope is enough)."""
    return entities.credential_account(current_mastodon_user())


@route(bp, "/api/v1/accounts/update_credentials", methods=["PATCH"])
@oauth_required("write:accounts")
@accepts_files(2)
def update_credentials():
    """Change the token's user's profile (see profile_update.py for what each parameter becomes and
    which ones are refused); answers the CredentialAccount."""
    user = current_mastodon_user()
    apply_change(user, read_change(user, body_params()))
    return entities.credential_account(user)


@route(bp, "/api/v1/accounts", methods=["GET"])
@oauth_optional("read:accounts")
def get_accounts():
    """The visible accounts of ``id[]``, in that order (unknown ones left out)."""
    people = users_in_order(_ids())
    found = entities.accounts(people)
    return jsonify([found[user.id] for user in people])


@route(bp, "/api/v1/accounts/lookup", methods=["GET"])
@oauth_optional("read:accounts")
def lookup_account():
    """The local account ``acct`` names (``name``, ``@name`` or ``name@ourhost``), or 404."""
    acct = text_param(params(), "acct")
    user = account_by_acct(acct) if acct else None
    if user is None:
        mastodon_abort(404, NOT_FOUND)
    return entities.account(user)


@route(bp, "/api/v1/accounts/relationships", methods=["GET"])
@oauth_required("read:follows")
def get_relationships():
    """The token's user's Relationship with each visible account of ``id[]``, in that order."""
    return jsonify(relationship_entities(current_mastodon_user(), users_in_order(_ids())))


@route(bp, "/api/v1/accounts/familiar_followers", methods=["GET"])
@oauth_required("read:follows")
def get_familiar_followers():
    """For each visible account of ``id[]``: its followers whom the token's user follows too."""
    viewer, people = current_mastodon_user(), users_in_order(_ids())
    familiar = relationships.familiar_followers(viewer, [user.id for user in people])
    found = entities.accounts(user for users in familiar.values() for user in users)
    return jsonify([{"id": str(user.id), "accounts": [found[other.id] for other in familiar.get(user.id, [])]}
                    for user in people])


@route(bp, "/api/v1/accounts/search", methods=["GET"])
@oauth_required("read:accounts")
def search_accounts():
    """Accounts whose name starts with ``q``, then those the people search finds (``limit``, ``offset``,
    ``following``; ``resolve`` has nothing to fetch here)."""
    values = params()
    q = text_param(values, "q")
    if not q or not q.strip():
        mastodon_abort(400, "param is missing or the value is empty: q")
    limit, offset = max(_count("limit", ACCOUNTS_LIMIT, ACCOUNTS_MAX), 1), _count("offset", 0, 10_000)
    people = find_accounts(current_mastodon_user(), q, limit, offset, flag(values.get("following")))
    found = entities.accounts(people)
    return jsonify([found[user.id] for user in people])


@route(bp, "/api/v1/accounts/<account_id>", methods=["GET"])
@oauth_optional("read:accounts")
def get_account(account_id: str):
    """One account, or 404 (unknown, malformed or deactivated)."""
    return entities.account(account_or_404(account_id))


@route(bp, "/api/v1/accounts/<account_id>/followers", methods=["GET"])
@oauth_optional("read:accounts")
def get_followers(account_id: str):
    """The account's followers, the newest follow first (Link paging); none for a caller it blocked."""
    return _graph_list(account_or_404(account_id), account_paging.followers_of)


@route(bp, "/api/v1/accounts/<account_id>/following", methods=["GET"])
@oauth_optional("read:accounts")
def get_following(account_id: str):
    """The accounts it follows, the newest follow first (Link paging); none for a caller it blocked."""
    return _graph_list(account_or_404(account_id), account_paging.following_of)


def _graph_list(user: User, edges_of: Callable[[User], account_paging.Edges]) -> Response:
    """A page of ``user``'s followers or follows, or an empty list for a caller ``user`` blocked (as
    Mastodon hides them from whoever the account blocks)."""
    viewer = current_user_or_none()
    if viewer is not None and relationships.relationship(viewer, user).blocked_me:
        return account_paging.accounts_response([])
    return account_paging.edges_response(edges_of(user), window(ACCOUNTS_LIMIT, ACCOUNTS_MAX))

