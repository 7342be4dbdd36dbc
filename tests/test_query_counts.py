"""SQL statements per request on the hot pages: a small constant, whatever the page size or depth.

Each page is requested at two page sizes, on its first page and deep by cursor, while a
``before_cursor_execute`` listener on the engine counts statements. A loop that loads authors,
avatars or counts one row at a time (an N+1) changes the count with the page size and fails here.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from microblog import jobs
from microblog.extensions import db
from microblog.models import Announce, Bookmark, Like, Media, MediaStatus
from microblog.timeutil import utcnow
from tests.factories import make_follow, make_posts, make_user, token_for
from tests.statements import counting

# Every test seeds a site big enough to page through, at two page sizes: seconds each.
pytestmark = pytest.mark.slow

MAX_STATEMENTS = 6
SMALL, LARGE = 5, 25



def rel_next(html: str) -> str:
    match = re.search(r'rel="next" href="([^"]+)"', html)
    assert match, "no next page"
    return match.group(1).replace("&amp;", "&")


@pytest.fixture(params=[SMALL, LARGE], ids=["5-per-page", "25-per-page"])
def per_page(request) -> int:
    return request.param


@pytest.fixture
def site(make_app, per_page):
    """alice follows ten people who have posted plenty; each of them has followers of their own."""
    app = make_app(POSTS_PER_PAGE=per_page, USERS_PER_PAGE=per_page)
    start = utcnow() - timedelta(days=30)
    with app.app_context():
        alice = make_user("alice")
        authors = [make_user(f"author{i}") for i in range(10)]
        fans = [make_user(f"fan{i}") for i in range(2 * LARGE)]
        for i, author in enumerate(authors):
            make_follow(alice, author)
            make_posts(author, 3 * LARGE, start=start + timedelta(seconds=i))
        for fan in fans:
            make_follow(fan, authors[0])
        make_posts(alice, 5)
        # Conversations on every page: reposts in the home timeline (of people alice does not follow),
        # posts that mention people, likes and bookmarks by the viewer.
        stranger = make_user("stranger")
        newest = utcnow() - timedelta(minutes=2 * LARGE - 0.5)
        for i, post in enumerate(make_posts(stranger, 2 * LARGE, start=newest)):
            post.body = f"@alice @nobody{i} @author{i % 10} #tag{i % 3} {post.body}"
            db.session.add(Announce(user_id=authors[i % 10].id, post_id=post.id,
                                    created_at=utcnow() - timedelta(minutes=3 * i)))
            db.session.add(Like(user_id=alice.id, post_id=post.id))
            db.session.add(Bookmark(user_id=alice.id, post_id=post.id))
        db.session.commit()
        ids = {"alice": alice.id, "author": authors[0].id}
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    return app, client, ids


def statements_for(app, client, path: str, method: str = "GET", **kwargs) -> list[str]:
    """The statements of one request, after a first one has warmed up what a process caches."""
    assert client.open(path, method=method, **kwargs).status_code < 400, path
    with counting(app) as statements:
        response = client.open(path, method=method, **kwargs)
    assert response.status_code < 400, (path, response.status_code)
    return statements


def deep(client, path: str, hops: int = 2, headers: dict | None = None) -> str:
    """The URL of a page a few "Older" links down from ``path``."""
    url = path
    for _ in range(hops):
        if path.startswith("/api/"):
            url = client.get(url, headers=headers or {}).json["_links"]["next"]
        else:
            url = rel_next(client.get(url).get_data(as_text=True))
    return url


@pytest.mark.parametrize("path", [
    "/", "/explore", "/user/author0", "/user/author0/followers", "/user/author0/following",
])
def test_pages_use_few_statements(site, per_page, path):
    app, client, _ = site
    first = statements_for(app, client, path)
    assert len(first) <= MAX_STATEMENTS, first
    if path.endswith("following"):
        return  # author0 follows nobody: one page only
    deeper = statements_for(app, client, deep(client, path, hops=1 if "followers" in path else 2))
    assert len(deeper) == len(first), deeper
    by_number = statements_for(app, client, path + "?page=2")
    assert len(by_number) == len(first), by_number


def test_search_uses_few_statements(site):
    app, client, _ = site
    if "main.search" not in app.view_functions:
        pytest.skip("no /search in this tree yet")
    from microblog import search

    with app.app_context():
        search.reindex()  # the factories write rows directly, bypassing the indexing jobs
    statements = statements_for(app, client, "/search?q=says")
    assert len(statements) <= MAX_STATEMENTS, statements


def test_people_search_uses_few_statements(site, per_page):
    """A page of people found, each with a Follow button: their standing with the viewer in one statement."""
    app, client, _ = site
    from microblog import search

    with app.app_context():
        search.reindex()
    path = "/search?q=fan*&type=people"
    statements = statements_for(app, client, path)
    html = client.get(path).get_data(as_text=True)
    assert html.count("data-follow-form") == per_page
    assert len(statements) <= MAX_STATEMENTS, statements
    assert len(statements_for(app, client, rel_next(html))) == len(statements)


def is_suggestions(statement: str) -> bool:
    return "followed_by" in statement


@pytest.mark.parametrize("path", ["/", "/explore", "/people/suggestions", "/user/fan0/following"])
def test_who_to_follow_costs_nothing_on_a_warm_cache(site, path):
    """Suggestions come from a per-person cache: no statement on a warm one, one on a cold one, still
    within the budget."""
    app, client, _ = site
    warm = statements_for(app, client, path)
    assert not any(is_suggestions(s) for s in warm), warm
    app.extensions.setdefault("who_to_follow", {}).clear()
    with counting(app) as cold:
        assert client.get(path).status_code == 200
    assert len(cold) <= MAX_STATEMENTS, cold
    expected = 0 if "following" in path else 1
    assert sum(is_suggestions(s) for s in cold) == expected, cold


@pytest.mark.parametrize("path", [
    "/api/users/{author}", "/api/users/{author}/followers", "/api/timeline", "/api/posts",
    "/api/users/{author}/posts",
])
def test_api_reads_use_few_statements(site, per_page, path):
    app, client, ids = site
    headers = token_for(client, "alice")
    url = path.format(**ids) + f"?per_page={per_page}"
    first = statements_for(app, client, url, headers=headers)
    assert len(first) <= MAX_STATEMENTS, first
    if path == "/api/users/{author}":
        return
    later = statements_for(app, client, deep(client, url, hops=1, headers=headers), headers=headers)
    assert len(later) == len(first), later


def test_posting_uses_few_statements_and_leaves_indexing_to_a_job(site, monkeypatch):
    app, client, _ = site
    queued = []
    # Indexing and notifications are after-commit jobs: recorded here, not run in the request.
    monkeypatch.setattr(jobs, "enqueue", lambda func, *args, **kw: queued.append(func.__name__))
    statements = statements_for(app, client, "/", method="POST", data={"post": "counting my queries"})
    assert len(statements) <= MAX_STATEMENTS, statements
    assert queued, "posting queued no background work"


def test_posting_images_uses_few_statements_and_leaves_the_resize_to_a_job(site, monkeypatch):
    """One image: within the budget. More images add nothing but the rows' INSERTs (on SQLite,
    SQLAlchemy inserts rows with a database-made key one at a time; PostgreSQL takes them in one)."""
    import io

    from tests import media_samples

    app, client, _ = site
    queued = []
    monkeypatch.setattr(jobs, "enqueue", lambda func, *args, **kw: queued.append(func.__name__))

    def statements_posting(images: int) -> list[str]:
        data: dict = {"post": f"{images} pictures"}
        for slot in range(images):
            photo = media_samples.jpeg_bytes(40 + slot, 30 + images)
            data[f"media-{slot}"] = (io.BytesIO(photo), "photo.jpg")
            data[f"alt-{slot}"] = f"picture {slot}"
        queued.clear()
        with counting(app) as statements:
            assert client.post("/", data=data, content_type="multipart/form-data").status_code == 302
        assert queued.count("process_media") == images
        return statements

    def others(statements: list[str]) -> list[str]:
        return [s for s in statements if not s.startswith("INSERT INTO media")]

    statements_posting(1)  # warm-up
    one, four = statements_posting(1), statements_posting(4)
    assert len(one) <= MAX_STATEMENTS, one
    assert len(others(four)) == len(others(one)), four
    assert 1 <= len(four) - len(others(four)) <= 4  # one INSERT (PostgreSQL) or one per image (SQLite)


@pytest.mark.parametrize("path", ["/", "/explore", "/user/stranger"])
def test_pages_use_few_statements_with_a_cold_card_cache(site, path):
    """Rendering cards that are not cached yet looks up the people they mention: one statement more
    at most, still within the budget."""
    app, client, _ids = site
    assert client.get(path).status_code == 200
    app.extensions["post_cards"]._data.clear()
    with counting(app) as statements:
        assert client.get(path).status_code == 200
    assert len(statements) <= MAX_STATEMENTS, statements
    assert any("lower(user.username) IN" in s or 'lower("user".username) IN' in s for s in statements), \
        "the mentioned names were not looked up"


# -- pages full of images ------------------------------------------------------------------------------

def fake_key(seed: str, ext: str) -> str:
    """A well-formed public key (no file behind it: these pages only link to files)."""
    from microblog.media_storage import key_for

    return key_for(hashlib.sha256(seed.encode()).hexdigest(), ext)


def with_images(posts: list, per_post: int = 4) -> None:
    """Give each post ``per_post`` processed images (rows as the job leaves them), in one insert."""
    rows = []
    for post in posts:
        post.media_count = per_post
        for position in range(per_post):
            seed = f"{post.id}-{position}"
            rows.append({
                "user_id": post.user_id, "post_id": post.id, "position": position,
                "status": MediaStatus.READY, "digest": hashlib.sha256(seed.encode()).hexdigest(),
                "description": f"picture {seed}", "mime": "image/jpeg", "file_key": fake_key(seed, "jpg"),
                "thumbnail_key": fake_key(seed + "t", "jpg"), "width": 1920, "height": 1280,
                "thumbnail_width": 480, "thumbnail_height": 320, "colour": "#336699",
                "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj", "size_bytes": 300_000,
                "created_at": post.timestamp, "processed_at": post.timestamp})
    db.session.execute(sa.insert(Media), rows)


@pytest.fixture
def image_site(make_app, per_page):
    """alice follows four people whose every post has four images, and who have profile pictures."""
    app = make_app(POSTS_PER_PAGE=per_page)
    start = utcnow() - timedelta(days=30)
    with app.app_context():
        alice = make_user("alice")
        for i in range(4):
            author = make_user(f"author{i}", avatar_key=fake_key(f"avatar{i}", "jpg"),
                               header_key=fake_key(f"header{i}", "jpg"))
            make_follow(alice, author)
            with_images(make_posts(author, 3 * LARGE, start=start + timedelta(seconds=i)))
        db.session.commit()
    client = app.test_client()
    client.post("/auth/login", data={"username": "alice", "password": "correct-horse"})
    return app, client


def images_shown(html: str) -> int:
    return len(re.findall(r'<img[^>]* src="/media/m/', html))


@pytest.mark.parametrize("cold", [False, True], ids=["warm", "cold-card-cache"])
@pytest.mark.parametrize("path", ["/", "/explore", "/user/author0"])
def test_pages_full_of_images_use_few_statements(image_site, per_page, path, cold):
    app, client = image_site
    counts = []
    for url in (path, deep(client, path)):
        page = client.get(url)
        assert page.status_code == 200
        # Every post of the page shows its four thumbnails (and profile pages their avatar too).
        assert images_shown(page.get_data(as_text=True)) >= 4 * per_page
        if cold:
            app.extensions["post_cards"]._data.clear()
        with counting(app) as statements:
            assert client.get(url).status_code == 200
        assert len(statements) <= MAX_STATEMENTS, statements
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    # The images of a page come in one statement, whatever their number.
    assert sum("FROM media" in s for s in statements) == 1, statements
