"""The markup of images on pages: the grid on cards (no inline style, sizes, placeholders, states) and the
composer's file slots with the limits and words media_compose.js reads from them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Media, MediaStatus, User
from microblog.services import media, posts
from microblog.timeutil import utcnow
from tests import media_samples
from tests.factories import make_user, signed_in_client


class Tags(HTMLParser):
    """Every start tag of a page: (name, attributes)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def with_class(self, name: str) -> list[tuple[str, dict[str, str | None]]]:
        return [(tag, attrs) for tag, attrs in self.found if name in (attrs.get("class") or "").split()]


def grid_html(html: str) -> str:
    """The grids of a page, each from its opening tag to the end of its card."""
    return "".join(re.findall(r'<div class="post-media post-media-\d.*?</article>', html, re.S))


@pytest.fixture
def alice(app):
    with app.app_context():
        make_user("alice")
    return signed_in_client(app, "alice")


def publish(app, *images: tuple[bytes, str | None]) -> tuple[int, list[Media]]:
    """A post by alice with these images (processed at once: jobs run inline in tests)."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "alice"))
        uploads = [media.check_upload(data, description) for data, description in images]
        post = posts.publish_post(user, "with images", uploads=uploads)
        db.session.expire_all()
        rows = media.media_of_posts([post.id])[post.id]
        db.session.expunge_all()
        return post.id, rows


def test_the_grid_has_sizes_placeholders_and_no_inline_style(app, alice):
    post_id, rows = publish(app, (media_samples.jpeg_bytes(800, 600, (200, 40, 40)), "A red field"),
                            (media_samples.gif_bytes(3, 32), None))
    html = alice.get(f"/post/{post_id}").get_data(as_text=True)
    grid = grid_html(html)
    assert 'class="post-media post-media-2' in grid
    assert "style=" not in grid  # the CSP forbids inline styles
    tags = Tags(grid)
    items = tags.with_class("post-media-item")
    assert [attrs["data-colour"] for _, attrs in items] == [row.colour for row in rows]
    assert [attrs["data-blurhash"] for _, attrs in items] == [row.blurhash for row in rows]
    images = [attrs for tag, attrs in tags.found if tag == "img"]
    assert [(image["width"], image["height"]) for image in images] == [
        (str(row.thumbnail_width), str(row.thumbnail_height)) for row in rows]
    assert [(image["data-full-width"], image["data-full-height"]) for image in images] == [
        (str(row.width), str(row.height)) for row in rows]
    assert [image["alt"] for image in images] == ["A red field", ""]
    assert [image["src"] for image in images] == [f"/media/{row.thumbnail_key}" for row in rows]
    links = [attrs["href"] for _, attrs in tags.with_class("post-media-link")]
    assert links == [f"/media/{row.file_key}" for row in rows]
    # The ALT button only for the described image (shown by the script: hidden without it), a GIF badge
    # for the animation, and a name for the link around the image without a description.
    alt_buttons = tags.with_class("post-media-alt")
    assert len(alt_buttons) == 1
    assert alt_buttons[0][1]["aria-expanded"] == "false" and "hidden" in alt_buttons[0][1]
    assert len(tags.with_class("post-media-gif")) == 1 and rows[1].animated
    assert "Open image 2 full size (no description)" in grid
    assert "Open image 1 full size" not in grid


@pytest.mark.parametrize("change, shown", [
    ({"status": MediaStatus.PENDING}, "This image is being processed: it will appear in a moment."),
    ({"status": MediaStatus.FAILED, "error": "corrupt"}, "This image could not be processed."),
    ({"hidden_at": utcnow()}, "Image hidden by the moderators"),
])
def test_images_not_shown_say_why(app, alice, change, shown):
    post_id, rows = publish(app, (media_samples.jpeg_bytes(), "described"))
    with app.app_context():
        item = db.session.get(Media, rows[0].id)
        for name, value in change.items():
            setattr(item, name, value)
        db.session.commit()
    grid = grid_html(alice.get(f"/post/{post_id}").get_data(as_text=True))
    assert shown in grid
    assert "<img" not in grid and "/media/" not in grid
    assert "style=" not in grid


def test_the_composer_carries_its_limits_and_words(make_app):
    app = make_app(MEDIA_PER_POST=2, MEDIA_MAX_BYTES=5 * 1024 * 1024)
    with app.app_context():
        make_user("alice")
    client = signed_in_client(app, "alice")
    html = client.get("/").get_data(as_text=True)
    (_, box), = Tags(html).with_class("compose-media")
    assert box["data-max-files"] == "2"
    assert box["data-max-bytes"] == str(5 * 1024 * 1024)
    assert box["data-types"] == "image/jpeg,image/png,image/webp,image/gif"
    assert box["data-remove"] == "Remove image {number}"
    assert box["data-too-large"] == "{name} is too large: at most 5 MB per image."
    assert box["data-too-many"] == "You can add at most 2 images."
    assert box["data-confirm-title"] == "Post without a description?"
    assert (box["data-confirm-add"], box["data-confirm-post"]) == ("Add description", "Post anyway")
    # Only as many slots as a post may have images; still plain file inputs in a <details>.
    assert re.findall(r'<input type="file"[^>]*name="(media-\d)"', html) == ["media-0", "media-1"]
    assert '<details class="compose-media-fallback"' in html
    assert re.search(r'<script src="/static/media_compose\.[0-9a-f]{8}\.js" defer></script>', html)


def test_the_reply_form_has_the_image_slots_too(app, alice):
    post_id, _ = publish(app, (media_samples.jpeg_bytes(), "x"))
    html = alice.get(f"/post/{post_id}").get_data(as_text=True)
    reply = re.search(r'<form method="post" action="/post/\d+/reply".*?</form>', html, re.S).group(0)
    assert 'enctype="multipart/form-data"' in reply
    assert 'class="compose-media mb-2"' in reply and 'name="media-0"' in reply


def test_visitors_get_the_viewer_script_but_not_the_composer(app, client):
    html = client.get("/explore").get_data(as_text=True)
    viewer = re.search(r'<script src="/static/media_view\.[0-9a-f]{8}\.js"[^>]*>', html).group(0)
    assert "defer" in viewer and 'data-position="Image {number} of {count}"' in viewer
    assert "media_compose.js" not in html


def test_the_policy_lets_previews_show_and_nothing_inline(client):
    policy = client.get("/auth/login").headers["Content-Security-Policy"]
    img_src = re.search(r"img-src ([^;]+)", policy).group(1).split()
    assert "blob:" in img_src
    assert "'unsafe-inline'" not in policy
