"""Right-to-left: user content keeps its own direction (dir="auto"), arrows follow the page's direction."""

from __future__ import annotations

import re

import pytest

from microblog.extensions import db
from microblog.models import Notification
from tests.factories import make_follow, make_message, make_posts, make_user, signed_in_client

ARABIC_BIO = "مرحبا، أنا أكتب عن القهوة"


@pytest.fixture
def app(make_app):
    return make_app(POSTS_PER_PAGE=2)


def test_bios_keep_their_own_direction_on_the_profile_and_in_lists(app, client):
    with app.app_context():
        bob = make_user("bob", about_me=ARABIC_BIO)
        make_follow(bob, make_user("alice"))
    profile = client.get("/user/bob").get_data(as_text=True)
    assert f'<p class="mb-2" dir="auto">{ARABIC_BIO}</p>' in profile
    followers = client.get("/user/alice/followers").get_data(as_text=True)
    assert f'<div class="small text-body-secondary" dir="auto">{ARABIC_BIO}</div>' in followers


def test_messages_and_what_people_type_keep_their_own_direction(app):
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_message(bob, alice, ARABIC_BIO)
    client = signed_in_client(app, "alice")
    thread = client.get("/messages/bob").get_data(as_text=True)
    assert f'<p class="mb-0 message-body" dir="auto">{ARABIC_BIO}</p>' in thread
    assert re.search(r'<textarea[^>]* dir="auto"[^>]* name="message"', thread), "the reply box"
    edit_profile = client.get("/edit_profile").get_data(as_text=True)
    assert re.search(r'<textarea[^>]* dir="auto"[^>]* name="about_me"', edit_profile)


def test_a_reported_posts_words_in_a_notification_keep_their_own_direction(app):
    with app.app_context():
        alice = make_user("alice")
        payload = {"report_id": 1, "status": "resolved", "target": ARABIC_BIO + " <b>"}
        db.session.add(Notification(user_id=alice.id, kind="report_outcome", payload=payload))
        db.session.commit()
    page = signed_in_client(app, "alice").get("/notifications").get_data(as_text=True)
    # In its own direction, and still escaped.
    assert f'“<bdi dir="auto">{ARABIC_BIO} &lt;b&gt;</bdi>”' in page


def pagination_links(html: str) -> tuple[str, str]:
    newer = re.search(r'<span class="page-link">(.*?)</span>\s*</li>', html, re.S).group(1)
    older = re.search(r'<a class="page-link" rel="next"[^>]*>(.*?)</a>', html, re.S).group(1)
    return newer, older


@pytest.mark.parametrize(("lang", "start", "end"), [("en", "&larr;", "&rarr;"), ("ar", "&rarr;", "&larr;")])
def test_newer_points_to_the_start_of_the_line_and_older_to_its_end(app, client, lang, start, end):
    with app.app_context():
        make_posts(make_user("bob"), 3)
    html = client.get("/explore", headers={"Accept-Language": lang}).get_data(as_text=True)
    assert f'dir="{"rtl" if lang == "ar" else "ltr"}"' in html
    newer, older = pagination_links(html)
    # In logical order the arrow before "Newer" is at the line's start, the one after "Older" at its end.
    assert newer.startswith(f'<span class="dir-arrow" aria-hidden="true">{start}</span> ')
    assert older.endswith(f' <span class="dir-arrow" aria-hidden="true">{end}</span>')
