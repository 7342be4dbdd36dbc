"""Timelines, profiles, follows, posting and deleting through the web pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog.extensions import db
from microblog.models import Post, User, followers
from microblog.timeutil import utcnow
from tests.factories import make_follow, make_post, make_posts, make_user


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice").id


def post_ids_on(html: str) -> list[int]:
    import re

    return [int(n) for n in re.findall(r'id="post-(\d+)"', html)]


def test_visitors_see_the_welcome_page(client, app):
    with app.app_context():
        make_post(make_user("bob"), "hello from bob")
    html = client.get("/").get_data(as_text=True)
    assert "Welcome to Microblog" in html
    assert "hello from bob" in html


def test_posting_appears_on_the_timeline(client, app, auth, alice):
    auth.login()
    response = client.post("/", data={"post": "  My first post  "})
    assert response.status_code == 302
    assert response.headers["Location"] == "/index"
    with app.app_context():
        post = db.session.scalar(sa.select(Post))
        assert post.body == "My first post"
        assert post.author.username == "alice"
    assert "My first post" in client.get("/index").get_data(as_text=True)


def test_post_length_limit_comes_from_config(make_app):
    app = make_app(POST_MAX_LENGTH=10)
    client = app.test_client()
    with app.app_context():
        make_user("alice")
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    response = client.post("/", data={"post": "x" * 11})
    assert response.status_code == 200
    assert "at most 10 characters" in response.get_data(as_text=True)
    assert client.post("/", data={"post": "x" * 10}).status_code == 302


def test_database_refuses_an_overlong_post(app):
    from microblog.models import POST_BODY_CEILING

    with app.app_context():
        user = make_user()
        db.session.add(Post(body="x" * (POST_BODY_CEILING + 1), author=user))
        # SQLite trips the CHECK constraint; PostgreSQL the VARCHAR length first.
        with pytest.raises((sa.exc.IntegrityError, sa.exc.DataError)):
            db.session.commit()
        db.session.rollback()
        db.session.add(Post(body="", author=user))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()


def test_home_timeline_shows_own_and_followed_posts_newest_first(client, app, auth, alice):
    now = utcnow()
    with app.app_context():
        me = db.session.get(User, alice)
        bob, carol = make_user("bob"), make_user("carol")
        make_follow(me, bob)
        mine = make_post(me, "mine", now - timedelta(minutes=3)).id
        bobs = make_post(bob, "bob's", now - timedelta(minutes=1)).id
        make_post(carol, "carol's", now - timedelta(minutes=2))
    auth.login()
    html = client.get("/").get_data(as_text=True)
    assert post_ids_on(html) == [bobs, mine]
    assert "Your timeline is quiet." not in html


def test_new_user_sees_a_friendly_empty_state(client, auth, alice):
    auth.login()
    html = client.get("/").get_data(as_text=True)
    assert "Your timeline is quiet." in html
    assert 'href="/explore"' in html


def rel_link(html: str, rel: str) -> str | None:
    import re

    match = re.search(rf'rel="{rel}" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_explore_shows_everyone_and_pages_with_rel_links(make_app):
    app = make_app(POSTS_PER_PAGE=3)
    client = app.test_client()
    with app.app_context():
        posts = make_posts(make_user("bob"), 7)
        ids = [p.id for p in reversed(posts)]
    first = client.get("/explore").get_data(as_text=True)
    assert post_ids_on(first) == ids[:3]
    assert 'rel="prev"' not in first
    # Older/Newer links carry an opaque cursor (keyset pagination), so deep pages cost what page 1 costs.
    second_url = rel_link(first, "next")
    assert second_url.startswith("/explore?before=")
    second = client.get(second_url).get_data(as_text=True)
    assert post_ids_on(second) == ids[3:6]
    assert "Page 2" in second
    assert rel_link(second, "prev").startswith("/explore?after=")
    assert post_ids_on(client.get(rel_link(second, "prev")).get_data(as_text=True)) == ids[:3]
    last = client.get(rel_link(second, "next")).get_data(as_text=True)
    assert post_ids_on(last) == ids[6:]
    assert 'rel="next"' not in last
    assert post_ids_on(client.get(rel_link(last, "prev")).get_data(as_text=True)) == ids[3:6]
    # ?page=N (old links and bookmarks) still works, and links on by cursor.
    by_number = client.get("/explore?page=2").get_data(as_text=True)
    assert post_ids_on(by_number) == ids[3:6]
    assert rel_link(by_number, "next") == rel_link(second, "next")
    assert client.get("/explore?page=4").status_code == 404


@pytest.mark.parametrize("page", ["abc", "-1", "0", "99999999", "1.5", "", "1e3", "１"])
@pytest.mark.parametrize(
    "path", ["/", "/explore", "/user/alice", "/user/alice/followers", "/user/alice/following"]
)
def test_bad_page_numbers_are_404_not_500(client, auth, alice, path, page):
    auth.login()
    response = client.get(path, query_string={"page": page})
    assert response.status_code in (200, 404)
    if page not in ("",):
        assert response.status_code == 404


def test_profile_shows_details_counts_and_posts(client, app, auth, alice):
    with app.app_context():
        me = db.session.get(User, alice)
        me.about_me = "I <3 <b>tea</b>"
        db.session.commit()
        bob = make_user("bob")
        make_follow(bob, me)
        make_posts(me, 2)
    html = client.get("/user/ALICE").get_data(as_text=True)
    assert "<h1 class=\"h3 mb-1\">alice</h1>" in html
    assert "I &lt;3 &lt;b&gt;tea&lt;/b&gt;" in html
    assert "2 posts" in html and "1 follower" in html and "0 following" in html
    assert "Member since" in html and "Last seen" in html
    assert "/avatar/" in html


def test_unknown_profile_is_404(client):
    assert client.get("/user/nobody").status_code == 404


def test_follow_and_unfollow(client, app, auth, alice):
    with app.app_context():
        make_user("bob")
    auth.login()
    response = client.post("/follow/bob")
    assert response.status_code == 302 and response.headers["Location"] == "/user/bob"
    client.post("/follow/bob")  # twice is harmless
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(followers)) == 1
    assert "Unfollow" in client.get("/user/bob").get_data(as_text=True)
    client.post("/unfollow/bob")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(followers)) == 0


def test_cannot_follow_yourself(client, app, auth, alice):
    auth.login()
    response = client.post("/follow/alice", follow_redirects=True)
    assert "You cannot follow yourself." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(followers)) == 0


def test_database_refuses_a_self_follow(app):
    with app.app_context():
        user = make_user()
        with pytest.raises(sa.exc.IntegrityError):
            make_follow(user, user)


def test_followers_and_following_lists(client, app):
    with app.app_context():
        alice, bob, carol = make_user("alice"), make_user("bob"), make_user("carol")
        make_follow(bob, alice)
        make_follow(carol, alice)
        make_follow(alice, bob)
    followers_html = client.get("/user/alice/followers").get_data(as_text=True)
    assert "/user/bob" in followers_html and "/user/carol" in followers_html
    following_html = client.get("/user/alice/following").get_data(as_text=True)
    assert 'href="/user/bob"' in following_html and 'href="/user/carol"' not in following_html


def test_author_can_delete_own_post(client, app, auth, alice):
    with app.app_context():
        post_id = make_post(db.session.get(User, alice)).id
    auth.login()
    assert client.post(f"/post/{post_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Post, post_id) is None
    assert client.post(f"/post/{post_id}/delete").status_code == 302  # already gone: harmless


def test_others_cannot_delete_a_post(client, app, auth, alice):
    with app.app_context():
        post_id = make_post(make_user("bob")).id
    auth.login()
    assert client.post(f"/post/{post_id}/delete").status_code == 403
    with app.app_context():
        assert db.session.get(Post, post_id) is not None


def test_edit_profile(client, app, auth, alice):
    auth.login()
    page = client.get("/edit_profile").get_data(as_text=True)
    assert 'value="alice"' in page
    response = client.post("/edit_profile", data={"username": "Alice_2", "about_me": "Hello"})
    assert response.status_code == 302 and response.headers["Location"] == "/user/Alice_2"
    with app.app_context():
        user = db.session.get(User, alice)
        assert (user.username, user.about_me) == ("Alice_2", "Hello")


def test_edit_profile_can_change_only_the_case_of_your_name(client, app, auth, alice):
    auth.login()
    assert client.post("/edit_profile", data={"username": "ALICE", "about_me": ""}).status_code == 302


def test_edit_profile_refuses_a_taken_name(client, app, auth, alice):
    with app.app_context():
        make_user("bob")
    auth.login()
    response = client.post("/edit_profile", data={"username": "BOB", "about_me": ""})
    assert "That username is taken." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, alice).username == "alice"


def test_pages_that_need_login_redirect_to_login(client):
    response = client.get("/edit_profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")


def test_post_shows_relative_and_exact_time_and_links(client, app):
    with app.app_context():
        make_post(make_user("bob"), "see https://example.com/a?b=1&c=2. <script>x</script>",
                  utcnow() - timedelta(minutes=5))
    html = client.get("/explore").get_data(as_text=True)
    assert "5 minutes ago" in html
    assert '<time class="text-body-secondary small ms-1" datetime="' in html and 'title="' in html
    assert ('<a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer" '
            'target="_blank">https://example.com/a?b=1&amp;c=2</a>.') in html
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_avatar_is_a_generated_svg(client, app):
    with app.app_context():
        user = make_user("bob")
        digest = user.avatar_digest
    response = client.get(f"/avatar/{digest}.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith("<svg")
    assert "max-age" in response.headers["Cache-Control"]
    assert client.get(f"/avatar/{digest}.svg").data == response.data
    assert client.get("/avatar/not-valid!.svg").status_code == 404


def test_gravatar_is_an_option(make_app):
    app = make_app(AVATAR_PROVIDER="gravatar")
    with app.app_context():
        make_user("bob")
    html = app.test_client().get("/user/bob").get_data(as_text=True)
    assert "https://www.gravatar.com/avatar/" in html


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_healthz_reports_an_unreachable_database(make_app, tmp_path):
    app = make_app(
        create_tables=False,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/x.db",
        SQLALCHEMY_ENGINE_OPTIONS={},
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
