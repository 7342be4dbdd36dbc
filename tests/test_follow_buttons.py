"""Follow buttons on people lists (followers, following, search, who to follow), back to the same page;
the fetch answer; the visitor's prompt on a profile; the suggestions page, the sidebar partial and the
home page's suggestions."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import render_template, template_rendered

from microblog.extensions import db
from microblog.models import followers
from microblog.services import mutes, suggestions
from tests.factories import find_user, make_block, make_follow, make_post, make_user


def forms_on(html: str) -> dict[str, str]:
    """{username: "follow" | "unfollow"} for every follow form of a page."""
    return {name: action for action, name in
            re.findall(r'data-follow-form\s+action="/(follow|unfollow)/([^"]+)"', html)}


def follows(app, follower: str, followed: str) -> bool:
    with app.app_context():
        query = sa.select(followers).where(followers.c.follower_id == find_user(follower).id,
                                           followers.c.followed_id == find_user(followed).id)
        return db.session.execute(query).first() is not None


@pytest.fixture
def people(app):
    """Everyone follows cat. alice follows bob; alice blocked dan; eve blocked alice; fay is muted."""
    with app.app_context():
        users = {name: make_user(name) for name in ("alice", "bob", "cat", "dan", "eve", "fay")}
        for name, person in users.items():
            if name != "cat":
                make_follow(person, users["cat"])
        make_follow(users["alice"], users["bob"])
        make_block(users["alice"], users["dan"])
        make_block(users["eve"], users["alice"])
        mutes.mute(users["alice"], users["fay"])
    return app


def test_a_list_shows_the_viewers_standing_with_each_person(people, client, auth):
    auth.login()
    html = client.get("/user/cat/followers").get_data(as_text=True)
    # bob: already followed; dan: blocked by alice (no button, said so); eve blocked alice (nothing);
    # alice herself: no button; fay: muted, still followable.
    assert forms_on(html) == {"bob": "unfollow", "fay": "follow"}
    assert "Blocked" in html and "Muted" in html
    assert 'name="next" value="/user/cat/followers"' in html
    assert re.search(r"/static/follow\.[0-9a-f]{8}\.js", html)
    # Each button names its person for screen readers.
    assert '<span data-label>Unfollow</span><span class="visually-hidden"> bob</span>' in html


def test_a_visitor_gets_links_to_sign_in(people, client):
    html = client.get("/user/cat/followers").get_data(as_text=True)
    assert forms_on(html) == {}
    assert 'href="/auth/login?next=/user/bob"' in html


def test_following_from_a_list_comes_back_to_it(people, client, auth):
    auth.login()
    response = client.post("/follow/fay", data={"next": "/user/cat/followers?before=abc"})
    assert response.status_code == 302 and response.headers["Location"] == "/user/cat/followers?before=abc"
    assert follows(people, "alice", "fay")
    html = client.get("/user/cat/followers").get_data(as_text=True)
    assert "You are following fay." in html and forms_on(html)["fay"] == "unfollow"
    response = client.post("/unfollow/fay", data={"next": "/user/cat/followers"})
    assert response.headers["Location"] == "/user/cat/followers"
    assert not follows(people, "alice", "fay")


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)", "", "/user/cat\n/x"])
def test_an_unsafe_next_goes_to_the_profile(people, client, auth, target):
    auth.login()
    response = client.post("/follow/fay", data={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/user/fay"


def test_fetch_gets_json_and_nothing_is_flashed(people, client, auth):
    auth.login()
    response = client.post("/follow/fay", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json == {"message": "You are following fay.", "state": "following"}
    assert follows(people, "alice", "fay")
    assert "You are following fay." not in client.get("/user/cat/followers").get_data(as_text=True)
    refused = client.post("/follow/eve", headers={"Accept": "application/json"})
    assert refused.status_code == 403
    assert refused.json == {"message": "You cannot follow eve.", "state": "none"}
    yourself = client.post("/follow/alice", headers={"Accept": "application/json"})
    assert yourself.status_code == 422
    assert client.post("/unfollow/fay", headers={"Accept": "application/json"}).json == {
        "message": "You are not following fay.", "state": "none"}


def test_a_button_needs_its_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        alice, bob = make_user("alice"), make_user("bob")
        make_follow(bob, alice)
    client = app.test_client()
    login_page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse", "csrf_token": token})
    html = client.get("/user/alice/followers").get_data(as_text=True)
    token = re.search(r'data-follow-form.*?name="csrf_token" value="([^"]+)"', html, re.S).group(1)
    assert client.post("/follow/bob", data={"next": "/user/alice/followers"}).status_code == 400
    assert not follows(app, "alice", "bob")
    response = client.post("/follow/bob", data={"next": "/user/alice/followers", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/user/alice/followers"
    assert follows(app, "alice", "bob")


def test_people_in_search_results_have_buttons(people, client, auth):
    from microblog import search

    with people.app_context():
        search.reindex()
    auth.login()
    html = client.get("/search?q=bob&type=people").get_data(as_text=True)
    assert forms_on(html) == {"bob": "unfollow"}
    assert 'name="next" value="/search?q=bob&amp;type=people"' in html


# -- visitors on a profile ------------------------------------------------------------------------------

def test_a_visitor_on_a_profile_is_asked_to_sign_in_or_up(people, client):
    html = client.get("/user/cat").get_data(as_text=True)
    assert 'href="/auth/login?next=/user/cat">Sign in to follow cat</a>' in html
    assert 'href="/auth/register?next=/user/cat">Create an account</a>' in html


def test_signing_in_from_the_prompt_comes_back_to_the_profile(people, client):
    form = {"username": "bob", "password": "correct-horse"}
    response = client.post("/auth/login?next=/user/cat", data=form)
    assert response.headers["Location"] == "/user/cat"


@pytest.mark.parametrize("target, landing", [("/user/cat", "/user/cat"), ("//evil.example", "/index")])
def test_signing_up_from_the_prompt_comes_back_to_the_profile(people, client, target, landing):
    form = {"username": "newbie", "email": "newbie@example.com", "password": "a long enough secret",
            "password2": "a long enough secret"}
    response = client.post(f"/auth/register?next={target}", data=form)
    assert response.status_code == 302 and response.headers["Location"] == landing
    assert find_user_in(people, "newbie")


def find_user_in(app, name: str) -> bool:
    with app.app_context():
        return find_user(name) is not None


def test_sign_in_and_sign_up_pages_pass_the_way_back_along(people, client):
    assert 'href="/auth/login?next=/user/cat"' in client.get("/auth/register?next=/user/cat").get_data(
        as_text=True)
    assert 'href="/auth/register?next=/user/cat"' in client.get("/auth/login?next=/user/cat").get_data(
        as_text=True)


# -- who to follow --------------------------------------------------------------------------------------

@pytest.fixture
def friends(app):
    """alice follows bob and cat, who both follow dan; cat follows eve; gus posted today."""
    with app.app_context():
        alice, bob, cat, dan, eve, gus = (make_user(n) for n in ("alice", "bob", "cat", "dan", "eve", "gus"))
        for friend in (bob, cat):
            make_follow(alice, friend)
            make_follow(friend, dan)
        make_follow(cat, eve)
        make_post(gus)
    return app


def test_the_suggestions_page(friends, client, auth):
    auth.login()
    html = client.get("/people/suggestions").get_data(as_text=True)
    assert forms_on(html) == {"dan": "follow", "eve": "follow", "gus": "follow"}
    assert "Followed by 2 people you follow" in html and "Followed by 1 person you follow" in html
    assert "Posted this week · 0 followers" in html
    assert 'name="next" value="/people/suggestions"' in html
    # Following from it: back to it, without the person just followed.
    response = client.post("/follow/dan", data={"next": "/people/suggestions"})
    assert response.headers["Location"] == "/people/suggestions"
    assert forms_on(client.get("/people/suggestions").get_data(as_text=True)) == {"eve": "follow",
                                                                                  "gus": "follow"}


def test_a_visitor_sees_the_active_accounts(friends, client):
    html = client.get("/people/suggestions").get_data(as_text=True)
    assert "gus" in html and 'href="/auth/login?next=/user/gus"' in html and "dan" not in html


def test_the_sidebar_partial(friends):
    with friends.test_request_context("/explore"):
        found = suggestions.compute(None)
        html = render_template("_who_to_follow.html", suggestions=found)
        assert "Who to follow" in html and "/people/suggestions" in html and "gus" in html
        assert render_template("_who_to_follow.html", suggestions=[]).strip() == ""


@pytest.fixture
def rendered(app):
    """The context of every template the test renders."""
    seen: list[tuple[str, dict]] = []

    def record(sender, template, context, **extra):
        seen.append((template.name, context))

    template_rendered.connect(record, app)
    yield seen
    template_rendered.disconnect(record, app)


def test_home_and_explore_pass_suggestions_for_a_sidebar(friends, client, auth, rendered):
    auth.login()
    client.get("/")
    client.get("/explore")
    contexts = {name: context for name, context in rendered}
    assert [s.username for s in contexts["main/index.html"]["suggestions"]] == ["dan", "eve", "gus"]
    assert "starter_suggestions" not in contexts["main/index.html"]
    assert [s.username for s in contexts["main/explore.html"]["suggestions"]] == ["dan", "eve", "gus"]


def test_a_new_account_gets_suggestions_in_its_quiet_timeline(friends, client, auth):
    with friends.app_context():
        make_user("newbie")
    auth.login("newbie")
    html = client.get("/").get_data(as_text=True)
    assert "Your timeline is quiet." in html and "People you might like" in html
    assert forms_on(html) == {"gus": "follow"}
    client.post("/follow/gus", data={"next": "/"})
    with friends.app_context():
        assert db.session.execute(sa.select(followers)).all()  # the follow landed
    assert "People you might like" not in client.get("/").get_data(as_text=True)
