"""Cached post cards render exactly what the template renders, and never show stale content."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import render_template
from flask_babel import force_locale, format_timedelta

from microblog import templating
from microblog.extensions import db
from microblog.models import Post, User
from microblog.services import accounts, posts
from microblog.templating import timeago
from microblog.timeutil import utcnow
from tests.factories import make_post, make_user


def cards(html: str) -> list[str]:
    return re.findall(r'<article class="card mb-2 post".*?</article>', html, re.DOTALL)


def normalized(html: str) -> str:
    """Whitespace folded, and CSRF tokens blanked (each session has its own)."""
    html = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', html)
    return re.sub(r"\s+", " ", html).strip()


# The locked Babel (requirements.txt) words deltas by the rule timeago owns: a Babel upgrade that
# changes its rule fails here, and the wording only follows once relative_amount does.
@pytest.mark.parametrize("language", ["en", "de", "ja", "ar"])
def test_timeago_matches_babel_for_every_kind_of_delta(app, language, monkeypatch):
    offsets = [0, 1, 2, 29, 44, 45, 59, 60, 89, 90, 3599, 3600, 5400, 86_399, 86_400, 129_600, 604_799,
               604_800, 2_591_999, 2_592_000, 31_535_999, 31_536_000, 94_608_000, -5, -3600, -86_400 * 9]
    now = utcnow()
    monkeypatch.setattr(templating, "utcnow", lambda: now)
    with app.test_request_context(), force_locale(language):
        for seconds in offsets:
            for fraction in (0, 0.4, 0.6):
                moment = now - timedelta(seconds=seconds + fraction)
                expected = format_timedelta(moment - now, add_direction=True, threshold=0.9)
                assert timeago(moment) == expected, (language, seconds, fraction)


# (seconds ago, text): the rule timeago owns, whatever Babel's own conversion does. In this order,
# so a text cached for one delta is looked up for the next (1.4 s and 1.6 s once shared an entry).
OWN_RULE = [
    (0, "in 0 seconds"), (0.3, "1 second ago"), (1.4, "1 second ago"), (1.6, "2 seconds ago"),
    (-1.4, "in 1 second"), (-1.6, "in 2 seconds"), (44.6, "45 seconds ago"), (53.9, "54 seconds ago"),
    (54, "1 minute ago"), (89.9, "1 minute ago"), (90.1, "2 minutes ago"), (3_239.9, "54 minutes ago"),
    (3_240, "1 hour ago"), (86_400 * 6.2, "6 days ago"), (86_400 * 6.4, "1 week ago"),
    (2_592_000 * 10, "10 months ago"), (2_592_000 * 11, "1 year ago"), (31_536_000 * 2.6, "3 years ago"),
    (-86_400 * 9, "in 1 week"),
]


@pytest.mark.parametrize("babel_conversion", ["exact", "whole seconds, as Babel before 2.19"])
def test_timeago_owns_its_rule_for_units_and_rounding(app, monkeypatch, babel_conversion):
    now = utcnow()
    monkeypatch.setattr(templating, "utcnow", lambda: now)
    monkeypatch.setattr(templating, "_timeago_texts", {})
    if babel_conversion != "exact":  # Babel < 2.19 floored a timedelta to whole seconds first
        def floored(delta, **kwargs):
            return format_timedelta(timedelta(seconds=delta.days * 86_400 + delta.seconds), **kwargs)

        monkeypatch.setattr(templating, "format_timedelta", floored)
    with app.test_request_context(), force_locale("en"):
        got = [(seconds, timeago(now - timedelta(seconds=seconds))) for seconds, _ in OWN_RULE]
    assert got == OWN_RULE


def test_cached_cards_equal_the_template(client, app, auth):
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_post(bob, "hello https://example.com/x <b>not bold</b>", utcnow() - timedelta(minutes=5))
        make_post(alice, "mine", utcnow() - timedelta(hours=2))
        from tests.factories import make_follow

        make_follow(alice, bob)
    auth.login()
    first = client.get("/").get_data(as_text=True)
    second = client.get("/").get_data(as_text=True)  # from the cache
    # The CSRF token's signature carries the second it was made: blanked, as in the next comparison.
    assert [normalized(c) for c in cards(first)] == [normalized(c) for c in cards(second)]
    assert len(cards(first)) == 2
    with app.test_request_context():
        from flask_login import login_user

        login_user(db.session.scalar(db.select(User).filter_by(username="alice")))
        items = db.session.scalars(Post.newest_first(db.select(Post))).unique().all()
        expected = "".join(render_template("_post.html", post=post) for post in items)
    assert [normalized(c) for c in cards(second)] == [normalized(c) for c in cards(expected)]
    assert "5 minutes ago" in second
    assert 'class="post-delete"' in cards(second)[1] and 'class="post-delete"' not in cards(second)[0]
    assert "&lt;b&gt;not bold&lt;/b&gt;" in second and 'href="https://example.com/x"' in second


def test_edits_and_renames_show_at_once(client, app, auth):
    with app.app_context():
        alice = make_user("alice")
        post_id = posts.publish_post(alice, "first version").id
    assert "first version" in client.get("/explore").get_data(as_text=True)
    with app.app_context():
        alice = db.session.scalar(db.select(User).filter_by(username="alice"))
        db.session.get(Post, post_id).body = "second version"
        db.session.commit()
        accounts.update_profile(alice, "alicia", None)
    html = client.get("/explore").get_data(as_text=True)
    assert "second version" in html and "first version" not in html
    assert 'href="/user/alicia"' in html and 'href="/user/alice"' not in html


def test_each_language_and_time_zone_gets_its_own_card(client, app):
    with app.app_context():
        make_post(make_user("bob"), "hello", utcnow().replace(hour=12, minute=0) - timedelta(days=1))
    english = client.get("/explore").get_data(as_text=True)
    client.set_cookie("locale", "de")
    client.set_cookie("tz", "Asia/Tokyo")
    german = client.get("/explore").get_data(as_text=True)
    title = lambda html: re.search(r'<time[^>]*title="([^"]+)"', html).group(1)  # noqa: E731
    assert title(english) != title(german)
    assert "Japan" in title(german) or "Japanische" in title(german) or "21:00" in title(german)


def test_the_cache_is_bounded(make_app):
    app = make_app(POST_CARD_CACHE_SIZE=3)
    with app.app_context():
        bob = make_user("bob")
        for i in range(6):
            make_post(bob, f"post {i}")
    client = app.test_client()
    assert len(cards(client.get("/explore").get_data(as_text=True))) == 6
    assert len(app.extensions["post_cards"]) == 3


def test_the_key_covers_every_post_column_and_the_authors_shown_ones():
    import sqlalchemy as sa

    from microblog.post_cards import _fields

    post_getter, author_getter = _fields()
    post_columns = {a.key for a in sa.inspect(Post).column_attrs}
    user_columns = {a.key for a in sa.inspect(User).column_attrs}
    post_fields = set(post_getter({key: key for key in post_columns}))
    author_fields = set(author_getter({key: key for key in user_columns}))
    assert post_fields == post_columns
    assert {"id", "username", "email", "about_me", "role"} <= author_fields
    assert "last_seen" not in author_fields and "post_count" not in author_fields
