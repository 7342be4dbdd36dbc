"""Schemathesis runs the whole OpenAPI document against the app, in-process: no 500, no off-schema reply."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.conftest import TestConfig
from tests.factories import make_post, make_user


@pytest.fixture
def database(tmp_path):
    # One SQLite file is enough here: the API code paths are the same on PostgreSQL.
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fuzz.db'}"}


@pytest.fixture
def fuzz_app(make_app):
    app = make_app()
    with app.app_context():
        alice = make_user("alice")
        make_post(alice, "hello from alice")
        make_post(make_user("bob"), "hello from bob")
    return app


@pytest.fixture
def api_schema(fuzz_app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
        deterministic=True,
    )
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def bearer(fuzz_app) -> dict[str, str]:
    import base64

    client = fuzz_app.test_client()
    raw = base64.b64encode(b"alice:correct-horse").decode()
    token = client.post("/api/tokens", headers={"Authorization": f"Basic {raw}"}).json["token"]
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_api_conforms_to_its_openapi_document(case, bearer, fuzz_cases):
    if case.method == "DELETE" and case.path == "/api/tokens":
        return  # revoking the shared token would turn every later case into a 401
    fuzz_cases()  # one request sent (the run's closing lines add them up: tests/fuzzcount.py)
    # Sign the request in, unless the case is about the headers themselves (a missing
    # Authorization header is one of the negative cases the fuzzer tries on purpose). Positive cases
    # carry an empty "Authorization: Bearer " of the fuzzer's own (the document's security scheme):
    # the real token replaces it, or no endpoint behind a token would ever be fuzzed past its 401.
    negative_headers = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    sign_in = not negative_headers
    # Uncompressed: the checks read the body as it comes, and compression has its own tests
    # (tests/test_static_assets.py); a brotli body is not JSON to them.
    headers = {**(bearer if sign_in else {}), "Accept-Encoding": "identity"}
    # Every check but "positive data is accepted": the schemas document the rules, the services
    # enforce them, and some rules (a taken name, a post of only spaces) no schema can express.
    excluded = [positive_data_acceptance]
    if (case.media_type or "").startswith("multipart/"):
        # A form field is text whatever the document says of it: the fuzzer's "integer" description is
        # the text "123", a valid description, so "it should have been rejected" does not hold there.
        # Every other check (no 5xx, the answers' shapes) still runs on uploads.
        excluded.append(negative_data_rejection)
    case.call_and_validate(headers=headers, excluded_checks=excluded)


def test_the_fuzz_config_is_the_test_config():
    assert TestConfig.RATELIMIT_ENABLED is False  # otherwise the fuzzer would mostly meet 429s
