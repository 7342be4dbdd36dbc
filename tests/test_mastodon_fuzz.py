"""Schemathesis runs our description of the Mastodon-compatible API (microblog/mastodon/openapi.yaml)
against the app, in-process, one test per operation: no 5xx, and every answer in the document's shape
(2xx as the entity, any error as Mastodon's ``{"error": "..."}``).

The user is alice with a token of every non-admin scope, among people with posts, likes, follows, a
bookmark, a reply, uploads and notifications (tests/mastodon_conformance.py). Positive cases ask about
those (a path's ``id`` is a seeded one, so the handlers get past their 404); negative cases keep the
fuzzer's ids and bodies. An operation the app does not route yet is skipped, naming itself.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    negative_data_rejection,
    positive_data_acceptance,
)
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from microblog.extensions import db
from microblog.mastodon.openapi import load_document
from microblog.models import User
from tests.mastodon_conformance import Seeded, issue_token, seed
from tests.mastodon_helpers import bearer


@pytest.fixture
def database(tmp_path):
    # One SQLite file is enough here: the API code paths are the same on PostgreSQL.
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fuzz.db'}"}


class World:
    """The app with the seeded people, signed in as alice; each operation starts from the same rows.

    Schemathesis runs every operation inside one test (as subtests), so one app serves them all. What
    one operation does (a block, a deleted status, cleared notifications) must not decide what the
    next one meets: the seeded database is kept as a file and copied back whenever the operation
    changes. Seeding waits for the first operation that is routed, so one that is skipped costs
    nothing.
    """

    def __init__(self, app: Flask, database: Path) -> None:
        self.app, self.database = app, database
        self.snapshot = database.with_suffix(".seeded")
        self.operation: str | None = None

    @functools.cached_property
    def seeded(self) -> tuple[Seeded, dict[str, str]]:
        with self.app.app_context():
            seeded = seed()
            headers = bearer(issue_token(db.session.get_one(User, seeded.alice)))
            self._close()
        shutil.copyfile(self.database, self.snapshot)
        return seeded, headers

    def _close(self) -> None:
        db.session.remove()
        db.engine.dispose()  # every connection closed: SQLite folds its WAL back into the file

    def start(self, operation: str) -> tuple[Seeded, dict[str, str]]:
        """The seeded ids and alice's headers, on the seeded rows if ``operation`` is a new one."""
        seeded, headers = self.seeded
        if operation != self.operation:
            if self.operation is not None:
                with self.app.app_context():
                    self._close()
                for leftover in ("-wal", "-shm"):
                    Path(f"{self.database}{leftover}").unlink(missing_ok=True)
                shutil.copyfile(self.snapshot, self.database)
            self.operation = operation
        return seeded, headers

    def routes(self, path: str, method: str) -> bool:
        """Whether the app has a view for ``method`` at the document's ``path`` (templated)."""
        sample = path.replace("{id}", "1").replace("{hashtag}", "tag")
        try:
            self.app.url_map.bind("microblog.test").match(sample, method=method)
        except (NotFound, MethodNotAllowed):
            return False
        except RequestRedirect:
            return True
        return True


@pytest.fixture
def world(make_app, tmp_path) -> World:
    return World(make_app(), tmp_path / "fuzz.db")


@functools.cache
def _document() -> dict[str, Any]:
    return load_document()


@pytest.fixture
def mastodon_schema(world):
    schema = schemathesis.openapi.from_dict(_document())
    schema.app = world.app
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
        deterministic=True,
    )
    return schema


schema = schemathesis.pytest.from_fixture("mastodon_schema")


def seeded_id(path: str, method: str, seeded: Seeded) -> int | None:
    """The seeded thing a positive case's ``{id}`` names: alice's own where only the author may act,
    someone else's where she acts on it."""
    if path.startswith("/api/v1/statuses/{id}"):
        own = path == "/api/v1/statuses/{id}/source" or (path == "/api/v1/statuses/{id}" and method != "GET")
        return seeded.alice_post if own else seeded.bob_post
    if path.startswith("/api/v1/accounts/{id}"):
        return seeded.bob
    if path.startswith("/api/v1/notifications/{id}"):
        return seeded.alice_notification
    if path.startswith("/api/v1/media/{id}"):
        return seeded.alice_media
    return None  # conversations: their ids are the implementation's own; the fuzzer's stand


# Paths that a sibling route with an id also matches, as in Mastodon's own routes: GET
# /api/v1/accounts/update_credentials is GET /api/v1/accounts/:id with the id "update_credentials" (a
# 404), so the Allow header of these paths lists that GET too.
SHADOWED = {"PATCH /api/v1/accounts/update_credentials", "POST /api/v1/notifications/clear"}


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_mastodon_api_conforms_to_our_openapi_document(case, world, fuzz_cases):
    # The operation's method: a case may try another on purpose (TRACE, to see it refused).
    method, path = case.operation.method.upper(), case.operation.path
    if not world.routes(path, method):
        pytest.skip(f"{method} {path} is not routed yet (its module is another branch's)")
    seeded, signed_in = world.start(f"{method} {path}")
    fuzz_cases()  # one request sent (the run's closing lines add them up: tests/fuzzcount.py)
    meta = case.meta
    positive_path = meta is None or not meta.is_negative_at(ParameterLocation.PATH)
    if positive_path and "id" in (case.path_parameters or {}):
        known = seeded_id(path, method, seeded)
        if known is not None:
            case.path_parameters["id"] = str(known)
    # Signed in unless the case is about the headers themselves (a missing Authorization header is one
    # of the negative cases the fuzzer tries on purpose); the real token replaces the fuzzer's own.
    negative_headers = meta is not None and meta.is_negative_at(ParameterLocation.HEADER)
    headers = {**({} if negative_headers else signed_in), "Accept-Encoding": "identity"}
    # Every check but these two: Mastodon's rules are more than a schema says (a positive case may
    # still be refused: a reply to a post that is gone, an empty status), and Mastodon itself reads
    # many a parameter leniently (limit=abc is the default limit, an unknown visibility the account's
    # default), so "negative data must be rejected" is not the contract; no 5xx and the answers' shapes
    # are.
    excluded = [positive_data_acceptance, negative_data_rejection]
    if f"{method} {path}" in SHADOWED:
        excluded.append(allow_header_conformance)
    case.call_and_validate(headers=headers, excluded_checks=excluded)


def test_the_fuzz_config_is_the_test_config():
    from tests.conftest import TestConfig

    assert TestConfig.RATELIMIT_ENABLED is False  # otherwise the fuzzer would mostly meet 429s
