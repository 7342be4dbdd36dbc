"""Mastodon's Status entity and the paging of its lists, built from real rows (docs: entities/Status,
api/guidelines#pagination)."""

from __future__ import annotations

import re

import pytest

from microblog.extensions import db
from microblog.mastodon import listing
from microblog.mastodon.status_entity import (
    REBLOG_ID_OFFSET,
    Reblog,
    parse_status_id,
    status,
    status_id,
    statuses,
)
from microblog.models import Announce
from microblog.services import posts, reactions
from tests.factories import make_user
from tests.statements import counting

ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
STATUS_KEYS = {"id", "uri", "url", "created_at", "edited_at", "account", "content", "visibility", "sensitive",
               "spoiler_text", "media_attachments", "application", "mentions", "tags", "emojis",
               "reblogs_count", "favourites_count", "replies_count", "in_reply_to_id",
               "in_reply_to_account_id", "reblog", "poll", "card", "language", "filtered"}
VIEWER_KEYS = {"favourited", "reblogged", "muted", "bookmarked"}


@pytest.fixture
def ctx(app):
    with app.test_request_context("/api/v1/statuses"):
        yield app


def test_status_has_every_documented_key_with_mastodon_types(ctx):
    alice, bob = make_user("alice"), make_user("bob")
    post = posts.publish_post(alice, "Hello @bob, see #Flask & <b>this</b>\nhttps://example.com/x",
                              summary="spoilers")
    reactions.like(bob, post.id)
    db.session.commit()
    entity = status(bob, post)
    assert STATUS_KEYS | VIEWER_KEYS == set(entity)  # no pinned: bob is not the author
    assert entity["id"] == str(post.id) and isinstance(entity["account"]["id"], str)
    assert ISO_RE.match(entity["created_at"]) and entity["edited_at"] is None
    assert entity["sensitive"] is True and entity["spoiler_text"] == "spoilers"
    assert entity["favourited"] is True and entity["reblogged"] is False and entity["favourites_count"] == 1
    content = entity["content"]
    assert content.startswith("<p>") and content.endswith("</p>") and "<br />" in content
    assert "&lt;b&gt;this&lt;/b&gt;" in content and "<b>" not in content
    assert 'class="mention"' in content and 'href="http' in content
    assert 'class="mention hashtag" rel="tag"' in content
    assert entity["mentions"] == [{"id": str(bob.id), "username": "bob", "acct": "bob",
                                   "url": entity["mentions"][0]["url"]}]
    assert entity["tags"][0]["name"] == "flask" and entity["tags"][0]["url"].endswith("/tags/flask")
    assert entity["media_attachments"] == [] and entity["emojis"] == [] and entity["filtered"] == []
    assert status(alice, post)["pinned"] is False  # the author's own status says whether it is pinned


def test_signed_out_status_has_no_viewer_keys(ctx):
    post = posts.publish_post(make_user("alice"), "public words")
    db.session.commit()
    assert set(status(None, post)) == STATUS_KEYS


def test_reblog_wraps_the_original_with_an_id_of_its_own(ctx):
    alice, bob = make_user("alice"), make_user("bob")
    post = posts.publish_post(alice, "worth sharing")
    reactions.repost(bob, post.id)
    db.session.commit()
    announce = db.session.scalar(db.select(Announce))
    entry = Reblog(announce.id, announce.created_at, bob, post)
    wrapper = status(alice, entry)
    assert wrapper["id"] == str(REBLOG_ID_OFFSET + announce.id) == status_id(entry)
    assert wrapper["account"]["username"] == "bob" and wrapper["content"] == ""
    assert wrapper["reblog"]["id"] == str(post.id) and wrapper["reblog"]["account"]["username"] == "alice"
    assert parse_status_id(wrapper["id"]) == ("reblog", announce.id)
    assert parse_status_id(str(post.id)) == ("post", post.id)
    for bad in ("abc", "-1", "0", "1.5", "", None, "9" * 30, "１２"):
        assert parse_status_id(bad) is None


def test_a_page_of_statuses_costs_the_same_statements_as_one(ctx):
    alice, bob = make_user("alice"), make_user("bob")
    page = [posts.publish_post(alice if i % 2 else bob, f"post {i} @alice #tag{i}") for i in range(20)]
    db.session.commit()
    db.session.expire_all()
    loaded = [db.session.get(type(post), post.id) for post in page]
    for post in loaded:
        assert post.author is not None
    with counting(ctx) as counted:
        statuses(alice, loaded)
    assert len(counted) <= 2, counted  # viewer state with mentions and tags, the authors' last days


def test_paging_arguments_are_clamped_and_bad_ids_ignored(app):
    with app.test_request_context("/api/v1/timelines/public?limit=500&max_id=abc&since_id=7&local=true"):
        window = listing.window()
        assert (window.limit, window.max_id, window.since_id, window.min_id) == (40, None, 7, None)
        link = listing.link_header("9", "3")
        assert link.startswith("<http") and 'max_id=3>; rel="next"' in link
        assert link.index('rel="next"') < link.index('rel="prev"') and "min_id=9" in link
        assert "local=true" in link and "since_id" not in link
    with app.test_request_context("/x?limit=0"):
        assert listing.window().limit == 1
    with app.test_request_context("/x?limit=ten"):
        assert listing.window().limit == 20
