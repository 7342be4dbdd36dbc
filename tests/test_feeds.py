"""Atom feeds of a person and of a tag: valid Atom 1.0, newest 20 public posts only, advertised on
the pages; OpenGraph and meta descriptions on profiles and permalinks."""

from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest

from microblog.extensions import db
from microblog.models import Post, User, Visibility
from microblog.services import posts, tags
from microblog.timeutil import utcnow
from tests.factories import make_user

A = "{http://www.w3.org/2005/Atom}"
FEED_LINK = r'<link rel="alternate" type="application/atom\+xml"'


def parse(response) -> ET.Element:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.data)
    assert root.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{A}{name}") is not None and root.find(f"{A}{name}").text
    rels = {link.get("rel") for link in root.findall(f"{A}link")}
    assert {"self", "alternate"} <= rels
    for entry in root.findall(f"{A}entry"):
        for name in ("id", "title", "updated", "published", "author/" + A + "name", "link"):
            assert entry.find(f"{A}{name}") is not None, name
        assert entry.find(f"{A}content").get("type") == "html"
    return root


@pytest.fixture
def writer(app):
    with app.app_context():
        author = make_user("writer")
        start = utcnow() - timedelta(hours=2)
        for i in range(25):
            moment = start + timedelta(minutes=i)
            post = Post(body=f"post {i} <b>&</b> #feed", author=author, timestamp=moment)
            db.session.add(post)
            db.session.flush()
            tags.file_post(post)
        db.session.commit()
        for visibility in (Visibility.UNLISTED, Visibility.FOLLOWERS):
            post = posts.publish_post(author, f"secret {visibility} #feed")
            post.visibility = visibility.value
        hidden = posts.publish_post(author, "hidden #feed")
        hidden.hidden_at = utcnow()
        db.session.commit()
        return author.id


@pytest.mark.parametrize("path", ["/user/writer/feed.atom", "/user/WRITER/feed.atom", "/tags/Feed/feed.atom"])
def test_feeds_hold_the_newest_twenty_public_posts(client, writer, path):
    root = parse(client.get(path))
    entries = root.findall(f"{A}entry")
    assert len(entries) == 20
    bodies = [entry.find(f"{A}content").text for entry in entries]
    assert bodies[0].startswith("post 24 ") and bodies[-1].startswith("post 5 ")
    assert not any("secret" in body or "hidden" in body for body in bodies)
    # The HTML content is escaped markup: the post's own "<b>" arrives as text, not as a tag.
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in bodies[0]
    assert entries[0].find(f"{A}id").text.startswith("http://microblog.test/post/")  # SITE_URL


def test_feed_links_name_the_site_not_the_host_a_request_claims(client, writer):
    """Absolute links in feeds and OpenGraph tags come from SITE_URL: a forged Host header cannot put
    another site into a feed a cache or a reader keeps."""
    forged = {"Host": "evil.example"}
    text = client.get("/user/writer/feed.atom", headers=forged).get_data(as_text=True)
    assert "evil.example" not in text and "http://microblog.test/user/writer" in text
    html = client.get("/user/writer", headers=forged).get_data(as_text=True)
    assert 'property="og:url" content="http://microblog.test/user/writer"' in html


def test_unknown_feeds_are_404(client):
    assert client.get("/user/nobody/feed.atom").status_code == 404
    assert client.get(f"/tags/{'x' * 1000}/feed.atom").status_code == 404
    root = parse(client.get("/tags/emptytag/feed.atom"))
    assert root.findall(f"{A}entry") == []


def test_feeds_are_advertised_and_pages_carry_opengraph(app, client, writer):
    html = client.get("/user/writer").get_data(as_text=True)
    assert re.search(FEED_LINK + r'[^>]*href="/user/writer/feed.atom"', html)
    for prop in ("og:title", "og:description", "og:url", "og:type"):
        assert f'property="{prop}"' in html
    assert '<meta name="description"' in html
    html = client.get("/tags/feed").get_data(as_text=True)
    assert re.search(FEED_LINK + r'[^>]*href="/tags/feed/feed.atom"', html)
    with app.app_context():
        post = posts.publish_post(db.session.get(User, writer),
                                  'quote " and <tag> in a post')
    html = client.get(f"/post/{post.id}").get_data(as_text=True)
    assert 'property="og:url" content="http://microblog.test/post/' in html
    assert 'content="quote &#34; and &lt;tag&gt; in a post"' in html or \
        'content="quote &quot; and &lt;tag&gt; in a post"' in html
