"""The page frame (base.html): the current section marked in the navbar, the sidebar and what it holds."""

from __future__ import annotations

import re

import pytest

from microblog.services import posts
from tests.factories import find_user, make_user


def current_links(html: str) -> dict[str, str]:
    """{link text: aria-current} of the navbar links that are marked."""
    navbar = html[html.index('<nav class="navbar'):html.index("</nav>")]
    found = {}
    for attrs, text in re.findall(r"<a ([^>]*aria-current[^>]*)>(.*?)</a>", navbar, re.S):
        label = re.sub(r"<[^>]+>|\s+", " ", text).strip()
        found[label] = re.search(r'aria-current="([^"]+)"', attrs).group(1)
    return found


@pytest.fixture
def signed_in(app, client, auth):
    with app.app_context():
        make_user("alice")
        make_user("bob")
    auth.login()
    return client


@pytest.mark.parametrize(("path", "marked"), [
    ("/index", {"Home": "page"}),
    ("/explore", {"Explore": "page"}),
    ("/tags/tea", {"Explore": "true"}),
    ("/messages", {"Messages": "page"}),
    ("/messages/bob", {"Messages": "true"}),
    ("/user/alice", {"Profile": "page"}),
    ("/user/alice/followers", {"Profile": "true"}),
    ("/edit_profile", {"Profile": "true"}),
    ("/user/bob", {}),
])
def test_the_navbar_marks_the_current_section(signed_in, path, marked):
    html = signed_in.get(path).get_data(as_text=True)
    found = current_links(html)
    found.pop("Notifications", None)  # its text holds the hidden unread count
    assert found == marked
    assert ('class="nav-link active"' in html) == bool(marked)


def test_visitors_see_the_sign_in_page_marked(client):
    assert current_links(client.get("/auth/login").get_data(as_text=True)) == {"Sign in": "page"}


def test_the_sidebar_holds_writing_trends_and_your_pages(app, signed_in):
    with app.app_context():
        posts.publish_post(find_user("bob"), "Trains again #trains")
    html = signed_in.get("/user/bob").get_data(as_text=True)
    sidebar = html[html.index('<aside class="site-sidebar"'):html.index("</aside>")]
    assert 'href="/index#post"' in sidebar and ">New post<" in sidebar
    assert 'href="/tags/trains"' in sidebar  # the trending list
    assert 'href="/bookmarks"' in sidebar and 'href="/edit_profile"' in sidebar
    home = signed_in.get("/index").get_data(as_text=True)
    assert "New post<" not in home  # the composer is on the page itself
    explore = signed_in.get("/explore").get_data(as_text=True)
    assert explore.count('id="trending-heading"') == 1  # in the column, not twice


def test_visitors_get_an_invitation_in_the_sidebar(client):
    html = client.get("/explore").get_data(as_text=True)
    assert 'aria-labelledby="sidebar-join-heading"' in html
    assert 'aria-labelledby="sidebar-join-heading"' not in client.get("/auth/login").get_data(as_text=True)


def test_the_admin_area_takes_the_whole_width(app, client, auth):
    with app.app_context():
        make_user("alice", role="admin")
    auth.login()
    html = client.get("/admin/").get_data(as_text=True)
    assert "site-layout-wide" in html and '<aside class="site-sidebar"' not in html
