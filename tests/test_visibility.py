"""One visibility rule on every read path: a hidden post is seen by its author and the moderators only.

Each path that shows posts (web pages, API lists and lookups, search) is asked by four kinds of
viewer; the post a moderator hid must show, marked as hidden, to its author and to moderators, and
must not show to anyone else, signed in or not.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from microblog import search
from microblog.extensions import db
from microblog.models import User
from microblog.services import moderation
from tests.factories import make_block, make_follow, make_post, make_user, token_for

HIDDEN = "a hidden zanzibar post"
SHOWN = "a shown zanzibar post"
VIEWERS = ("anonymous", "other", "author", "moderator")
SEES_HIDDEN = {"anonymous": False, "other": False, "author": True, "moderator": True}


def get(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


@pytest.fixture
def site(app):
    """``author`` wrote two posts, the newer one hidden by ``mod``; ``other`` and ``mod`` follow them."""
    with app.app_context():
        author, other, mod = make_user("author"), make_user("other"), make_user("mod", role="moderator")
        make_follow(other, author)
        make_follow(mod, author)
        shown = make_post(author, SHOWN)
        hidden = make_post(author, HIDDEN)
        moderation.hide_post(mod, hidden, "rude")
        search.reindex()  # the factories write rows directly, bypassing the indexing jobs
        ids = {"author": author.id, "shown": shown.id, "hidden": hidden.id}
    return app, ids


def viewer_client(app, viewer: str):
    """A test client for ``viewer``, and the headers its API requests carry."""
    client = app.test_client()
    if viewer == "anonymous":
        return client, {}
    response = client.post("/auth/login", data={"username": "mod" if viewer == "moderator" else viewer,
                                                "password": "correct-horse"})
    assert response.status_code == 302
    return client, token_for(app.test_client(), "mod" if viewer == "moderator" else viewer)


# (name, path, kind): "page" and "list" must hold the shown post and the hidden one only for some;
# "lookup" answers the hidden post itself or a 404.
READ_PATHS = [
    ("home timeline", "/", "page"),
    ("explore", "/explore", "page"),
    ("profile", "/user/author", "page"),
    ("permalink", "/post/{hidden}", "lookup-page"),
    ("report form", "/post/{hidden}/report", "lookup-page"),
    ("search", "/search?q=zanzibar", "page"),
    ("search, newest first", "/search?q=zanzibar&sort=new", "page"),
    ("api posts", "/api/posts", "list"),
    ("api user posts", "/api/users/{author}/posts", "list"),
    ("api timeline", "/api/timeline", "list"),
    ("api search", "/api/search?q=zanzibar", "list"),
    ("api post", "/api/posts/{hidden}", "lookup-api"),
]
SIGNED_IN_ONLY = {"/api/timeline", "/post/{hidden}/report"}


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize(("name", "path", "kind"), READ_PATHS, ids=[case[0] for case in READ_PATHS])
def test_a_hidden_post_shows_to_its_author_and_moderators_only(site, name, path, kind, viewer):
    app, ids = site
    if viewer == "anonymous" and path in SIGNED_IN_ONLY:
        pytest.skip("signed in only")
    if viewer == "author" and path == "/post/{hidden}/report":
        pytest.skip("the author sees it; reporting one's own post is another rule")
    client, headers = viewer_client(app, viewer)
    response = client.get(path.format(**ids), headers=headers)
    sees = SEES_HIDDEN[viewer]

    if kind.startswith("lookup"):
        assert response.status_code == (200 if sees else 404), (name, viewer)
        if sees and kind == "lookup-api":
            assert response.json["body"] == HIDDEN and response.json["hidden"] is True
        elif sees:
            assert HIDDEN in response.get_data(as_text=True)
        return

    assert response.status_code == 200, (name, viewer, response.status_code)
    if kind == "list":
        items = {item["body"]: item for item in response.json["items"]}
        assert SHOWN in items and items[SHOWN]["hidden"] is False, (name, viewer)
        assert (HIDDEN in items) is sees, (name, viewer)
        if sees:
            assert items[HIDDEN]["hidden"] is True
        return
    html = response.get_data(as_text=True)  # posts are cards with id="post-<id>" (search marks words)
    assert f'id="post-{ids["shown"]}"' in html, (name, viewer)
    assert (f'id="post-{ids["hidden"]}"' in html) is sees, (name, viewer)
    if sees:  # marked: the card of the hidden post carries the badge
        card = html[html.index(f'id="post-{ids["hidden"]}"'):]
        card = card[:card.index("</article>")]
        assert ">Hidden</span>" in card, (name, viewer)


def test_the_authors_own_export_keeps_their_hidden_post(site):
    app, _ids = site
    from microblog.services import exports

    with app.app_context():
        bodies = [row.body for batch in exports._post_batches(get("author")) for row in batch]
    assert bodies == [SHOWN, HIDDEN]


@pytest.mark.parametrize("path", ["/explore", "/search?q=zanzibar", "/api/posts", "/api/search?q=zanzibar"])
def test_lists_leave_out_the_people_the_viewer_blocked(site, path):
    app, _ids = site
    with app.app_context():
        make_block(get("other"), get("author"))
    client, headers = viewer_client(app, "other")
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "zanzibar post" not in text and 'id="post-' not in text
