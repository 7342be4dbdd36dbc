"""Mastodon's markers (docs: methods/markers, entities/Marker): saved by one app, read by another."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Marker
from microblog.services import markers
from tests.factories import make_user
from tests.mastodon_helpers import issued_token

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BOTH = "/api/v1/markers?timeline[]=home&timeline[]=notifications"


@pytest.fixture
def alice(app):
    with app.app_context():
        return issued_token(make_user("alice"))


def test_markers_round_trip_and_count_their_saves(client, alice):
    assert client.get(BOTH, headers=alice).json == {}
    saved = client.post("/api/v1/markers", data={"home[last_read_id]": "103"}, headers=alice)
    assert saved.status_code == 200 and set(saved.json) == {"home"}
    home = saved.json["home"]
    assert home["last_read_id"] == "103" and home["version"] == 0 and ISO_MS.match(home["updated_at"])
    again = client.post("/api/v1/markers", json={"home": {"last_read_id": "110"},
                                                 "notifications": {"last_read_id": 7}}, headers=alice).json
    assert again["home"]["last_read_id"] == "110" and again["home"]["version"] == 1
    assert again["notifications"] == {"last_read_id": "7", "version": 0,
                                      "updated_at": again["notifications"]["updated_at"]}
    assert client.get(BOTH, headers=alice).json == again
    assert set(client.get("/api/v1/markers?timeline[]=home", headers=alice).json) == {"home"}
    assert client.get("/api/v1/markers?timeline=notifications", headers=alice).json == {
        "notifications": again["notifications"]}
    assert client.get("/api/v1/markers?timeline[]=public", headers=alice).json == {}


def test_markers_are_each_users_own(app, client, alice):
    client.post("/api/v1/markers", data={"home[last_read_id]": "5"}, headers=alice)
    with app.app_context():
        bob = issued_token(make_user("bob"))
    assert client.get(BOTH, headers=bob).json == {}


def test_a_save_that_loses_the_race_to_insert_moves_the_row_instead(app, monkeypatch):
    """Two apps saving the first marker at once: the loser's insert breaks the unique constraint, and
    it updates the winner's row rather than failing."""
    with app.app_context():
        alice = make_user("alice")
        markers.save_markers(alice, {"home": "1"})
        real_bump = markers._bump
        calls = []

        def late_bump(user, timeline, last_read_id):
            calls.append(timeline)
            return False if len(calls) == 1 else real_bump(user, timeline, last_read_id)

        monkeypatch.setattr(markers, "_bump", late_bump)
        saved = markers.save_markers(alice, {"home": "2"})
        assert len(calls) == 2 and [(m.last_read_id, m.version) for m in saved] == [("2", 1)]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Marker)) == 1


@pytest.mark.parametrize("body", [{"home": {"last_read_id": ""}}, {"home": {"last_read_id": None}},
                                  {"home": {"last_read_id": ["1"]}}, {"home": {"last_read_id": "9" * 65}},
                                  {"notifications": {"last_read_id": {"a": 1}}},
                                  {"home": {"last_read_id": True}}])
def test_a_bad_last_read_id_is_422(client, alice, body):
    if body.get("home", {}).get("last_read_id", "x") is None:  # null is no marker at all
        assert client.post("/api/v1/markers", json=body, headers=alice).json == {}
        return
    response = client.post("/api/v1/markers", json=body, headers=alice)
    assert response.status_code == 422 and "error" in response.json


@pytest.mark.parametrize("body", [None, "not json", {"home": "5"}, {"other": {"last_read_id": "1"}}, [1, 2]])
def test_garbage_saves_nothing_and_never_fails(client, alice, body):
    if isinstance(body, (dict, list)):
        response = client.post("/api/v1/markers", json=body, headers=alice)
    else:
        response = client.post("/api/v1/markers", data=body, headers=alice,
                               content_type="application/json" if body else None)
    assert response.status_code < 500 and client.get(BOTH, headers=alice).json == {}


@pytest.mark.parametrize(("method", "scope"), [("get", "write:statuses"), ("post", "read:statuses"),
                                               ("get", "read:accounts"), ("post", "write:accounts")])
def test_a_token_without_the_scope_is_403(app, client, method, scope):
    with app.app_context():
        headers = issued_token(make_user("alice"), scope)
    response = getattr(client, method)("/api/v1/markers", data={"home[last_read_id]": "1"}, headers=headers)
    assert response.status_code == 403


@pytest.mark.parametrize("method", ["get", "post"])
def test_no_token_is_401(client, method):
    response = getattr(client, method)("/api/v1/markers", data={"home[last_read_id]": "1"})
    assert response.status_code == 401 and response.json == {"error": "The access token is invalid"}
