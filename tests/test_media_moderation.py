"""Moderating images: hiding and showing again the images of a post (a reason, the audit log, the reports
it resolves), what everyone else sees instead, and the images on the moderators' pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from microblog.exceptions import PermissionDenied, ValidationError
from microblog.extensions import db
from microblog.models import AuditLogEntry, Media, Post, Report
from microblog.services import media, moderation, posts, reports
from tests import media_samples
from tests.factories import DEFAULT_PASSWORD, find_user, make_post, make_user

NOTICE = "Image hidden by the moderators"


def sign_in(app, username: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def images_of(post_id: int) -> list[Media]:
    return list(db.session.scalars(sa.select(Media).where(Media.post_id == post_id).order_by(Media.position)))


@pytest.fixture
def post_id(app) -> int:
    """bob's post with two processed images; alice reads, mod moderates."""
    with app.app_context():
        make_user("mod", role="moderator")
        make_user("alice")
        bob = make_user("bob")
        uploads = [media.check_upload(media_samples.jpeg_bytes(60, 40), "a beach"),
                   media.check_upload(media_samples.png_bytes(30, 30), "a blue square")]
        return posts.publish_post(bob, "holiday pictures", uploads=uploads).id


def thumbnails(post_id: int) -> list[str]:
    return [item.thumbnail_key for item in images_of(post_id)]


# -- the service ----------------------------------------------------------------------------------
def test_hiding_images_needs_the_permission_and_a_reason(app, post_id):
    with app.app_context():
        post = db.session.get(Post, post_id)
        with pytest.raises(PermissionDenied):
            moderation.hide_media(find_user("alice"), post, "I do not like them")
        with pytest.raises(ValidationError, match="reason"):
            moderation.hide_media(find_user("mod"), post, "   ")
        with pytest.raises(PermissionDenied):
            moderation.unhide_media(find_user("bob"), post)
        words_only = make_post(find_user("bob"), "no pictures here")
        with pytest.raises(ValidationError, match="no images"):
            moderation.hide_media(find_user("mod"), words_only, "nothing to hide")
        assert all(item.hidden_at is None for item in images_of(post_id))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLogEntry)) == 0


def test_hide_and_show_again_are_audited_once_each(app, post_id):
    with app.app_context():
        post, mod = db.session.get(Post, post_id), find_user("mod")
        moderation.hide_media(mod, post, "graphic content")
        moderation.hide_media(mod, post, "again")  # nothing left to hide: no second entry
        hidden = images_of(post_id)
        assert all(item.hidden_at is not None for item in hidden)
        assert post.hidden_at is None  # the text stays visible
        moderation.unhide_media(mod, post, "on appeal")
        moderation.unhide_media(mod, post)
        assert all(item.hidden_at is None for item in images_of(post_id))
        entries = db.session.execute(sa.select(AuditLogEntry.actor_name, AuditLogEntry.action,
                                               AuditLogEntry.target_type, AuditLogEntry.target_id,
                                               AuditLogEntry.reason).order_by(AuditLogEntry.id)).all()
        assert [tuple(entry) for entry in entries] == [
            ("mod", "media.hide", "post", post_id, "graphic content"),
            ("mod", "media.unhide", "post", post_id, "on appeal"),
        ]


def test_hiding_the_images_resolves_the_reports_about_the_post(app, post_id):
    with app.app_context():
        post = db.session.get(Post, post_id)
        reports.report_post(find_user("alice"), post, "shocking picture")
        moderation.hide_media(find_user("mod"), post, "shocking indeed")
        report = db.session.scalars(sa.select(Report)).one()
        assert report.status == "resolved"


# -- what people see --------------------------------------------------------------------------------
def test_hidden_images_are_a_notice_for_everyone_but_the_moderators_page(app, client, post_id):
    mod = sign_in(app, "mod")
    with app.app_context():
        keys = thumbnails(post_id)
    before = client.get(f"/post/{post_id}").get_data(as_text=True)
    assert all(f"/media/{key}" in before for key in keys) and NOTICE not in before

    response = mod.post(f"/admin/posts/{post_id}/hide-images", data={"reason": "graphic"})
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/posts/{post_id}"
    alice = sign_in(app, "alice")
    for viewer in (client, alice, sign_in(app, "bob")):  # a visitor, a reader and the author
        for path in (f"/post/{post_id}", "/explore", "/user/bob"):
            page = viewer.get(path).get_data(as_text=True)
            assert page.count(NOTICE) == 2, path
            assert not any(key in page for key in keys), path
            assert "holiday pictures" in page  # the text is not hidden

    # The moderators still see them on the post's admin page, marked hidden, with the way back.
    admin_page = mod.get(f"/admin/posts/{post_id}").get_data(as_text=True)
    assert all(f"/media/{key}" in admin_page for key in keys)
    assert "a beach" in admin_page and "a blue square" in admin_page
    assert "Show the images again" in admin_page and "Hide the images" not in admin_page
    assert mod.post(f"/admin/posts/{post_id}/unhide-images", data={"reason": ""}).status_code == 302
    after = client.get(f"/post/{post_id}").get_data(as_text=True)
    assert all(f"/media/{key}" in after for key in keys) and NOTICE not in after
    history = mod.get(f"/admin/posts/{post_id}").get_data(as_text=True)  # the post's audit entries
    assert "Hid a post&#39;s images" in history and "Showed a post&#39;s images again" in history
    assert "graphic" in history


def test_only_moderators_hide_images_and_a_reason_is_required(app, post_id):
    alice = sign_in(app, "alice")
    assert alice.post(f"/admin/posts/{post_id}/hide-images", data={"reason": "mine now"}).status_code == 403
    assert alice.get(f"/admin/posts/{post_id}").status_code == 403
    mod = sign_in(app, "mod")
    refused = mod.post(f"/admin/posts/{post_id}/hide-images", data={"reason": ""}, follow_redirects=True)
    assert refused.status_code == 200
    with app.app_context():
        assert all(item.hidden_at is None for item in images_of(post_id))


def test_a_post_without_images_has_no_image_actions(app, post_id):
    with app.app_context():
        plain = make_post(find_user("bob"), "words only").id
    page = sign_in(app, "mod").get(f"/admin/posts/{plain}").get_data(as_text=True)
    assert "Hide the images" not in page and "Images" not in page


def test_reports_about_a_post_show_its_images_hidden_or_not(app, post_id):
    with app.app_context():
        post = db.session.get(Post, post_id)
        reports.report_post(find_user("alice"), post, "look at the second picture")
        words_only = make_post(find_user("bob"), "words only")
        reports.report_post(find_user("alice"), words_only, "rude words")
        keys = thumbnails(post_id)
        # Hidden earlier by another moderator (which closed nothing: the report came later).
        for item in images_of(post_id):
            item.hidden_at = item.created_at
        db.session.commit()
    mod = sign_in(app, "mod")
    queue = mod.get("/admin/reports").get_data(as_text=True)
    assert all(f"/media/{key}" in queue for key in keys)
    assert "a blue square" in queue and queue.count('class="moderation-image"') == 2
    first, second = queue.split('id="report-')[1:3]
    assert "moderation-image" in first and "moderation-image" not in second
    post_page = mod.get(f"/admin/posts/{post_id}").get_data(as_text=True)
    assert "look at the second picture" in post_page and all(f"/media/{key}" in post_page for key in keys)


def test_the_report_queue_reads_images_once_per_page(app, post_id):
    """Twelve reported posts with images: one statement for all their images, not one per report."""
    from tests.test_query_counts import counting

    with app.app_context():
        bob, alice = find_user("bob"), find_user("alice")
        for i in range(12):
            upload = media.check_upload(media_samples.png_bytes(10 + i, 10), f"picture {i}")
            post = posts.publish_post(bob, f"post {i}", uploads=[upload])
            reports.report_post(alice, post, f"report {i}")
    mod = sign_in(app, "mod")
    assert mod.get("/admin/reports").status_code == 200
    with counting(app) as statements:
        page = mod.get("/admin/reports").get_data(as_text=True)
    assert page.count('class="moderation-image"') == 12
    assert sum("FROM media" in statement for statement in statements) == 1, statements


# -- through the API ------------------------------------------------------------------------------
def test_moderators_hide_images_through_the_api_and_still_see_them(app, client, post_id):
    from tests.factories import token_for

    mod, alice = token_for(client, "mod"), token_for(client, "alice")
    refused = client.post(f"/api/admin/posts/{post_id}/hide-images", json={"reason": "x"}, headers=alice)
    assert refused.status_code == 403
    response = client.post(f"/api/admin/posts/{post_id}/hide-images", json={"reason": "graphic"}, headers=mod)
    assert response.status_code == 200, response.json
    seen_by_mod = response.json["media_attachments"]
    assert [item["hidden"] for item in seen_by_mod] == [True, True]
    assert all(item["url"] and item["description"] for item in seen_by_mod)  # moderators see the files
    seen_by_alice = client.get(f"/api/posts/{post_id}", headers=alice).json["media_attachments"]
    assert all(item["hidden"] and item["url"] is None for item in seen_by_alice)
    shown = client.post(f"/api/admin/posts/{post_id}/unhide-images", json={}, headers=mod)
    assert [item["hidden"] for item in shown.json["media_attachments"]] == [False, False]
    with app.app_context():
        plain = make_post(find_user("bob"), "words").id
    empty = client.post(f"/api/admin/posts/{plain}/hide-images", json={"reason": "x"}, headers=mod)
    assert empty.status_code == 422 and "no images" in empty.json["message"]
