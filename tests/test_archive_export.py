"""The whole-account archive (export kind "archive"): a zip of the profile, posts and their images,
reactions, people, messages and Mastodon's CSVs, made by the export job; its download, mail,
retention and batching."""

from __future__ import annotations

import io
import json
import os
import re
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.media_storage import storage
from microblog.models import TASK_DONE, TASK_FAILED, Media, OutboxMessage, Task
from microblog.services import (
    archive,
    archive_csv,
    exports,
    media,
    mutes,
    posts,
    profile_media,
    reactions,
    tasks,
)
from microblog.timeutil import utcnow
from tests import media_samples
from tests.factories import make_block, make_follow, make_message, make_post, make_user
from tests.statements import counting

SITE = "http://microblog.test"  # TestConfig.SITE_URL
TASK_URL = re.compile(r"^/tasks/([0-9a-f-]{36})$")
FILES = {"README.txt", "profile.json", "posts.json", "likes.json", "bookmarks.json", "reposts.json",
         "followers.json", "following.json", "blocks.json", "mutes.json", "messages.json",
         "following_accounts.csv", "blocked_accounts.csv", "muted_accounts.csv", "bookmarks.csv"}


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(EXPORTS_DIR=str(tmp_path / "exports"))


def start(client) -> str:
    response = client.post("/export/archive")
    assert response.status_code == 302
    match = TASK_URL.match(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def archive_path(app, task_id: str) -> Path:
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert task.status == TASK_DONE, task.error
        return Path(app.config["EXPORTS_DIR"]) / task.result


def open_zip(app, task_id: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(archive_path(app, task_id))


def listing(zf: zipfile.ZipFile, name: str) -> list:
    data = json.loads(zf.read(f"{name}.json"))
    assert data["username"] == "alice"
    return data[name]


def seed(app) -> dict:
    """alice: two posts (one with two images and tags, one a reply), a profile picture and header;
    she follows bob, carol follows her, she blocked dave and muted erin; she liked, bookmarked and
    reposted bob's post; she and bob wrote to each other, and bob wrote to carol."""
    with app.app_context():
        alice, bob, carol, dave, erin = (make_user(name) for name in ("alice", "bob", "carol", "dave",
                                                                      "erin"))
        alice.about_me = "I write, therefore I am"
        ids: dict = {"avatar": profile_media.set_picture(alice, "avatar", media_samples.jpeg_bytes(300, 300)),
                     "header": profile_media.set_picture(alice, "header", media_samples.png_bytes(900, 300))}
        uploads = [media.check_upload(media_samples.jpeg_bytes(40 + i, 30, (i * 90, 60, 20)), alt)
                   for i, alt in enumerate(("a red square", None))]
        ids["with_images"] = posts.publish_post(alice, "two pictures #Sunset #sea", uploads=uploads).id
        ids["reply"] = posts.publish_post(alice, "and a reply", in_reply_to=ids["with_images"],
                                          visibility="followers", summary="spoilers").id
        ids["bobs_post"] = make_post(bob, "bob's own post").id
        make_follow(alice, bob)
        make_follow(carol, alice)
        make_block(alice, dave)
        mutes.mute(alice, erin)
        reactions.like(alice, ids["bobs_post"])
        reactions.bookmark(alice, ids["bobs_post"])
        reactions.repost(alice, ids["bobs_post"])
        ids["sent"] = make_message(alice, bob, "hello bob").id
        ids["received"] = make_message(bob, alice, "hi alice, \"quoted\", ünïcödé").id
        make_message(bob, carol, "a secret between bob and carol")
        make_message(carol, bob, "carol's answer")
        db.session.commit()
        ids["media"] = [(m.id, m.file_key, storage().get(m.file_key)) for m in db.session.scalars(
            sa.select(Media).where(Media.post_id == ids["with_images"]).order_by(Media.position))]
        ids["avatar_bytes"] = storage().get(ids["avatar"])
        ids["header_bytes"] = storage().get(ids["header"])
        return ids


# -- contents ------------------------------------------------------------------------------------------
def test_the_archive_holds_the_whole_account(app, client, auth):
    ids = seed(app)
    auth.login()
    zf = open_zip(app, start(client))
    assert zf.testzip() is None
    names = set(zf.namelist())
    media_files = {name for name in names if name.startswith("media/")}
    assert names - media_files == FILES
    assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in zf.infolist()
               if not info.filename.startswith("media/"))

    profile = json.loads(zf.read("profile.json"))
    assert profile["username"] == "alice" and profile["account"] == "alice@microblog.test"
    assert profile["about_me"] == "I write, therefore I am" and profile["theme"] == "auto"
    assert profile["counts"] == {"posts": 2, "followers": 1, "following": 1}
    assert profile["avatar"] == "media/avatar" + Path(ids["avatar"]).suffix
    assert zf.read(profile["avatar"]) == ids["avatar_bytes"]
    assert zf.read(profile["header"]) == ids["header_bytes"]

    first, reply = listing(zf, "posts")  # alice's only, oldest first
    assert first["id"] == ids["with_images"] and first["body"] == "two pictures #Sunset #sea"
    assert sorted(first["tags"]) == ["sea", "sunset"]
    assert first["url"] == f"{SITE}/post/{ids['with_images']}"
    assert [item["description"] for item in first["media"]] == ["a red square", None]
    for item, (media_id, key, data) in zip(first["media"], ids["media"], strict=True):
        assert item["file"] == f"media/{media_id}{Path(key).suffix}"
        assert zf.read(item["file"]) == data  # the very bytes of the stored file
        assert zf.getinfo(item["file"]).compress_type == zipfile.ZIP_STORED
    assert media_files == {profile["avatar"], profile["header"], *(item["file"] for item in first["media"])}
    assert (reply["in_reply_to_id"], reply["visibility"], reply["content_warning"], reply["media"]) == (
        ids["with_images"], "followers", "spoilers", [])

    post_url = f"{SITE}/post/{ids['bobs_post']}"
    for name in ("likes", "bookmarks", "reposts"):
        (item,) = listing(zf, name)
        assert (item["post_id"], item["url"]) == (ids["bobs_post"], post_url)
    people = {name: [(p["username"], p["account"]) for p in listing(zf, name)]
              for name in ("followers", "following", "blocks", "mutes")}
    assert people == {"followers": [("carol", "carol@microblog.test")],
                      "following": [("bob", "bob@microblog.test")],
                      "blocks": [("dave", "dave@microblog.test")], "mutes": [("erin", "erin@microblog.test")]}

    messages = listing(zf, "messages")
    assert [(m["id"], m["direction"], m["from"], m["to"], m["body"]) for m in messages] == [
        (ids["sent"], "sent", "alice", "bob", "hello bob"),
        (ids["received"], "received", "bob", "alice", "hi alice, \"quoted\", ünïcödé")]
    # Nobody else's data: bob and carol's conversation, bob's post.
    raw = b"".join(zf.read(name) for name in names)
    assert b"a secret between bob and carol" not in raw and b"carol's answer" not in raw
    assert b"bob's own post" not in raw

    readme = zf.read("README.txt").decode("utf-8")
    assert "alice" in readme and all(name in readme for name in FILES - {"README.txt"})


def test_the_mastodon_csvs_are_byte_for_byte_mastodons(app, client, auth):
    ids = seed(app)
    auth.login()
    zf = open_zip(app, start(client))
    assert zf.read("following_accounts.csv") == (
        b"Account address,Show boosts,Notify on new posts,Languages\nbob@microblog.test,true,false,\n")
    assert zf.read("muted_accounts.csv") == b"Account address,Hide notifications\nerin@microblog.test,true\n"
    assert zf.read("blocked_accounts.csv") == b"dave@microblog.test\n"  # no header, as Mastodon's
    assert zf.read("bookmarks.csv") == f"{SITE}/post/{ids['bobs_post']}\n".encode()  # no header


def test_empty_lists_keep_the_headers_mastodon_writes(app, client, auth):
    with app.app_context():
        make_user("alice")
    auth.login()
    zf = open_zip(app, start(client))
    assert zf.read("following_accounts.csv") == b"Account address,Show boosts,Notify on new posts,Languages\n"
    assert zf.read("muted_accounts.csv") == b"Account address,Hide notifications\n"
    assert zf.read("blocked_accounts.csv") == b"" and zf.read("bookmarks.csv") == b""
    assert listing(zf, "posts") == [] and listing(zf, "messages") == []
    assert json.loads(zf.read("profile.json"))["avatar"] is None
    assert not [name for name in zf.namelist() if name.startswith("media/")]


def test_csv_rows_quote_as_ruby_does():
    out = io.StringIO(newline="")
    writer = archive_csv.MastodonCsvWriter(out, archive_csv.FOLLOWING_ACCOUNTS)
    writer.write([archive_csv.following_row("a@x.example", languages=("en", "fr")),
                  archive_csv.following_row("b@x.example", show_boosts=False, notify=True)])
    # Ruby: CSV.generate { |csv| csv << ["a@x.example", true, false, "en, fr"] } and so on.
    assert out.getvalue() == ("Account address,Show boosts,Notify on new posts,Languages\n"
                              'a@x.example,true,false,"en, fr"\nb@x.example,false,true,\n')
    assert archive_csv.HEADERS[archive_csv.BLOCKED_ACCOUNTS] is None
    assert archive_csv.HEADERS[archive_csv.BOOKMARKS] is None


# -- the job ---------------------------------------------------------------------------------------
def test_every_list_is_read_in_bounded_batches(make_app, tmp_path, monkeypatch):
    app = make_app(EXPORTS_DIR=str(tmp_path / "exports"), EXPORT_BATCH_SIZE=2)
    with app.app_context():
        alice = make_user("alice")
        same_time = utcnow() - timedelta(days=1)
        for i in range(5):  # one timestamp: the keyset must neither skip nor repeat across batches
            make_post(alice, f"post {i}", timestamp=same_time)
        others = [make_user(f"friend{i}") for i in range(5)]
        for other in others:
            make_follow(alice, other)
            make_message(other, alice, f"from {other.username}")
            reactions.like(alice, make_post(other).id)
    seen: list[int] = []
    report = tasks.report_progress

    def spy(task, written, total):
        report(task, written, total)
        seen.append(task.progress)

    monkeypatch.setattr(tasks, "report_progress", spy)
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    with counting(app) as statements:
        task_id = start(client)
    zf = open_zip(app, task_id)
    assert [p["body"] for p in listing(zf, "posts")] == [f"post {i}" for i in range(5)]
    assert len({f["username"] for f in listing(zf, "following")}) == 5
    assert len(listing(zf, "likes")) == len(listing(zf, "messages")) == 5
    assert zf.read("following_accounts.csv").count(b"\n") == 6
    # Each list is read two rows at a time: 5 posts take 3 queries, each with a LIMIT.
    post_reads = [s for s in statements if s.startswith("SELECT post.timestamp, post.id")]
    assert len(post_reads) == 3 and all("LIMIT" in s for s in post_reads)
    like_reads = [s for s in statements if re.match(r'SELECT "?like"?\.id', s)]
    assert len(like_reads) == 3
    assert seen == sorted(seen) and len(seen) > 10 and seen[-1] == 99


def test_a_lost_image_is_left_out_not_fatal(app, client, auth):
    ids = seed(app)
    lost_id, lost_key, _data = ids["media"][0]
    with app.app_context():
        storage().delete(lost_key)
    auth.login()
    zf = open_zip(app, start(client))
    assert f"media/{lost_id}{Path(lost_key).suffix}" not in zf.namelist()
    assert f"media/{ids['media'][1][0]}{Path(ids['media'][1][1]).suffix}" in zf.namelist()


def test_a_failing_archive_fails_its_task_leaves_no_file_and_can_be_retried(app, client, auth, monkeypatch):
    seed(app)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(archive, "_write_csv", broken)
    auth.login()
    failed = start(client)
    with app.app_context():
        task = db.session.get(Task, failed)
        assert task.status == TASK_FAILED and "disk on fire" in task.error
    assert not list(Path(app.config["EXPORTS_DIR"]).iterdir())  # not even the .partial
    monkeypatch.undo()
    retried = start(client)
    assert retried != failed and open_zip(app, retried).testzip() is None


# -- pages, download, mail, retention -------------------------------------------------------------
def test_the_profile_offers_the_archive_first(app, client, auth):
    with app.app_context():
        make_user("alice")
    auth.login()
    page = client.get("/user/alice").get_data(as_text=True)
    assert page.index("Everything (zip archive)") < page.index("Export my posts (CSV)")
    assert 'action="/export/archive"' in page


def test_the_owner_downloads_the_zip_and_gets_the_mail(app, client, auth):
    seed(app)
    auth.login()
    task_id = start(client)
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Export of your account (zip archive)" in page
    assert client.get(f"/tasks/{task_id}.json").json["format"] == "archive"
    response = client.get(f"/export/{task_id}/download")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert re.search(r'filename=microblog-alice-archive-\d{8}\.zip', response.headers["Content-Disposition"])
    assert response.data == archive_path(app, task_id).read_bytes()
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage).where(
            OutboxMessage.recipient == "alice@example.com", OutboxMessage.attachment_name.is_not(None)))
        assert re.fullmatch(r"microblog-alice-archive-\d{8}\.zip", message.attachment_name)
        assert message.attachment_type == "application/zip"
        assert "2 posts (ZIP)" in message.text_body
        assert f"{SITE}/export/{task_id}/download" in message.text_body


def test_nobody_else_sees_or_downloads_the_archive(app, client, auth):
    seed(app)
    auth.login()
    task_id = start(client)
    auth.logout()
    auth.login("bob")
    for url in (f"/tasks/{task_id}", f"/tasks/{task_id}.json", f"/export/{task_id}/download"):
        assert client.get(url).status_code == 404
    auth.logout()
    assert client.get(f"/export/{task_id}/download").status_code == 302  # to the sign-in page


def test_archives_expire_and_are_swept(app, client, auth):
    with app.app_context():
        make_user("alice")
    auth.login()
    task_id = start(client)
    path = archive_path(app, task_id)
    long_ago = time.time() - (app.config["EXPORT_RETENTION_HOURS"] + 1) * 3600
    os.utime(path, (long_ago, long_ago))
    with app.app_context():
        task = db.session.get(Task, task_id)
        task.finished_at = utcnow() - timedelta(hours=app.config["EXPORT_RETENTION_HOURS"] + 1)
        db.session.commit()
    assert client.get(f"/export/{task_id}/download").status_code == 404
    with app.app_context():
        assert exports.purge_expired_exports() == 1
    assert not path.exists()


def test_the_readme_is_in_the_owners_language(app, client, auth, monkeypatch):
    with app.app_context():
        make_user("alice", locale="de")
    locales: list[str] = []
    render = archive.render_template

    def spy(*args, **kwargs):
        from flask_babel import get_locale

        locales.append(str(get_locale()))
        return render(*args, **kwargs)

    monkeypatch.setattr(archive, "render_template", spy)
    auth.login()
    start(client)
    assert locales == ["de"]


def test_the_account_address_uses_the_sites_host(make_app, tmp_path):
    app = make_app(EXPORTS_DIR=str(tmp_path / "exports"), SITE_URL="https://Social.Example.org/")
    with app.app_context():
        from microblog.external_urls import account_address

        assert account_address("Alice") == "Alice@social.example.org"


def test_images_are_read_from_s3_storage(make_app, tmp_path, s3_storage_config):
    app = make_app(EXPORTS_DIR=str(tmp_path / "exports"), **s3_storage_config)
    with app.app_context():
        alice = make_user("alice")
        avatar = profile_media.set_picture(alice, "avatar", media_samples.jpeg_bytes(200, 200))
        upload = media.check_upload(media_samples.png_bytes(60, 40), "in the bucket")
        post_id = posts.publish_post(alice, "from S3", uploads=[upload]).id
        item = db.session.scalar(sa.select(Media).where(Media.post_id == post_id))
        stored = {f"media/{item.id}{Path(item.file_key).suffix}": storage().get(item.file_key),
                  f"media/avatar{Path(avatar).suffix}": storage().get(avatar)}
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    zf = open_zip(app, start(client))
    assert {name: zf.read(name) for name in zf.namelist() if name.startswith("media/")} == stored
