"""Images on posts through the real stack: the composer's form, the job that processes them, the files
on disk, the cards, deleting, the orphan sweep and the quota."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from microblog.exceptions import PermissionDenied, ValidationError
from microblog.extensions import db
from microblog.models import FileDeletion, Media, MediaStatus, Post
from microblog.services import media, media_files, posts
from microblog.timeutil import utcnow
from tests import media_samples
from tests.factories import DEFAULT_PASSWORD, find_user, make_user, signed_in_client


@pytest.fixture
def alice(app):
    with app.app_context():
        make_user("alice")
    return signed_in_client(app, "alice")


def media_dir(app) -> Path:
    return Path(app.config["MEDIA_DIR"])


def stored_files(app) -> list[Path]:
    return sorted(path for path in media_dir(app).rglob("*") if path.is_file())


def post_with_images(client, body: str = "look at this", *files: tuple[bytes, str], **extra):
    data: dict = {"post": body, **extra}
    for slot, (content, alt) in enumerate(files):
        data[f"media-{slot}"] = (io.BytesIO(content), f"photo{slot}.jpg")
        data[f"alt-{slot}"] = alt
    return client.post("/", data=data, content_type="multipart/form-data", follow_redirects=True)


def only_post(app) -> Post:
    with app.app_context():
        return db.session.scalars(sa.select(Post)).one()


def test_a_post_with_an_image_is_stored_processed_and_shown(app, alice):
    response = post_with_images(alice, "sunset", (media_samples.jpeg_bytes(3000, 2000), "A red sky"))
    assert response.status_code == 200
    with app.app_context():
        post = db.session.scalars(sa.select(Post)).one()
        assert post.media_count == 1
        item = db.session.scalars(sa.select(Media)).one()
        assert (item.post_id, item.position, item.status) == (post.id, 0, MediaStatus.READY)
        assert item.description == "A red sky"
        assert (item.width, item.height) == (1920, 1280)  # the display size, never the original's
        assert max(item.thumbnail_width, item.thumbnail_height) <= 480
        assert item.original_key is None  # the raw upload is gone once processed
        assert re.fullmatch(r"#[0-9a-f]{6}", item.colour)
        file_key, thumbnail_key = item.file_key, item.thumbnail_key
    # Only the processed files remain, named by their content.
    names = {path.relative_to(media_dir(app)).as_posix() for path in stored_files(app)}
    assert names == {file_key, thumbnail_key}
    # The card shows the thumbnail with its alt text and its size, linking to the display size.
    page = alice.get("/").get_data(as_text=True)
    assert f'src="/media/{thumbnail_key}"' in page
    assert 'alt="A red sky"' in page
    assert f'href="/media/{file_key}"' in page


def test_served_media_is_long_lived_and_never_runs(app, alice):
    post_with_images(alice, "one", (media_samples.jpeg_bytes(), "x"))
    with app.app_context():
        key = db.session.scalars(sa.select(Media.file_key)).one()
    response = alice.get(f"/media/{key}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    cache_control = response.headers["Cache-Control"]
    assert "immutable" in cache_control and "max-age=31536000" in cache_control
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == "inline"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    Image.open(io.BytesIO(response.data)).verify()
    # Raw uploads, other folders and paths out of the folder are never served.
    for path in ("/media/incoming/ab/" + "a" * 64, "/media/m/../../instance/microblog.db",
                 "/media/../config.py", "/media/m/zz/nothing.jpg"):
        assert alice.get(path).status_code == 404


def test_gps_coordinates_never_reach_the_stored_files(app, alice):
    photo = media_samples.jpeg_bytes(800, 600, gps=True)
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(media_samples.GPS_IFD)  # the sample has them
    post_with_images(alice, "where am I", (photo, "a street"))
    for path in stored_files(app):
        with Image.open(path) as stored:
            assert not stored.getexif(), path
        assert b"Exif" not in path.read_bytes()


@pytest.mark.parametrize("content, name", [
    (media_samples.SVG, "drawing.svg"),
    (media_samples.HTML, "page.jpg"),
    (b"%PDF-1.7\n1 0 obj", "paper.png"),
    (b"just text", "photo.gif"),
])
def test_files_that_are_not_images_are_refused_and_nothing_is_saved(app, alice, content, name):
    response = alice.post("/", data={"post": "see attached", "media-0": (io.BytesIO(content), name),
                                     "alt-0": "x"}, content_type="multipart/form-data")
    assert response.status_code == 200  # the form again, with the reason
    assert "not an image we accept" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Media)) == 0
    assert stored_files(app) == []


def test_a_file_over_the_size_limit_is_refused(make_app):
    app = make_app(MEDIA_MAX_BYTES=20_000)
    with app.app_context():
        make_user("alice")
    client = signed_in_client(app, "alice")
    response = post_with_images(client, "big", (media_samples.jpeg_bytes(300, 300, noise=True), "x"))
    assert "too large" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0


def test_the_quota_counts_every_upload_of_an_account(make_app):
    photo = media_samples.jpeg_bytes(400, 300)
    app = make_app(MEDIA_QUOTA_BYTES=len(photo) + 10)
    with app.app_context():
        make_user("alice")
    client = signed_in_client(app, "alice")
    post_with_images(client, "first", (photo, "one"))
    response = post_with_images(client, "second", (media_samples.jpeg_bytes(400, 300, (0, 0, 255)), "two"))
    assert "storage for images is full" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1


def test_four_images_in_order_and_a_fifth_is_refused(app):
    with app.app_context():
        alice = make_user("alice")
        uploads = [media.check_upload(media_samples.jpeg_bytes(20 + i, 20, (i * 50, 0, 0)), f"image {i}")
                   for i in range(5)]
        with pytest.raises(ValidationError, match="at most 4 images"):
            posts.publish_post(alice, "too many", uploads=uploads)
        post = posts.publish_post(alice, "four", uploads=uploads[:4])
        shown = media.media_of_posts([post.id])[post.id]
        assert [item.description for item in shown] == [f"image {i}" for i in range(4)]
        assert [item.position for item in shown] == [0, 1, 2, 3]


def test_an_animated_gif_stays_animated(app):
    with app.app_context():
        alice = make_user("alice")
        animation = media.check_upload(media_samples.gif_bytes(3), "blink")
        post = posts.publish_post(alice, "moving", uploads=[animation])
        db.session.expire_all()  # the job changed the row in its own session
        item = media.media_of_posts([post.id])[post.id][0]
        assert item.animated and item.status == MediaStatus.READY
        with Image.open(media_dir(app) / item.file_key) as shown:
            assert getattr(shown, "n_frames", 1) == 3


def test_deleting_a_post_deletes_its_files_but_not_a_file_another_post_shares(app):
    photo = media_samples.jpeg_bytes()
    with app.app_context():
        alice = make_user("alice")
        first = posts.publish_post(alice, "once", uploads=[media.check_upload(photo, "a")])
        second = posts.publish_post(alice, "twice", uploads=[media.check_upload(photo, "b")])
        drawing = media.check_upload(media_samples.png_bytes(), "c")
        other = posts.publish_post(alice, "other", uploads=[drawing])
        shared = {m.file_key for m in media.media_of_posts([first.id])[first.id]}
        posts.delete_post(alice, first.id)
        # The second post shows the same bytes: its files stay.
        assert all((media_dir(app) / key).is_file() for key in shared)
        posts.delete_post(alice, second.id)
        assert not any((media_dir(app) / key).exists() for key in shared)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FileDeletion)) == 0
        kept = media.media_of_posts([other.id])[other.id][0]
        assert (media_dir(app) / kept.file_key).is_file()


def test_uploads_never_attached_are_swept_after_a_day(app):
    with app.app_context():
        alice = make_user("alice")
        fresh = media.upload_media(alice, media_samples.jpeg_bytes(), "fresh")
        old = media.upload_media(alice, media_samples.png_bytes(), "old")
        old.created_at = utcnow() - timedelta(hours=25)
        db.session.commit()
        old_keys, fresh_id = old.keys(), fresh.id
        assert media_files.sweep_orphans() == 1
        media_files.delete_files()
        assert [m.id for m in db.session.scalars(sa.select(Media))] == [fresh_id]
        assert not any((media_dir(app) / key).exists() for key in old_keys)


def test_uploads_made_first_are_attached_by_id_and_only_by_their_owner(app):
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        upload = media.upload_media(alice, media_samples.jpeg_bytes(), "mine")
        with pytest.raises(ValidationError):
            posts.publish_post(bob, "stolen", media_ids=[upload.id])
        post = posts.publish_post(alice, "mine", media_ids=[upload.id])
        assert post.media_count == 1
        with pytest.raises(ValidationError):
            posts.publish_post(alice, "again", media_ids=[upload.id])  # attached already
        with pytest.raises(PermissionDenied):
            media.describe_media(alice, upload.id, "too late")


def test_the_storage_being_down_posts_nothing_and_says_so(make_app, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    app = make_app(MEDIA_DIR=str(blocked))
    with app.app_context():
        make_user("alice")
    client = signed_in_client(app, "alice")
    response = post_with_images(client, "lost?", (media_samples.jpeg_bytes(), "x"))
    assert "cannot be saved right now" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Media)) == 0


def test_a_profile_picture_replaces_the_identicon_and_its_old_file_goes(app):
    from microblog.avatars import avatar_url
    from microblog.services import profile_media

    with app.app_context(), app.test_request_context():
        alice = make_user("alice")
        first = profile_media.set_picture(alice, "avatar", media_samples.jpeg_bytes(900, 600))
        assert avatar_url(find_user("alice")) == f"/media/{first}"
        with Image.open(media_dir(app) / first) as stored:
            assert stored.size == (400, 400)
        second = profile_media.set_picture(alice, "avatar", media_samples.png_bytes(500, 500))
        assert not (media_dir(app) / first).exists() and (media_dir(app) / second).is_file()
        profile_media.remove_picture(alice, "avatar")
        assert avatar_url(find_user("alice")).startswith("/avatar/")
        assert stored_files(app) == []


def test_the_media_commands_set_up_and_sweep(app, runner):
    result = runner.invoke(args=["media", "setup"])
    assert result.exit_code == 0 and media_dir(app).is_dir()
    with app.app_context():
        alice = make_user("alice")
        old = media.upload_media(alice, media_samples.jpeg_bytes(), "forgotten")
        old.created_at = utcnow() - timedelta(days=2)
        db.session.commit()
    result = runner.invoke(args=["media", "sweep"])
    assert result.exit_code == 0, result.output
    assert "swept 1 orphaned uploads" in result.output
    assert stored_files(app) == []


def test_an_upload_deleted_while_its_job_runs_leaves_no_files(app, monkeypatch):
    from microblog import images as image_module

    with app.app_context():
        alice = make_user("alice")
        upload = media.store_uploads(alice, [media.check_upload(media_samples.jpeg_bytes(), "gone")])[0]
        db.session.commit()
        media_id = upload.id
        real = image_module.process_attachment

        def delete_meanwhile(*args, **kwargs):
            with db.engine.begin() as other:  # another request deletes the upload during the resize
                other.execute(sa.delete(Media).where(Media.id == media_id))
            return real(*args, **kwargs)

        monkeypatch.setattr(image_module, "process_attachment", delete_meanwhile)
        media.process_media(media_id)
        media_files.delete_files()
    names = [path.name for path in stored_files(app)]
    assert all(not name.endswith((".jpg", ".png", ".webp")) for name in names), names


def test_images_larger_than_a_form_are_accepted_with_csrf_on(make_app):
    # The CSRF check reads the form in a before_request hook: the upload allowance must already apply.
    from tests.test_csrf import csrf_token

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice")
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": DEFAULT_PASSWORD,
                                     "csrf_token": csrf_token(client, "/auth/login")})
    photo = media_samples.jpeg_bytes(1400, 1000, noise=True)
    assert len(photo) > app.config["MAX_CONTENT_LENGTH"]
    data = {"csrf_token": csrf_token(client, "/"), "post": "big one", "media-0": (io.BytesIO(photo), "a.jpg"),
            "alt-0": "noise"}
    response = client.post("/", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.status_code
    with app.app_context():
        assert db.session.scalar(sa.select(Post.media_count)) == 1
