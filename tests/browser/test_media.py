"""Images in headless Chromium: the composer (file picker, drop, paste, previews, remove, the missing
description warning), the grid and its full-size view, profile pictures, and posting without JavaScript."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Media, MediaStatus, Post, User
from tests import media_samples
from tests.browser.helpers import Watch, keep, seed_user, sign_in

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the browser fixture skips (or fails under REQUIRE_BROWSER=1)
    Page = expect = None

pytestmark = pytest.mark.browser

# Small enough that a test image can pass it (the composer checks sizes before sending anything).
MAX_BYTES = 150_000


@pytest.fixture
def live_app(make_app):
    return make_app(WTF_CSRF_ENABLED=True, MEDIA_MAX_BYTES=MAX_BYTES)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def choose(page: Page, *files: Path) -> None:
    """Pick ``files`` through the composer's "Add images" button and the browser's file chooser."""
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Add images").click()
    assert chooser.value.is_multiple()
    chooser.value.set_files([str(path) for path in files])


def files_in_slots(page: Page) -> list[int]:
    """How many files each of the form's file inputs media-0 ... media-3 holds."""
    return page.evaluate("[0, 1, 2, 3].map(i => document.getElementById('media-' + i).files.length)")


def slot(page: Page, number: int):
    return page.get_by_role("group", name=f"Image {number}")


def media_rows(app) -> list[Media]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Media).order_by(Media.post_id, Media.position)).all()
        db.session.expunge_all()
        return list(rows)


def test_choose_describe_warn_post_and_open_full_size(page, live_app, tmp_path):
    seed_user(live_app, "alice")
    watch = Watch(page)
    red = write(tmp_path, "red.jpg", media_samples.jpeg_bytes(1200, 800, (200, 30, 30)))
    blue = write(tmp_path, "blue.png", media_samples.png_bytes(600, 600))
    sign_in(page, "alice")

    choose(page, red, blue)
    expect(page.get_by_role("button", name="Remove image 1")).to_be_visible()
    expect(page.get_by_role("button", name="Remove image 2")).to_be_visible()
    expect(page.get_by_role("button", name="Remove image 3")).to_have_count(0)
    status = page.locator(".compose-media-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_contain_text("red.jpg added as image 1.")
    expect(status).to_contain_text("blue.png added as image 2.")
    # The previews are the chosen files (object URLs), shown before anything is sent.
    previews = page.locator(".compose-media-thumb img")
    expect(previews.nth(0)).to_have_attribute("src", re.compile(r"^blob:"))
    keep_shot(page, tmp_path, "media-composer.png")
    widths = previews.evaluate_all("images => images.map(image => image.naturalWidth)")
    assert widths == [1200, 600]
    # The files sit in the form's own slots, which the form posts as it does without JavaScript.
    assert files_in_slots(page) == [1, 1, 0, 0]

    slot(page, 1).get_by_label("Description (alt text)").fill("A red rectangle")
    page.get_by_label("Say something").fill("Two colours")
    page.get_by_role("button", name="Post").click()

    warning = page.get_by_role("alertdialog", name="Post without a description?")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("image 2")
    warning.get_by_role("button", name="Add description").click()
    expect(warning).to_be_hidden()
    expect(slot(page, 2).get_by_label("Description (alt text)")).to_be_focused()
    with live_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0  # nothing was sent

    page.get_by_role("button", name="Post").click()
    expect(warning).to_be_visible()
    warning.get_by_role("button", name="Post anyway").click()
    expect(page.get_by_role("alert")).to_contain_text("Your post is now live!")

    rows = media_rows(live_app)
    assert [(row.position, row.status, row.description) for row in rows] == [
        (0, MediaStatus.READY, "A red rectangle"), (1, MediaStatus.READY, None)]
    assert [(row.width, row.height) for row in rows] == [(1200, 800), (600, 600)]

    card = page.get_by_role("region", name="Timeline").get_by_role("article").first
    grid = card.locator(".post-media")
    expect(grid).to_have_class(re.compile(r"\bpost-media-2\b"))
    images = grid.locator("img")
    expect(images).to_have_count(2)
    expect(images.nth(0)).to_have_attribute("alt", "A red rectangle")
    expect(images.nth(1)).to_have_attribute("alt", "")
    expect(images.nth(0)).to_have_attribute("src", f"/media/{rows[0].thumbnail_key}")
    expect(images.nth(0)).to_have_attribute("width", str(rows[0].thumbnail_width))
    # Two side by side, each cropped to fill its cell.
    boxes = [images.nth(i).bounding_box() for i in range(2)]
    assert abs(boxes[0]["y"] - boxes[1]["y"]) < 1 and boxes[0]["x"] < boxes[1]["x"]
    assert abs(boxes[0]["height"] - boxes[1]["height"]) < 1
    expect(images.nth(0)).to_have_css("object-fit", "cover")
    # The average colour fills each cell while it loads (set by the script from data-colour).
    reddish = re.compile(r"^rgb\((1\d\d|2\d\d),")
    expect(grid.locator(".post-media-item").first).to_have_css("background-color", reddish)

    # The ALT badge shows the description on request.
    alt = grid.get_by_role("button", name="ALT")
    expect(alt).to_have_count(1)  # only the described image has one
    expect(alt).to_have_attribute("aria-expanded", "false")
    description = grid.get_by_text("A red rectangle", exact=True)
    expect(description).to_be_hidden()
    alt.click()
    expect(alt).to_have_attribute("aria-expanded", "true")
    expect(description).to_be_visible()
    assert alt.get_attribute("aria-controls") == description.locator("..").get_attribute("id")
    alt.press("Escape")
    expect(description).to_be_hidden()

    # Full size: the display file in a modal dialog; arrows go to the next image; Escape closes.
    grid.get_by_role("link", name="A red rectangle").click()
    viewer = page.get_by_role("dialog", name="Image 1 of 2")
    expect(viewer).to_be_visible()
    big = viewer.get_by_role("img", name="A red rectangle")
    expect(big).to_have_attribute("src", re.compile(re.escape(f"/media/{rows[0].file_key}") + "$"))
    page.wait_for_function("document.querySelector('dialog.media-lightbox img').naturalWidth === 1200")
    keep_shot(page, tmp_path, "media-lightbox.png", full_page=False)
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("dialog", name="Image 2 of 2")).to_be_visible()
    second = re.compile(re.escape(rows[1].file_key) + "$")
    expect(page.locator("dialog.media-lightbox img")).to_have_attribute("src", second)
    page.keyboard.press("Escape")
    expect(page.locator("dialog.media-lightbox")).to_be_hidden()
    expect(grid.locator("a.post-media-link").nth(1)).to_be_focused()

    # The permalink shows the same grid.
    page.goto(f"/post/{rows[0].post_id}")
    expect(page.locator(".post-media img")).to_have_count(2)
    keep_shot(page, tmp_path, "media-permalink.png")
    assert watch.errors == []


def keep_shot(page: Page, folder: Path, name: str, *, full_page: bool = True) -> None:
    shot = folder / name
    page.screenshot(path=str(shot), full_page=full_page)
    keep(shot)


def test_remove_an_image_before_posting_and_refusals_said_aloud(page, live_app, tmp_path):
    seed_user(live_app, "bob")
    watch = Watch(page)
    wide = write(tmp_path, "wide.jpg", media_samples.jpeg_bytes(120, 60))
    square = write(tmp_path, "square.jpg", media_samples.jpeg_bytes(70, 70))
    tall = write(tmp_path, "tall.png", media_samples.png_bytes(40, 90))
    drawing = write(tmp_path, "drawing.svg", media_samples.SVG)
    sign_in(page, "bob")

    choose(page, wide, square, tall)
    slot(page, 1).get_by_label("Description (alt text)").fill("wide one")
    slot(page, 2).get_by_label("Description (alt text)").fill("square one")
    slot(page, 3).get_by_label("Description (alt text)").fill("tall one")
    page.get_by_role("button", name="Remove image 2").click()
    expect(page.get_by_role("button", name="Remove image 3")).to_have_count(0)
    expect(page.locator(".compose-media-status")).to_have_text("Image 2 removed.")
    # The next image moves up with its description, and keeps the focus near where it was.
    expect(slot(page, 2).get_by_label("Description (alt text)")).to_have_value("tall one")
    expect(slot(page, 2)).to_contain_text("tall.png")
    expect(page.get_by_role("button", name="Remove image 2")).to_be_focused()
    assert files_in_slots(page) == [1, 1, 0, 0]

    # What the server would refuse is refused at once, in the live region.
    choose(page, drawing)
    status = page.locator(".compose-media-status")
    expect(status).to_have_text("drawing.svg is not a JPEG, PNG, WebP or GIF image.")
    expect(status).to_have_class(re.compile(r"\btext-danger\b"))
    big = write(tmp_path, "big.jpg", media_samples.jpeg_bytes(500, 500, noise=True))
    assert big.stat().st_size > MAX_BYTES
    choose(page, big)
    expect(status).to_have_text("big.jpg is too large: at most 0.1 MB per image.")
    expect(page.get_by_role("button", name="Remove image 3")).to_have_count(0)
    extra = [write(tmp_path, f"extra{i}.jpg", media_samples.jpeg_bytes(30 + i, 30)) for i in range(3)]
    choose(page, *extra)
    expect(status).to_contain_text("You can add at most 4 images.")
    expect(status).to_contain_text("extra0.jpg added as image 3.")
    expect(page.get_by_role("button", name="Add images")).to_be_disabled()
    page.get_by_role("button", name="Remove image 3").click()
    page.get_by_role("button", name="Remove image 3").click()
    expect(page.get_by_role("button", name="Add images")).to_be_enabled()

    page.get_by_label("Say something").fill("Shapes")
    page.get_by_role("button", name="Post").click()  # every image has a description: no warning
    expect(page.get_by_role("alert")).to_contain_text("Your post is now live!")
    rows = media_rows(live_app)
    assert [(row.description, row.width, row.height) for row in rows] == [("wide one", 120, 60),
                                                                           ("tall one", 40, 90)]
    assert watch.errors == []


# A 2x2 PNG, small enough to build the File inside the page.
TINY_PNG = base64.b64encode(media_samples.png_bytes(2, 2)).decode()
FILE_IN_PAGE = """([data, name, type]) => {
    const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, {type}));
    return transfer;
}"""


def test_drop_and_paste_images_into_the_composer(page, live_app):
    seed_user(live_app, "carol")
    watch = Watch(page)
    sign_in(page, "carol")
    form = page.locator("form:has(textarea[name=post])")
    # The composer listens for drops once its (deferred) script has run: it adds "Add images" then.
    expect(page.get_by_role("button", name="Add images")).to_be_visible()

    dropped = page.evaluate_handle(FILE_IN_PAGE, [TINY_PNG, "dropped.png", "image/png"])
    form.dispatch_event("dragenter", {"dataTransfer": dropped})
    expect(form).to_have_class(re.compile(r"\bcompose-dropping\b"))
    form.dispatch_event("drop", {"dataTransfer": dropped})
    expect(form).not_to_have_class(re.compile(r"\bcompose-dropping\b"))
    expect(slot(page, 1)).to_contain_text("dropped.png")

    pasted = page.evaluate_handle(FILE_IN_PAGE, [TINY_PNG, "pasted.png", "image/png"])
    page.get_by_label("Say something").focus()
    page.evaluate("""(transfer) => document.querySelector('textarea[name=post]').dispatchEvent(
        new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true, cancelable: true}))""", pasted)
    expect(slot(page, 2)).to_contain_text("pasted.png")
    expect(page.get_by_label("Say something")).to_have_value("")  # the file, not its name as text

    slot(page, 1).get_by_label("Description (alt text)").fill("dropped dot")
    slot(page, 2).get_by_label("Description (alt text)").fill("pasted dot")
    page.get_by_label("Say something").fill("Dots")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_role("alert")).to_contain_text("Your post is now live!")
    assert [row.description for row in media_rows(live_app)] == ["dropped dot", "pasted dot"]
    assert watch.errors == []


def test_upload_a_profile_picture_and_a_header_then_remove_them(page, live_app, tmp_path):
    seed_user(live_app, "dora")
    watch = Watch(page)
    face = write(tmp_path, "face.jpg", media_samples.jpeg_bytes(900, 600, (20, 160, 60)))
    banner = write(tmp_path, "banner.png", media_samples.png_bytes(1800, 400))
    sign_in(page, "dora")

    page.goto("/edit_profile")
    page.get_by_label("Profile picture").set_input_files(str(face))
    # The chosen file shows in place of the current picture before it is saved.
    expect(page.locator("#avatar-preview")).to_have_attribute("src", re.compile(r"^blob:"))
    page.get_by_label("Header image").set_input_files(str(banner))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Your changes have been saved.")
    expect(page).to_have_url("/user/dora")

    with live_app.app_context():
        dora = db.session.scalar(sa.select(User).where(User.username == "dora"))
        avatar_key, header_key = dora.avatar_key, dora.header_key
    assert avatar_key and header_key
    avatar = page.get_by_role("img", name="Avatar of dora")
    expect(avatar).to_have_attribute("src", f"/media/{avatar_key}")
    # The square crop, at its full size.
    page.wait_for_function("document.querySelector('.profile-avatar').naturalWidth === 400")
    header = page.locator(".profile-header img")
    expect(header).to_have_attribute("src", f"/media/{header_key}")
    expect(header).to_have_attribute("alt", "")
    keep_shot(page, tmp_path, "media-profile.png")
    # The navbar and the cards use it too.
    nav_avatar = page.get_by_role("navigation", name="Main").locator("img").first
    expect(nav_avatar).to_have_attribute("src", f"/media/{avatar_key}")

    page.goto("/edit_profile")
    keep_shot(page, tmp_path, "media-edit-profile.png")
    # Each asks first (confirm.js's dialog).
    page.get_by_role("button", name="Remove the profile picture").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(page.get_by_role("alert")).to_contain_text("Your profile picture has been removed.")
    page.get_by_role("button", name="Remove the header image").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(page.get_by_role("alert")).to_contain_text("Your header image has been removed.")
    page.goto("/user/dora")
    expect(page.get_by_role("img", name="Avatar of dora")).to_have_attribute("src", re.compile(r"^/avatar/"))
    expect(page.locator(".profile-header img")).to_have_count(0)
    expect(page.locator(".profile-header")).to_be_visible()  # the neutral band
    assert watch.errors == []


def test_a_refused_profile_picture_shows_on_the_form(page, live_app, tmp_path):
    seed_user(live_app, "eve")
    drawing = write(tmp_path, "drawing.svg", media_samples.SVG)
    sign_in(page, "eve")
    page.goto("/edit_profile")
    field = page.get_by_label("Profile picture")
    field.set_input_files(str(drawing))
    page.get_by_role("button", name="Save").click()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile("not an image we accept"))
    with live_app.app_context():
        assert db.session.scalar(sa.select(User.avatar_key).where(User.username == "eve")) is None


def test_post_an_image_without_javascript(new_context, live_app, tmp_path):
    seed_user(live_app, "fred")
    page = new_context(java_script_enabled=False).new_page()
    watch = Watch(page)
    photo = write(tmp_path, "photo.jpg", media_samples.jpeg_bytes(300, 200))
    sign_in(page, "fred")

    expect(page.get_by_role("button", name="Add images")).to_have_count(0)  # no script, no button
    page.get_by_text("Add images").click()  # the <details> summary opens the plain slots
    page.get_by_label("Image 1", exact=True).set_input_files(str(photo))
    slot(page, 1).get_by_label("Description (alt text)").fill("A plain upload")
    page.get_by_label("Say something").fill("No script needed")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_role("alert")).to_contain_text("Your post is now live!")

    image = page.locator(".post-media img")
    expect(image).to_have_attribute("alt", "A plain upload")
    rows = media_rows(live_app)
    expect(page.locator(".post-media a")).to_have_attribute("href", f"/media/{rows[0].file_key}")
    # Without the script, the ALT button (which needs it) stays hidden; the image's tooltip says it.
    expect(page.get_by_role("button", name="ALT")).to_have_count(0)
    expect(image).to_have_attribute("title", "A plain upload")
    assert watch.errors == []


def publish_with_images(app, author: str, body: str, count: int) -> int:
    """A post with ``count`` different images, through the services (processed at once: jobs run inline)."""
    from microblog.services import media, posts

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == author))
        photos = [media_samples.jpeg_bytes(160 + 40 * i, 120, (40 * i, 90, 160)) for i in range(count)]
        uploads = [media.check_upload(photo, f"{body} {i + 1}") for i, photo in enumerate(photos)]
        return posts.publish_post(user, body, uploads=uploads).id


def set_media(app, post_id: int, position: int, **values) -> None:
    with app.app_context():
        query = sa.select(Media).where(Media.post_id == post_id, Media.position == position)
        item = db.session.scalars(query).one()
        for name, value in values.items():
            setattr(item, name, value)
        db.session.commit()


def test_grid_layouts_and_images_not_ready(page, live_app, tmp_path):
    from microblog.timeutil import utcnow

    seed_user(live_app, "gina")
    watch = Watch(page)
    ids = {count: publish_with_images(live_app, "gina", f"layout{count}", count) for count in (1, 3, 4)}
    states = publish_with_images(live_app, "gina", "states", 3)
    set_media(live_app, states, 0, status=MediaStatus.PENDING)
    set_media(live_app, states, 1, status=MediaStatus.FAILED, error="corrupt")
    set_media(live_app, states, 2, hidden_at=utcnow())
    page.goto("/user/gina")

    def boxes(post_id: int) -> list[dict]:
        cells = page.locator(f"#post-{post_id} .post-media-item")
        return [cells.nth(i).bounding_box() for i in range(cells.count())]

    # One: the whole width of the grid, at the image's own aspect ratio (160x120 -> 4:3).
    (one,) = boxes(ids[1])
    grid = page.locator(f"#post-{ids[1]} .post-media").bounding_box()
    assert abs(one["width"] - grid["width"]) < 1
    assert abs(one["width"] / one["height"] - 4 / 3) < 0.02
    # Three: one tall on the start side, two stacked beside it.
    tall, top, bottom = boxes(ids[3])
    assert abs(tall["height"] - (top["height"] + bottom["height"])) < 6
    assert top["x"] == bottom["x"] > tall["x"] and top["y"] < bottom["y"]
    # Four: two by two, the same size each.
    four = boxes(ids[4])
    assert {round(b["x"]) for b in four}.__len__() == 2 and {round(b["y"]) for b in four}.__len__() == 2
    assert max(b["width"] for b in four) - min(b["width"] for b in four) < 1

    # Images the job has not made yet, could not make, or that moderators hid: a notice in their cell.
    card = page.locator(f"#post-{states}")
    expect(card.locator(".post-media-pending")).to_contain_text("This image is being processed")
    expect(card.locator(".post-media-failed")).to_contain_text("This image could not be processed.")
    expect(card.locator(".post-media-hidden")).to_contain_text("Image hidden by the moderators")
    expect(card.locator(".post-media img")).to_have_count(0)
    keep_shot(page, tmp_path, "media-layouts.png")
    assert watch.errors == []


def test_the_blurhash_stands_in_until_the_image_arrives(page, live_app):
    seed_user(live_app, "hana")
    post_id = publish_with_images(live_app, "hana", "slow", 1)
    (row,) = media_rows(live_app)
    held = []
    page.route(f"**/media/{row.thumbnail_key}", lambda route: held.append(route))  # held back
    watch = Watch(page)
    page.goto(f"/post/{post_id}")

    item = page.locator(".post-media-item")
    canvas = item.locator("canvas.post-media-blurhash")
    expect(canvas).to_have_count(1)
    expect(canvas).to_have_attribute("aria-hidden", "true")
    # The decoded BlurHash's colours average close to the colour the server measured on the image.
    mean = canvas.evaluate("""c => {
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, sum = [0, 0, 0];
        for (let i = 0; i < data.length; i += 4) { for (let k = 0; k < 3; k++) { sum[k] += data[i + k]; } }
        return sum.map(s => s / (data.length / 4));
    }""")
    expected = [int(row.colour[i:i + 2], 16) for i in (1, 3, 5)]
    assert all(abs(got - want) < 24 for got, want in zip(mean, expected, strict=True)), (mean, row.colour)
    red, green, blue = expected
    expect(item).to_have_css("background-color", f"rgb({red}, {green}, {blue})")

    assert held  # once the image comes, the stand-in goes
    held[0].continue_()
    expect(canvas).to_have_count(0)
    assert watch.errors == []
