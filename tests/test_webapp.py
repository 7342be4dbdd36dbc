"""The web app manifest and its icons, robots.txt, and each public page's description, canonical address
and sharing (OpenGraph) tags: present, right and escaped."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from PIL import Image

from microblog.extensions import db
from tests.factories import make_post, make_user

HOSTILE = 'He said "hi" & <script>alert(1)</script> \'quoted\''


def meta(page: str, key: str) -> list[str]:
    """The contents of every <meta name|property=key> in ``page``, unescaped."""
    found = re.findall(rf'<meta (?:name|property)="{re.escape(key)}" content="([^"]*)"', page)
    return [html.unescape(value) for value in found]


def link(page: str, rel: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(rf'<link rel="{rel}" href="([^"]*)"', page)]


@pytest.fixture
def ada(app):
    with app.app_context():
        user = make_user("ada", about_me=HOSTILE)
        post = make_post(user, HOSTILE + " #fun")
        return {"user": user.id, "post": post.id}


def test_the_manifest_makes_the_site_installable(client):
    reply = client.get("/manifest.webmanifest")
    assert reply.status_code == 200 and reply.mimetype == "application/manifest+json"
    manifest = json.loads(reply.data)
    assert manifest["name"] == manifest["short_name"] == "Microblog"
    assert manifest["start_url"] == manifest["scope"] == "/" and manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    assert manifest["description"] and manifest["lang"] == "en" and manifest["dir"] == "ltr"
    pngs = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= pngs
    assert any(icon["type"] == "image/svg+xml" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.mimetype == icon["type"], icon
        assert image.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        if icon["type"] == "image/png":
            width, height = Image.open(io.BytesIO(image.data)).size
            assert f"{width}x{height}" == icon["sizes"]


def test_maskable_icons_fill_the_square_and_the_others_have_round_corners(client):
    manifest = client.get("/manifest.webmanifest").json
    for icon in manifest["icons"]:
        if icon["type"] != "image/png":
            continue
        image = Image.open(io.BytesIO(client.get(icon["src"]).data)).convert("RGBA")
        corner = image.getpixel((0, 0))
        assert (corner[3] == 255) == (icon["purpose"] == "maskable"), icon


def test_the_manifest_speaks_the_visitors_language(client):
    manifest = client.get("/manifest.webmanifest", headers={"Accept-Language": "ar"}).json
    assert manifest["lang"] == "ar" and manifest["dir"] == "rtl"


@pytest.mark.parametrize("path", ["/explore", "/auth/login", "/auth/register", "/", "/user/ada"])
def test_every_page_links_the_icons_the_manifest_and_theme_colour(client, ada, path):
    page = client.get(path).get_data(as_text=True)
    assert '<link rel="icon" href="data:,">' not in page
    assert re.search(r'<link rel="manifest" href="/manifest.webmanifest">', page)
    svg = r'<link rel="icon" href="/static/icons/favicon\.[0-9a-f]{8}\.svg" type="image/svg\+xml">'
    assert re.search(svg, page)
    apple = link(page, "apple-touch-icon")
    assert len(apple) == 1 and client.get(apple[0]).mimetype == "image/png"
    assert len(meta(page, "theme-color")) == 2  # light and dark
    assert meta(page, "og:site_name") == ["Microblog"] and meta(page, "twitter:card") == ["summary"]
    assert len(meta(page, "description")) == 1 and meta(page, "description")[0]
    assert meta(page, "og:description") == meta(page, "description")


@pytest.mark.parametrize(("path", "description"), [
    ("/explore", "The latest public posts from everyone on Microblog, and what is trending."),
    ("/auth/login", "Sign in to Microblog to post, follow people and read your timeline."),
    ("/auth/register", "Create a Microblog account: share short posts and follow people you like."),
    ("/tags/fun", "Public posts tagged #fun"),
    ("/", "Microblog: short posts from people you follow, and everyone else's on Explore."),
])
def test_public_pages_describe_themselves_with_a_canonical_address(client, ada, path, description):
    page = client.get(path).get_data(as_text=True)
    assert meta(page, "description") == [description]
    assert link(page, "canonical") == [f"http://microblog.test{path}"] == meta(page, "og:url")
    assert meta(page, "og:type") == ["website"]


def test_the_canonical_address_keeps_the_page_number_only(client, ada):
    page = client.get("/explore?page=2&utm_source=x&q=1").get_data(as_text=True)
    assert link(page, "canonical") == ["http://microblog.test/explore?page=2"]
    home = client.get("/index").get_data(as_text=True)
    assert link(home, "canonical") == ["http://microblog.test/"]


def test_a_profile_is_described_by_its_bio_escaped(client, ada):
    page = client.get("/user/ada").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page.split("</head>")[0]
    assert meta(page, "description") == [HOSTILE] == meta(page, "og:description")
    assert meta(page, "og:title") == ["ada"] and meta(page, "og:type") == ["profile"]
    assert link(page, "canonical") == ["http://microblog.test/user/ada"]
    assert meta(page, "og:image") == []  # an identicon (SVG) is no sharing image
    feeds = re.findall(r'<link rel="alternate" type="application/atom\+xml" title="[^"]*" href="([^"]*)">',
                       page)
    assert feeds == ["/user/ada/feed.atom"]
    assert client.get(feeds[0]).status_code == 200


def test_a_profile_without_a_bio_gets_a_generic_description(client, app):
    with app.app_context():
        make_user("quiet")
    page = client.get("/user/quiet").get_data(as_text=True)
    assert meta(page, "description") == ["Posts by quiet on Microblog"]


def test_an_uploaded_picture_is_the_sharing_image(client, app, ada):
    with app.app_context():
        from microblog.models import User

        user = db.session.get(User, ada["user"])
        user.avatar_key = "m/ab/" + "a" * 64 + ".webp"
        db.session.commit()
    for path in ("/user/ada", f"/post/{ada['post']}"):
        page = client.get(path).get_data(as_text=True)
        assert meta(page, "og:image") == [f"http://microblog.test/media/m/ab/{'a' * 64}.webp"], path


def test_a_permalink_is_described_by_its_text_escaped(client, ada):
    page = client.get(f"/post/{ada['post']}").get_data(as_text=True)
    head = page.split("</head>")[0]
    assert "<script>alert(1)</script>" not in head and "&lt;script&gt;" in head
    assert meta(page, "description") == [HOSTILE + " #fun"]
    assert meta(page, "og:type") == ["article"] and meta(page, "og:title") == ["Post by ada"]
    assert link(page, "canonical") == [f"http://microblog.test/post/{ada['post']}"]
    assert meta(page, "article:published_time")


def test_a_long_post_is_cut_in_the_description(client, app):
    with app.app_context():
        post_id = make_post(make_user("long"), "word " * 100).id
    page = client.get(f"/post/{post_id}").get_data(as_text=True)
    (description,) = meta(page, "description")
    assert len(description) <= 200 and description.endswith("...")


def test_robots_txt_lets_crawlers_see_public_pages(client):
    reply = client.get("/robots.txt")
    assert reply.status_code == 200 and reply.mimetype == "text/plain"
    text = reply.get_data(as_text=True)
    assert text.startswith("User-agent: *\n")
    disallowed = re.findall(r"^Disallow: (\S+)$", text, re.M)
    assert "/admin/" in disallowed and "/api/" in disallowed
    for public in ("/explore", "/user/", "/post/", "/tags/", "/auth/login"):
        assert not any(public.startswith(path) for path in disallowed)
