"""The token's user's own lists of the Mastodon accounts API: blocks, mutes, follow requests (and
their answers), preferences, follow suggestions, and the lists clients read at start-up or on opening
a profile that this site has no notion of (lists, followed and featured tags, filters, domain blocks,
endorsements): an honest empty list, not a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify

from microblog.mastodon import entities
from microblog.mastodon.account_paging import blocked_by, edges_response, muted_by, requests_to
from microblog.mastodon.account_support import NOT_FOUND, account_or_404, answer_domain_errors, users_in_order
from microblog.mastodon.auth import (
    current_mastodon_user,
    mastodon_abort,
    oauth_optional,
    oauth_required,
    params,
)
from microblog.mastodon.listing import window
from microblog.mastodon.paths import route
from microblog.mastodon.relationship_entity import relationship
from microblog.models import User
from microblog.services import follow_requests, suggestions

bp = Blueprint("mastodon_account_lists", __name__)
answer_domain_errors(bp)

LIMIT, MOST = 40, 80
# Mastodon's sources of a suggestion, and the older ``source`` each one maps to.
FRIENDS_OF_FRIENDS, MOST_INTERACTIONS = "friends_of_friends", "most_interactions"
SOURCE = {FRIENDS_OF_FRIENDS: "past_interactions", MOST_INTERACTIONS: "global"}


@route(bp, "/api/v1/blocks", methods=["GET"])
@oauth_required("read:blocks")
def get_blocks():
    """The accounts the token's user blocked, the newest block first (Link paging)."""
    return edges_response(blocked_by(current_mastodon_user()), window(LIMIT, MOST))


@route(bp, "/api/v1/mutes", methods=["GET"])
@oauth_required("read:mutes")
def get_mutes():
    """The accounts the token's user muted, the newest mute first (Link paging)."""
    return edges_response(muted_by(current_mastodon_user()), window(LIMIT, MOST))


@route(bp, "/api/v1/follow_requests", methods=["GET"])
@oauth_required("read:follows")
def get_follow_requests():
    """The accounts that asked to follow the token's user (a locked account), the newest first (Link
    paging)."""
    return edges_response(requests_to(current_mastodon_user()), window(LIMIT, MOST))


def _answer_request(account_id: str, answer: Callable[[User, int], User]) -> dict[str, Any]:
    """Approve or refuse the request of ``account_id``; 404 when it has none pending."""
    asker, user = account_or_404(account_id), current_mastodon_user()
    request = follow_requests.find(asker, user)
    if request is None:
        mastodon_abort(404, NOT_FOUND)
    answer(user, request.id)
    return relationship(user, asker)


@route(bp, "/api/v1/follow_requests/<account_id>/authorize", methods=["POST"])
@oauth_required("write:follows")
def authorize_follow_request(account_id: str):
    """Let the account follow the token's user; its Relationship answers."""
    return _answer_request(account_id, follow_requests.approve)


@route(bp, "/api/v1/follow_requests/<account_id>/reject", methods=["POST"])
@oauth_required("write:follows")
def reject_follow_request(account_id: str):
    """Refuse the account's request; its Relationship answers."""
    return _answer_request(account_id, follow_requests.refuse)


@route(bp, "/api/v1/preferences", methods=["GET"])
@oauth_required("read:accounts")
def get_preferences():
    """The token's user's posting defaults (docs: methods/preferences)."""
    user = current_mastodon_user()
    return {
        "posting:default:visibility": entities.PRIVACY.get(user.default_visibility, "public"),
        "posting:default:sensitive": False,
        "posting:default:language": (user.locale or "").split("_")[0] or None,
        "posting:default:quote_policy": "nobody",
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    }


def _suggested_users() -> list[tuple[User, str]]:
    """(account, Mastodon's source) of the token's user's suggestions (services.suggestions), in order."""
    raw = params().get("limit")
    limit = min(max(int(raw), 1), MOST) if isinstance(raw, str) and raw.isdigit() else LIMIT
    found = suggestions.who_to_follow(current_mastodon_user(), min(limit, suggestions.MOST))
    people = {user.id: user for user in users_in_order([suggestion.id for suggestion in found])}
    return [(people[s.id], FRIENDS_OF_FRIENDS if s.followed_by else MOST_INTERACTIONS)
            for s in found if s.id in people]


@route(bp, "/api/v2/suggestions", methods=["GET"])
@oauth_required("read")
def get_suggestions():
    """Who to follow, as the web's sidebar suggests: friends of friends, then accounts active lately."""
    suggested = _suggested_users()
    found = entities.accounts(user for user, _source in suggested)
    return jsonify([{"source": SOURCE[source], "sources": [source], "account": found[user.id]}
                    for user, source in suggested])


@route(bp, "/api/v1/suggestions", methods=["GET"])
@oauth_required("read")
def get_suggestions_v1():
    """The suggested accounts alone (the deprecated v1 list)."""
    suggested = _suggested_users()
    found = entities.accounts(user for user, _source in suggested)
    return jsonify([found[user.id] for user, _source in suggested])


@route(bp, "/api/v1/suggestions/<account_id>", methods=["DELETE"])
@oauth_required("read")
def delete_suggestion(account_id: str):
    """Accepted and nothing kept: suggestions are computed afresh, with no list of dismissed accounts."""
    account_or_404(account_id)
    return {}


@route(bp, "/api/v1/lists", methods=["GET"])
@oauth_required("read:lists")
def get_lists():
    """No lists: this site has none."""
    return jsonify([])


@route(bp, "/api/v2/filters", methods=["GET"])
@oauth_required("read:filters")
def get_filters():
    """No filters: this site has no keyword filters."""
    return jsonify([])


@route(bp, "/api/v1/domain_blocks", methods=["GET"])
@oauth_required("read:blocks")
def get_domain_blocks():
    """No domain blocks: this site has no other servers' accounts."""
    return jsonify([])


@route(bp, "/api/v1/endorsements", methods=["GET"])
@oauth_required("read:accounts")
def get_endorsements():
    """No featured accounts: profiles here feature none."""
    return jsonify([])


@route(bp, "/api/v1/filters", methods=["GET"])
@oauth_required("read:filters")
def get_filters_v1():
    """No filters (the v1 list older clients read)."""
    return jsonify([])


@route(bp, "/api/v1/featured_tags", methods=["GET"])
@oauth_required("read:accounts")
def get_featured_tags():
    """No featured hashtags: profiles here feature none."""
    return jsonify([])


@route(bp, "/api/v1/accounts/<account_id>/featured_tags", methods=["GET"])
@oauth_optional("read:accounts")
def get_account_featured_tags(account_id: str):
    """None for any visible account (clients ask when they open a profile); 404 for another id."""
    account_or_404(account_id)
    return jsonify([])


@route(bp, "/api/v1/accounts/<account_id>/lists", methods=["GET"])
@oauth_required("read:lists")
def get_account_lists(account_id: str):
    """None: the token's user has no lists to hold the account."""
    account_or_404(account_id)
    return jsonify([])
