"""Our description of the Mastodon-compatible API (microblog/mastodon/openapi.yaml) is whole: every
endpoint issue 20 names, each with its scopes and Mastodon's error shape, entities with string ids and
date-time strings, and no reference that leads nowhere. The fuzz (test_mastodon_fuzz.py) runs it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs

from microblog.mastodon.openapi import load_document

# Issue 20's list, by Mastodon's method pages.
ISSUE_ENDPOINTS = {
    "apps": ["POST /api/v1/apps", "GET /api/v1/apps/verify_credentials"],
    "oauth": ["POST /oauth/token", "POST /oauth/revoke"],
    "instance": ["GET /api/v1/instance", "GET /api/v2/instance"],
    "accounts": [
        "GET /api/v1/accounts/verify_credentials", "PATCH /api/v1/accounts/update_credentials",
        "GET /api/v1/accounts/lookup", "GET /api/v1/accounts/{id}", "GET /api/v1/accounts/{id}/statuses",
        "GET /api/v1/accounts/{id}/followers", "GET /api/v1/accounts/{id}/following",
        "POST /api/v1/accounts/{id}/follow", "POST /api/v1/accounts/{id}/unfollow",
        "POST /api/v1/accounts/{id}/block", "POST /api/v1/accounts/{id}/unblock",
        "POST /api/v1/accounts/{id}/mute", "POST /api/v1/accounts/{id}/unmute",
        "GET /api/v1/accounts/relationships", "GET /api/v1/accounts/search",
    ],
    "statuses": [
        "POST /api/v1/statuses", "GET /api/v1/statuses/{id}", "DELETE /api/v1/statuses/{id}",
        "PUT /api/v1/statuses/{id}", "GET /api/v1/statuses/{id}/history", "GET /api/v1/statuses/{id}/source",
        "GET /api/v1/statuses/{id}/context", "POST /api/v1/statuses/{id}/favourite",
        "POST /api/v1/statuses/{id}/unfavourite", "POST /api/v1/statuses/{id}/reblog",
        "POST /api/v1/statuses/{id}/unreblog", "POST /api/v1/statuses/{id}/bookmark",
        "POST /api/v1/statuses/{id}/unbookmark", "GET /api/v1/statuses/{id}/favourited_by",
        "GET /api/v1/statuses/{id}/reblogged_by",
    ],
    "timelines": ["GET /api/v1/timelines/home", "GET /api/v1/timelines/public",
                  "GET /api/v1/timelines/tag/{hashtag}"],
    "bookmarks": ["GET /api/v1/bookmarks"],
    "favourites": ["GET /api/v1/favourites"],
    "notifications": ["GET /api/v1/notifications", "GET /api/v1/notifications/{id}",
                      "POST /api/v1/notifications/clear", "POST /api/v1/notifications/{id}/dismiss"],
    "markers": ["GET /api/v1/markers", "POST /api/v1/markers"],
    "search": ["GET /api/v2/search"],
    "media": ["POST /api/v1/media", "POST /api/v2/media", "GET /api/v1/media/{id}", "PUT /api/v1/media/{id}"],
    "conversations": ["GET /api/v1/conversations", "DELETE /api/v1/conversations/{id}",
                      "POST /api/v1/conversations/{id}/read"],
}
ENTITIES = ("Account", "Status", "MediaAttachment", "Relationship", "Notification", "Marker", "Search",
            "Context", "Conversation", "Tag", "Error")


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def test_the_document_is_openapi_3_1_and_covers_the_issue():
    document = load_document()
    assert document["openapi"].startswith("3.1")
    described = dict(operations(document))
    missing = [name for names in ISSUE_ENDPOINTS.values() for name in names if name not in described]
    assert not missing, missing


def test_every_operation_names_its_scopes_and_shapes_its_errors():
    for name, operation in operations(load_document()):
        security = operation.get("security")
        assert security and all(set(requirement) <= {"bearer"} for requirement in security), name
        assert operation["responses"]["default"] == {"$ref": "#/components/responses/Error"}, name
        assert any(code.startswith("2") for code in operation["responses"]), name


def test_every_reference_resolves_and_every_schema_is_a_json_schema():
    document = load_document()
    for ref in set(refs(document)):
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"{ref} leads nowhere"
            node = node[part]
    for schema in document["components"]["schemas"].values():
        jsonschema_rs.validator_for({**schema, "components": document["components"]})  # raises if malformed


def test_entities_have_string_ids_and_date_time_strings_and_stay_open():
    schemas = load_document()["components"]["schemas"]
    for name in ENTITIES:
        schema = schemas[name]
        assert schema.get("additionalProperties", True) is not False, name
        properties = schema["properties"]
        assert set(schema["required"]) <= set(properties), name
        if "id" in properties:
            assert properties["id"] == {"type": "string"}, name
        for key in ("created_at", "updated_at", "edited_at"):
            if key in properties:
                assert properties[key]["format"] == "date-time" and "string" in properties[key]["type"], name
