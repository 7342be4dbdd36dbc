"""Imports of follows, blocks, mutes and bookmarks from Mastodon's CSV files: reading the files, the
form's errors, the job (merge and overwrite, rules, counters, skipped lines), resuming, and the email."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from microblog.extensions import db, limiter
from microblog.models import (
    TASK_DONE,
    TASK_QUEUED,
    TASK_RUNNING,
    AuditLogEntry,
    Block,
    Bookmark,
    ImportRow,
    Mute,
    OutboxMessage,
    Task,
    User,
    followers,
)
from microblog.services import counters, import_files, imports
from microblog.services.import_files import BLOCKS, BOOKMARKS, FOLLOWING, MUTES
from microblog.timeutil import utcnow
from tests.factories import make_block, make_follow, make_post, make_user, signed_in_client, token_for

TASK_URL = re.compile(r"^/settings/import/([0-9a-f-]{36})$")
FOLLOWING_HEADER = "Account address,Show boosts,Notify on new posts,Languages\n"


@pytest.fixture
def people(app) -> dict[str, int]:
    with app.app_context():
        return {name: make_user(name).id for name in ("alice", "bob", "carol", "dave")}


def upload(client, content: bytes | str, kind: str = FOLLOWING, mode: str = "merge",
           filename: str = "file.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post("/settings/import", data={"kind": kind, "mode": mode,
                                                 "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def start(client, content, kind: str = FOLLOWING, mode: str = "merge", filename: str = "file.csv") -> str:
    response = upload(client, content, kind, mode, filename)
    assert response.status_code == 302, response.get_data(as_text=True)
    match = TASK_URL.match(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def following_of(app, username: str) -> set[str]:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        return set(db.session.scalars(
            sa.select(User.username).join(followers, followers.c.followed_id == User.id)
            .where(followers.c.follower_id == user.id)))


def rows_of(app, task_id: str) -> list[tuple[int, str, str, str | None]]:
    with app.app_context():
        return [tuple(row) for row in db.session.execute(
            sa.select(ImportRow.row_number, ImportRow.value, ImportRow.state, ImportRow.reason)
            .where(ImportRow.task_id == task_id).order_by(ImportRow.row_number))]


def ids(statement: sa.Select) -> list[int]:
    return list(db.session.scalars(statement))


# -- reading files ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, content, expected", [
    (FOLLOWING, FOLLOWING_HEADER + "bob@microblog.test,true,false,\ncarol,true,false,en\n",
     ["bob@microblog.test", "carol"]),
    (FOLLOWING, "bob@microblog.test\n@carol@microblog.test\n",
     ["bob@microblog.test", "carol@microblog.test"]),
    (BLOCKS, "bob@microblog.test\r\ncarol@example.social\r\n",
     ["bob@microblog.test", "carol@example.social"]),
    (MUTES, "Account address,Hide notifications\r\nbob@microblog.test,true\r\n", ["bob@microblog.test"]),
    (MUTES, "bob\n\n\ncarol\n", ["bob", "carol"]),
    (BOOKMARKS, "http://microblog.test/post/1\nhttps://mastodon.social/@x/1\n",
     ["http://microblog.test/post/1", "https://mastodon.social/@x/1"]),
    (BOOKMARKS, "#uri\nhttp://microblog.test/post/1\n", ["http://microblog.test/post/1"]),
    # A byte order mark (Excel), quoted cells, and junk lines that the job reports.
    (FOLLOWING, "\ufeff" + FOLLOWING_HEADER + '"bob",true,false,"en,fr"\n, ,\nnot an address!,x\n',
     ["bob", "not an address!"]),
])
def test_mastodon_files_are_read(app, kind, content, expected):
    with app.test_request_context():
        parsed = import_files.parse_file(kind, content.encode(), f"{kind}.csv", 100)
    assert parsed.values == expected


@pytest.mark.parametrize("kind, content, filename, message", [
    (FOLLOWING, b"", "f.csv", "The file is empty."),
    (FOLLOWING, b"\n\r\n  \n", "f.csv", "The file is empty."),
    (FOLLOWING, b"\xef\xbb\xbf", "f.csv", "The file is empty."),
    (FOLLOWING, FOLLOWING_HEADER.encode(), "f.csv", "The file has a header but no follows."),
    (FOLLOWING, "b\u00f6b\n".encode("latin-1"), "f.csv", "The file is not UTF-8 text"),
    (FOLLOWING, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "f.csv", "The file is not UTF-8 text"),
    (FOLLOWING, b"bob\x00\n", "f.csv", "This is not a CSV file."),
    (FOLLOWING, b'"bob\n', "f.csv", "This is not a valid CSV file."),
    (FOLLOWING, b"Account address,Hide notifications\nbob,true\n", "f.csv",
     "This file holds muted accounts, not follows"),
    (MUTES, FOLLOWING_HEADER.encode() + b"bob,true,false,\n", "f.csv", "This file holds follows, not muted"),
    (FOLLOWING, b"bob\n", "blocked_accounts.csv", "This file holds blocked accounts, not follows"),
    (BLOCKS, b"http://microblog.test/post/1\n", "x.csv", "This file holds bookmarks, not blocked accounts"),
    (BOOKMARKS, b"bob@microblog.test\n", "x.csv", "This file does not hold bookmarks."),
    (BOOKMARKS, b"Account address\nbob\n", "x.csv", "This file does not hold bookmarks."),
    (FOLLOWING, b"a\nb\nc\nd\n", "f.csv", "more than 3 lines"),
])
def test_bad_files_are_refused_on_the_form(client, auth, people, kind, content, filename, message, app):
    app.config["IMPORT_MAX_ROWS"] = 3
    auth.login()
    response = upload(client, content, kind, filename=filename)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page.replace("&#39;", "'")
    assert 'class="invalid-feedback' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 0


def test_a_file_too_large_and_a_missing_file_are_refused(client, auth, people, app):
    app.config["IMPORT_MAX_BYTES"] = 100
    auth.login()
    assert "larger than" in upload(client, "bob\n" * 30).get_data(as_text=True)
    response = client.post("/settings/import", data={"kind": FOLLOWING, "mode": "merge"},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and "The file is empty." in response.get_data(as_text=True)
    response = upload(client, "bob\n", kind="lists")
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)


def test_the_page_warns_about_overwrite_and_is_linked(client, auth, people):
    auth.login()
    page = client.get("/settings/import").get_data(as_text=True)
    assert 'id="overwrite-warning"' in page and "Overwrite removes things." in page
    assert 'href="/settings/import"' in client.get("/edit_profile").get_data(as_text=True)
    assert 'href="/settings/import"' in client.get("/user/alice").get_data(as_text=True)


def test_signed_out_people_are_sent_to_sign_in(client):
    assert client.get("/settings/import").status_code == 302


# -- the job ----------------------------------------------------------------------------------------
def test_a_following_file_is_imported_with_skipped_lines_reported(app, client, auth, people):
    with app.app_context():
        make_block(db.session.get(User, people["dave"]), db.session.get(User, people["alice"]))
    auth.login()
    content = (FOLLOWING_HEADER + "bob@microblog.test,true,false,\n@carol,true,false,\n"
               "alice@microblog.test,true,false,\nzed@mastodon.social,true,false,\nnobody,true,false,\n"
               "dave,true,false,\nnot/valid,,,\nBOB,true,false,\n")
    task_id = start(client, content)
    assert following_of(app, "alice") == {"bob", "carol"}
    assert rows_of(app, task_id) == [
        (1, "bob@microblog.test", "done", None), (2, "carol", "done", None),
        (3, "alice@microblog.test", "skipped", "self"), (4, "zed@mastodon.social", "skipped", "remote"),
        (5, "nobody", "skipped", "not_found"), (6, "dave", "skipped", "blocked_you"),
        (7, "not/valid", "skipped", "invalid"), (8, "BOB", "done", None)]
    with app.app_context():
        alice, bob = db.session.get(User, people["alice"]), db.session.get(User, people["bob"])
        assert (alice.following_count, bob.follower_count) == (2, 1)
        counters.recount()
        db.session.refresh(alice)
        assert alice.following_count == 2
        task = db.session.get(Task, task_id)
        assert task.status == TASK_DONE and task.progress == 100
        entry = db.session.scalar(sa.select(AuditLogEntry))
        assert (entry.action, entry.actor_id) == ("account.import", alice.id)
        assert entry.details == "following, merge, 8 lines"
    status = client.get(f"/settings/import/{task_id}.json").json
    assert status["status"] == "done" and status["kind"] == FOLLOWING and status["mode"] == "merge"
    assert status["counts"] == {"total": 8, "imported": 3, "skipped": 5, "pending": 0}
    assert status["message"] == "Done: 3 imported, 5 skipped."
    page = client.get(f"/settings/import/{task_id}").get_data(as_text=True)
    assert "3 imported" in page and "5 skipped" in page
    assert "zed@mastodon.social" in page and "Its server could not be reached, or does not know it." in page
    assert "This account has blocked you." in page and "That is your own account." in page


def test_the_owner_gets_a_summary_email(app, client, auth, people):
    auth.login()
    task_id = start(client, "bob\nzed@elsewhere.example\n")
    with app.app_context():
        message = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.recipient == "alice@example.com"))
        assert message.subject == "Your Microblog import is done"
        assert "1 imported, 1 skipped" in message.text_body
        link = f"http://microblog.test/settings/import/{task_id}"
        assert link in message.text_body and link in message.html_body


def test_blocks_and_mutes_are_imported_through_their_rules(app, client, auth, people):
    with app.app_context():
        alice, bob = db.session.get(User, people["alice"]), db.session.get(User, people["bob"])
        make_follow(alice, bob)
        make_follow(bob, alice)
    auth.login()
    start(client, "bob@microblog.test\nalice\n", kind=BLOCKS, filename="blocked_accounts.csv")
    start(client, "Account address,Hide notifications\ncarol,true\n", kind=MUTES)
    with app.app_context():
        assert ids(sa.select(Block.blocked_id).where(Block.blocker_id == people["alice"])) == [people["bob"]]
        assert ids(sa.select(Mute.muted_id).where(Mute.muter_id == people["alice"])) == [people["carol"]]
        alice, bob = db.session.get(User, people["alice"]), db.session.get(User, people["bob"])
        # The block ended the follows both ways, with their counts.
        assert (alice.following_count, alice.follower_count, bob.following_count) == (0, 0, 0)


def test_bookmarks_resolve_this_sites_post_links(app, client, auth, people):
    with app.app_context():
        bob = db.session.get(User, people["bob"])
        post, hidden = make_post(bob, "keep me"), make_post(bob, "followers only")
        hidden.visibility = "followers"
        db.session.commit()
        post_id, hidden_id = post.id, hidden.id
    auth.login()
    task_id = start(client, f"http://microblog.test/post/{post_id}\nhttps://mastodon.social/@x/1\n"
                            f"http://microblog.test/post/{hidden_id}\nhttp://microblog.test/user/bob\n"
                            "http://microblog.test/post/999999\n", kind=BOOKMARKS)
    assert [row[2:] for row in rows_of(app, task_id)] == [
        ("done", None), ("skipped", "remote"), ("skipped", "post_not_found"), ("skipped", "not_this_site"),
        ("skipped", "post_not_found")]
    with app.app_context():
        assert ids(sa.select(Bookmark.post_id).where(Bookmark.user_id == people["alice"])) == [post_id]


def test_merge_keeps_and_overwrite_removes(app, client, auth, people):
    with app.app_context():
        alice = db.session.get(User, people["alice"])
        for name in ("bob", "carol"):
            make_follow(alice, db.session.get(User, people[name]))
    auth.login()
    start(client, "dave\n")
    assert following_of(app, "alice") == {"bob", "carol", "dave"}
    start(client, "carol\nzed@elsewhere.example\n", mode="overwrite")
    assert following_of(app, "alice") == {"carol"}
    with app.app_context():
        assert db.session.get(User, people["alice"]).following_count == 1
        assert db.session.get(User, people["bob"]).follower_count == 0


def test_overwrite_of_blocks_lifts_the_others(app, client, auth, people):
    with app.app_context():
        alice = db.session.get(User, people["alice"])
        make_block(alice, db.session.get(User, people["bob"]))
    auth.login()
    start(client, "carol\n", kind=BLOCKS, mode="overwrite")
    with app.app_context():
        blocked = ids(sa.select(Block.blocked_id).where(Block.blocker_id == people["alice"]))
        assert blocked == [people["carol"]]


def test_a_second_run_changes_nothing(app, client, auth, people):
    auth.login()
    task_id = start(client, "bob\ncarol\n")
    with app.app_context():
        # The job runs again (a duplicated queue entry, a retry): claim() lets only the first one in.
        assert imports.run_import(task_id) == "skipped"
        # And a job that finds rows already applied (a worker died after a batch) applies only the rest.
        task = db.session.get(Task, task_id)
        task.status = TASK_QUEUED
        db.session.execute(sa.update(ImportRow).where(ImportRow.task_id == task_id, ImportRow.row_number == 2)
                           .values(state="pending"))
        db.session.commit()
        assert imports.run_import(task_id) == TASK_DONE
        alice = db.session.get(User, people["alice"])
        assert alice.following_count == 2
        assert db.session.get(User, people["carol"]).follower_count == 1
    assert following_of(app, "alice") == {"bob", "carol"}
    # Importing the same file again: everything is already there.
    start(client, "bob\ncarol\n")
    with app.app_context():
        assert db.session.get(User, people["alice"]).following_count == 2


def test_a_stalled_import_is_resumed_by_the_sweep(app, client, auth, people):
    auth.login()
    task_id = start(client, "bob\ncarol\ndave\n")
    stall(app, task_id, 1)
    app.config["TASK_HEARTBEAT_TIMEOUT"] = 0
    status = client.get(f"/settings/import/{task_id}.json").json
    assert status["status"] == "running" and "resume" in status["message"]
    with app.app_context():
        assert imports.resume_stalled_imports() == 1  # the sync engine runs the new job at once
        assert db.session.get(Task, task_id).status == TASK_DONE
        assert db.session.get(User, people["alice"]).following_count == 3
        assert imports.resume_stalled_imports() == 0
    assert following_of(app, "alice") == {"bob", "carol", "dave"}


def stall(app, task_id: str, after_row: int) -> None:
    """Leave the import as a worker killed after ``after_row`` rows would: running, its heartbeat old,
    the later rows pending and not applied."""
    with app.app_context():
        task = db.session.get(Task, task_id)
        later = sa.and_(ImportRow.task_id == task_id, ImportRow.row_number > after_row)
        db.session.execute(sa.update(ImportRow).where(later).values(state="pending"))
        undone = sa.select(ImportRow.target_id).where(later)
        db.session.execute(sa.delete(followers).where(followers.c.follower_id == task.user_id,
                                                      followers.c.followed_id.in_(undone)))
        counters.recount()
        task.status, task.heartbeat_at, task.finished_at = TASK_RUNNING, task.created_at, None
        db.session.commit()


def test_starting_another_import_resumes_a_stalled_one(app, client, auth, people):
    auth.login()
    task_id = start(client, "bob\ncarol\n")
    stall(app, task_id, 1)
    app.config["TASK_HEARTBEAT_TIMEOUT"] = 0
    response = upload(client, "dave\n")
    assert response.headers["Location"] == f"/settings/import/{task_id}"
    assert following_of(app, "alice") == {"bob", "carol"}
    with app.app_context():
        assert db.session.get(Task, task_id).status == TASK_DONE
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 1


def test_one_import_at_a_time(app, client, auth, people):
    auth.login()
    with app.app_context():
        task = Task(id="00000000-0000-0000-0000-000000000001", name="import_following_merge", description="x",
                    user_id=people["alice"], status=TASK_RUNNING, progress=10)
        db.session.add(task)
        db.session.commit()
    response = upload(client, "bob\n")
    assert response.status_code == 302
    assert response.headers["Location"] == "/settings/import/00000000-0000-0000-0000-000000000001"


def test_another_persons_import_is_not_found(app, client, auth, people):
    auth.login()
    task_id = start(client, "bob\n")
    other = signed_in_client(app, "bob")
    for url in (f"/settings/import/{task_id}", f"/settings/import/{task_id}.json"):
        assert other.get(url).status_code == 404
    assert client.get("/settings/import/nonsense").status_code == 404


def test_a_suspended_account_cannot_import(app, client, auth, people):
    with app.app_context():
        db.session.get(User, people["alice"]).suspended_at = utcnow()
        db.session.commit()
    auth.login()
    response = upload(client, "bob\n")
    # Refused before the view, as every write of a suspended account (microblog/suspension.py).
    assert response.status_code == 302 and response.headers["Location"] == "/index"
    assert following_of(app, "alice") == set()


def test_accepted_imports_are_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_IMPORTS="2 per hour")
    with app.app_context():
        limiter.reset()
        make_user("alice")
        make_user("bob")
    client = signed_in_client(app, "alice")
    for _ in range(3):  # refused files do not count
        assert upload(client, b"").status_code == 200
    for _ in range(2):
        assert upload(client, "bob\n").status_code == 302
    assert upload(client, "bob\n").status_code == 429


# -- the API ----------------------------------------------------------------------------------------
def api_upload(client, headers, content: bytes | str, **fields: str):
    data = content.encode() if isinstance(content, str) else content
    form: dict = {"kind": FOLLOWING, "mode": "merge", **fields, "file": (io.BytesIO(data), "following.csv")}
    return client.post("/api/imports", data=form, headers=headers, content_type="multipart/form-data")


def test_the_api_imports_and_reports(app, client, people):
    headers = token_for(client, "alice")
    content = FOLLOWING_HEADER + "bob,true,false,\nzed@mastodon.social,true,false,\n"
    response = api_upload(client, headers, content)
    assert response.status_code == 202, response.json
    task_id = response.json["id"]
    assert response.headers["Location"] == f"/api/imports/{task_id}"
    response = client.get(f"/api/imports/{task_id}", headers=headers)
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "done" and body["progress"] == 100 and body["kind"] == FOLLOWING
    assert body["counts"] == {"total": 2, "imported": 1, "skipped": 1, "pending": 0}
    assert body["skipped"] == [{
        "row": 2, "value": "zed@mastodon.social", "reason": "remote",
        "message": "Its server could not be reached, or does not know it."}]
    assert following_of(app, "alice") == {"bob"}
    # Someone else's import, and none at all, are not found.
    other = token_for(client, "bob")
    for url, who in ((f"/api/imports/{task_id}", other), ("/api/imports/nonsense", headers)):
        response = client.get(url, headers=who)
        assert response.status_code == 404 and response.json["message"] == "There is no such import."


@pytest.mark.parametrize("fields, content, status, field", [
    ({"kind": "lists"}, "bob\n", 422, "kind"),
    ({"mode": "replace"}, "bob\n", 422, "mode"),
    ({}, "", 422, "file"),
    ({}, b"\xff\xfeb\x00", 422, "file"),
    ({"kind": BOOKMARKS}, "bob\n", 422, "file"),
])
def test_the_api_refuses_bad_imports(client, people, fields, content, status, field):
    headers = token_for(client, "alice")
    response = api_upload(client, headers, content, **fields)
    assert response.status_code == status, response.json
    assert field in response.json["errors"]["form_and_files"]


def test_the_api_refuses_a_file_too_large_and_needs_a_token(app, client, people):
    app.config["IMPORT_MAX_BYTES"] = 10
    headers = token_for(client, "alice")
    assert api_upload(client, headers, "bob\n" * 10).status_code == 413
    assert api_upload(client, {}, "bob\n").status_code == 401
    assert client.get("/api/imports/x").status_code == 401
