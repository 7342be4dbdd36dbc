"""Every route of the Mastodon-compatible API under /api/v1 and /api/v2, read from the app's URL map, held
to the rules every endpoint shares (whatever module and branch it came from):

- its view stands on ``oauth_required`` or ``oauth_optional`` (auth.py marks each view);
- no token: 401 ``{"error": ...}``; a token without any accepted scope: 403;
- an id that is no id ("abc", "0", one past any row): 404, never 500;
- with and without a trailing slash alike;
- another user's private resources: 404, as if they did not exist.

Each check walks every rule and fails once, naming every rule that broke it. Deliberate exceptions are
listed below, each with its reason; an exception that names no route any more fails too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Blueprint, Flask
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import IntegerConverter, Rule

from microblog import mastodon
from microblog.extensions import db
from microblog.mastodon import paths
from microblog.mastodon.auth import oauth_required
from microblog.mastodon.openapi import load_document
from microblog.models import User
from microblog.services import oauth_scopes as scopes_
from tests.mastodon_conformance import FULL_SCOPE, Seeded, issue_token, seed
from tests.mastodon_helpers import bearer

PREFIXES = ("/api/v1/", "/api/v2/")
# Views under /api/v1 and /api/v2 that need no token at all (not even an optional one).
UNGUARDED = {
    ("POST", "/api/v1/apps"): "registering an app is open to anyone, as on Mastodon: no token exists yet",
}
# Views behind oauth_required that accept any scope, so no token is "out of scope" for them.
ANY_SCOPE = {
    ("GET", "/api/v1/apps/verify_credentials"): "an app checks its own token, whatever its scopes "
                                                "(Mastodon asks for none)",
}
# Tokens of one scope each, to find one that a view does not accept.
NARROW_SCOPES = ("push", "read:filters", "write:filters", "profile", "write:reports")
BAD_IDS = ("abc", "0", "99999999999")
SAMPLE = {"hashtag": "conformance", "tag": "conformance", "name": "conformance", "acct": "alice"}
# The query a route needs to find anything (else a 404 says nothing about the slash).
QUERY = {("GET", "/api/v1/accounts/lookup"): "?acct=alice"}


@dataclass(frozen=True)
class Route:
    method: str
    rule: Rule
    view: Any

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.rule.rule

    def __str__(self) -> str:
        return f"{self.method} {self.rule.rule}"

    @property
    def required(self) -> tuple[str, ...] | None:
        """The scopes of ``oauth_required`` (None when the view is not behind it)."""
        return getattr(self.view, "oauth_scopes", None)

    @property
    def optional(self) -> tuple[str, ...] | None:
        """The scopes of ``oauth_optional`` (None when the view is not behind it)."""
        return getattr(self.view, "oauth_optional", None)

    @property
    def accepted(self) -> tuple[str, ...] | None:
        return self.required if self.required is not None else self.optional

    def id_arguments(self) -> list[str]:
        """The rule's arguments that are ids: named ``id`` or ``*_id``, or an integer converter."""
        return sorted(name for name, converter in self.rule._converters.items()
                      if name == "id" or name.endswith("_id") or isinstance(converter, IntegerConverter))

    def url(self, **values: str) -> str:
        """The rule's path with ``values`` (ids default to "1", other arguments to SAMPLE's)."""
        def fill(match: re.Match) -> str:
            name = match.group(1)
            return values.get(name) or SAMPLE.get(name) or "1"

        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", fill, self.rule.rule)


def api_routes(app: Flask) -> list[Route]:
    """Every (method, rule) of the Mastodon-compatible API, HEAD and OPTIONS aside (Flask's own)."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIXES):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append(Route(method, rule, app.view_functions[rule.endpoint]))
    return sorted(found, key=lambda route: (route.rule.rule, route.method))


def is_error(response, status: int) -> bool:
    body = response.get_json(silent=True)
    return response.status_code == status and isinstance(body, dict) and isinstance(body.get("error"), str)


def describe(response) -> str:
    return f"{response.status_code} {response.get_data(as_text=True)[:120]!r}"


@dataclass
class Matrix:
    app: Flask
    seeded: Seeded
    tokens: dict[str, str]  # scope -> token of alice

    def call(self, route: Route, url: str, scope: str | None = None):
        headers = bearer(self.tokens[scope]) if scope else {}
        return self.app.test_client().open(url, method=route.method, headers=headers)


@pytest.fixture
def matrix(app) -> Iterator[Matrix]:
    yield build_matrix(app)


def build_matrix(app: Flask) -> Matrix:
    # A view that fails answers 500 here, as in production, rather than raising in the test client:
    # each check lists every rule it fails on instead of stopping at the first.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        seeded = seed()
        alice = db.session.get_one(User, seeded.alice)
        tokens = {scope: issue_token(alice, scope) for scope in (FULL_SCOPE, *NARROW_SCOPES)}
    return Matrix(app, seeded, tokens)


# -- the checks: each returns what fails it, one line per rule ---------------------------------------
def unguarded(app: Flask) -> list[str]:
    return [str(route) for route in api_routes(app)
            if route.required is None and route.optional is None and route.key not in UNGUARDED]


def without_token(matrix: Matrix) -> list[str]:
    failures = []
    for route in api_routes(matrix.app):
        if route.required is None:
            continue  # public views (oauth_optional) answer without a token
        response = matrix.call(route, route.url())
        if not is_error(response, 401):
            failures.append(f"{route}: {describe(response)}")
    return failures


def out_of_scope(matrix: Matrix) -> list[str]:
    failures = []
    for route in api_routes(matrix.app):
        accepted = route.accepted
        if accepted is None or route.key in ANY_SCOPE:
            continue
        if not accepted:
            if route.required is not None:
                failures.append(f"{route}: accepts any scope; name its scopes or list it in ANY_SCOPE")
            continue  # oauth_optional() with no scopes: public, any token will do (the instance)
        scope = next(scope for scope in NARROW_SCOPES if not scopes_.allows([scope], *accepted))
        response = matrix.call(route, route.url(), scope)
        if not is_error(response, 403):
            failures.append(f"{route} (accepts {' '.join(accepted)}; sent {scope}): {describe(response)}")
    return failures


def unknown_ids(matrix: Matrix) -> list[str]:
    failures = []
    for route in api_routes(matrix.app):
        if route.accepted is None:
            continue
        for name in route.id_arguments():
            for bad in BAD_IDS:
                response = matrix.call(route, route.url(**{name: bad}), FULL_SCOPE)
                if not is_error(response, 404):
                    failures.append(f"{route} with {name}={bad}: {describe(response)}")
    return failures


def trailing_slashes(matrix: Matrix) -> list[str]:
    failures = []
    for route in api_routes(matrix.app):
        if route.rule.strict_slashes:
            failures.append(f"{route}: strict_slashes (use mastodon/paths.route)")
            continue
        bare, query = route.url().rstrip("/"), QUERY.get(route.key, "")
        plain, slashed = matrix.call(route, bare + query), matrix.call(route, bare + "/" + query)
        if (plain.status_code != slashed.status_code or plain.status_code in (404, 405)
                or 300 <= plain.status_code < 400):
            failures.append(f"{route}: {describe(plain)} without the slash, {describe(slashed)} with it")
    return failures


def test_every_route_is_guarded_by_oauth_required_or_oauth_optional(app):
    routes = api_routes(app)
    assert routes, "no route under /api/v1 or /api/v2"
    bare = unguarded(app)
    assert not bare, f"neither oauth_required nor oauth_optional (nor listed in UNGUARDED): {bare}"
    keys = {route.key for route in routes}
    stale = [key for key in (*UNGUARDED, *ANY_SCOPE) if key not in keys]
    assert not stale, f"exceptions that name no route any more: {stale}"


def test_no_token_is_401(matrix):
    failures = without_token(matrix)
    assert not failures, "without a token, not 401 {\"error\": ...}:\n" + "\n".join(failures)


def test_a_token_without_an_accepted_scope_is_403(matrix):
    failures = out_of_scope(matrix)
    assert not failures, "with a token out of scope, not 403 {\"error\": ...}:\n" + "\n".join(failures)


def test_ids_that_name_nothing_are_404(matrix):
    failures = unknown_ids(matrix)
    assert not failures, "an id that names nothing, not 404 {\"error\": ...}:\n" + "\n".join(failures)


def test_every_route_answers_with_and_without_a_trailing_slash(matrix):
    failures = trailing_slashes(matrix)
    assert not failures, "not the same answer with and without a trailing slash:\n" + "\n".join(failures)


# -- the checks catch what they are for: a blueprint that breaks each rule once -----------------------
broken = Blueprint("mastodon_matrix_broken", __name__)


@broken.route("/api/v1/broken/<id>", methods=["GET"])  # strict slashes: Flask's default
@oauth_required("read:statuses")
def broken_lookup(id: str):
    return {"id": str(int(id) // int(id))}  # "abc" and "0": 500; any other number: 200, found or not


@paths.route(broken, "/api/v1/broken_open", methods=["GET"])
def broken_open():
    return {}  # no decorator at all


@paths.route(broken, "/api/v1/broken_any_scope", methods=["POST"])
@oauth_required()
def broken_any_scope():
    return {}


def test_the_checks_catch_a_broken_blueprint(make_app, monkeypatch):
    monkeypatch.setattr(mastodon, "API_BLUEPRINTS", (*mastodon.API_BLUEPRINTS, broken))
    matrix = build_matrix(make_app())
    assert unguarded(matrix.app) == ["GET /api/v1/broken_open"]
    assert [line.split(":")[0] for line in out_of_scope(matrix)] == ["POST /api/v1/broken_any_scope"]
    assert [line.split(":")[0] for line in unknown_ids(matrix)] == [
        f"GET /api/v1/broken/<id> with id={bad}" for bad in BAD_IDS]
    assert [line.split(":")[0] for line in trailing_slashes(matrix)] == ["GET /api/v1/broken/<id>"]
    assert without_token(matrix) == []  # oauth_required answers for every view behind it


# -- another user's resources ---------------------------------------------------------------------
# (method, path with {id}, which seeded resource): alice asks for something that is bob's alone, a
# status she may not see (followers-only, and she does not follow bob) or something only its owner
# may touch. Mastodon answers as if it did not exist. Routes not merged yet are skipped by name.
OTHERS = [
    ("GET", "/api/v1/statuses/{id}", "bob_private_post"),
    ("GET", "/api/v1/statuses/{id}/context", "bob_private_post"),
    ("GET", "/api/v1/statuses/{id}/history", "bob_private_post"),
    ("GET", "/api/v1/statuses/{id}/favourited_by", "bob_private_post"),
    ("GET", "/api/v1/statuses/{id}/reblogged_by", "bob_private_post"),
    ("POST", "/api/v1/statuses/{id}/favourite", "bob_private_post"),
    ("POST", "/api/v1/statuses/{id}/reblog", "bob_private_post"),
    ("POST", "/api/v1/statuses/{id}/bookmark", "bob_private_post"),
    ("DELETE", "/api/v1/statuses/{id}", "bob_post"),
    ("PUT", "/api/v1/statuses/{id}", "bob_post"),
    ("GET", "/api/v1/statuses/{id}/source", "bob_post"),
    ("GET", "/api/v1/notifications/{id}", "bob_notification"),
    ("POST", "/api/v1/notifications/{id}/dismiss", "bob_notification"),
    ("GET", "/api/v1/media/{id}", "bob_media"),
    ("PUT", "/api/v1/media/{id}", "bob_media"),
]


def routed(app: Flask, method: str, path: str) -> bool:
    try:
        app.url_map.bind("microblog.test").match(path, method=method)
    except (NotFound, MethodNotAllowed):
        return False
    return True


@pytest.mark.parametrize(("method", "path", "resource"), OTHERS, ids=[f"{m} {p}" for m, p, _ in OTHERS])
def test_another_users_resource_is_404(app, request, method, path, resource):
    if not routed(app, method, path.replace("{id}", "1")):
        pytest.skip(f"{method} {path} is not routed yet (its module is another branch's)")
    matrix = request.getfixturevalue("matrix")
    url = path.replace("{id}", str(getattr(matrix.seeded, resource)))
    body = {"status": "mine now", "description": "mine now"} if method == "PUT" else None
    response = matrix.app.test_client().open(url, method=method, json=body,
                                             headers=bearer(matrix.tokens[FULL_SCOPE]))
    assert is_error(response, 404), f"{method} {url} ({resource}): {describe(response)}"


# -- the views ask for the scopes the document names -------------------------------------------------
def _admitted(accepted: tuple[str, ...] | list[str]) -> frozenset[str]:
    """The single scopes whose token a view accepting ``accepted`` lets in (all of them for none)."""
    if not accepted:
        return frozenset(scopes_.ALL_SCOPES)
    return frozenset(scope for scope in scopes_.ALL_SCOPES if scopes_.allows([scope], *accepted))


def test_every_routed_operation_asks_for_the_documents_scopes(app):
    """The document says, from Mastodon's docs, which operations are public and which scopes each
    accepts; the view's decorator must say the same (compared by the tokens they let in, so ``read``
    and ``read:statuses`` or ``follow`` and ``write:follows`` can differ in words only)."""
    adapter = app.url_map.bind("microblog.test")
    failures, compared = [], 0
    for path, item in load_document()["paths"].items():
        for method, operation in item.items():
            sample = path.replace("{id}", "1").replace("{hashtag}", "tag")
            try:
                endpoint, _values = adapter.match(sample, method=method.upper())
            except (NotFound, MethodNotAllowed):
                continue  # not routed yet: the fuzz names it as skipped
            view = app.view_functions[endpoint]
            security = operation["security"]
            public = {} in security
            named = [scope for requirement in security for scope in requirement.get("bearer", [])]
            required, optional = getattr(view, "oauth_scopes", None), getattr(view, "oauth_optional", None)
            name = f"{method.upper()} {path}"
            compared += 1
            if security == [{}]:
                if required is not None or optional is not None:
                    failures.append(f"{name}: the document says no token is involved; the view asks for one")
            elif public != (optional is not None) or (not public and required is None):
                failures.append(f"{name}: public is {public} in the document, the view is "
                                f"{'oauth_optional' if optional is not None else 'oauth_required'}")
            elif _admitted(named) != _admitted(required if required is not None else optional or ()):
                failures.append(f"{name}: the document accepts {named or 'any scope'}, "
                                f"the view {list(required if required is not None else optional or ())}")
    assert compared, "no operation of the document is routed"
    assert not failures, "views and the document disagree on scopes:\n" + "\n".join(failures)
