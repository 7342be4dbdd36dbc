"""Search by offset and limit, as Mastodon's clients ask for it (``offset=40&limit=20``), over the
page-numbered search of services.search: the same index, the same visibility rules.

An offset that is a whole number of pages asks for that page; any other asks for the first
``offset + limit`` results and keeps the last ``limit`` (search shows at most MAX_RESULTS anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa

from microblog.exceptions import NotFound
from microblog.extensions import db
from microblog.models import ID_MAX, Post, User, followers
from microblog.paging import Page
from microblog.search.query import And, Author, ParsedQuery, parse
from microblog.services import accounts
from microblog.services.search import MAX_RESULTS, search_posts, search_users


def _window(find: Callable[[int, int], Page], offset: int, limit: int) -> list:
    offset = max(offset, 0)
    if offset >= MAX_RESULTS:
        return []
    if offset % limit == 0:
        return list(find(offset // limit + 1, limit).items)
    return list(find(1, offset + limit).items)[offset:]


def posts_slice(text: str, viewer: User, offset: int, limit: int, author_id: int | None = None) -> list[Post]:
    """Posts matching ``text`` (the search box's syntax) that ``viewer`` may see in a list, best first;
    only those of the account ``author_id`` when given.

    :raises NotFound: there is no (active) account ``author_id``.
    :raises SearchUnavailable: the index is missing or broken.
    """
    author = db.session.get(User, author_id) if author_id is not None and 0 < author_id <= ID_MAX else None
    if author_id is not None and (author is None or author.deactivated_at is not None):
        raise NotFound("Record not found")
    parsed = parse(text)
    if parsed.node is not None and author is not None:
        parsed = ParsedQuery(parsed.text, And((parsed.node, Author(author.username))), parsed.notices)
    return _window(lambda page, per_page: search_posts(parsed, page, per_page, viewer=viewer), offset, limit)


def people_slice(text: str, offset: int, limit: int, following_of: User | None = None) -> list[User]:
    """People whose name or about-me matches ``text``, best first; the account with exactly that name
    (``alice``, ``@alice``) first of all. ``following_of``: only the people that user follows.

    :raises SearchUnavailable: the index is missing or broken.
    """
    text = text.strip()
    name = text.removeprefix("@")
    exact = accounts.get_user_by_username(name) if name and " " not in name else None
    if exact is not None and exact.deactivated_at is not None:
        exact = None
    # "@alice" is the person, not a search for her posts: look for the name as a word.
    found = _window(lambda page, per_page: search_users(parse(name), page, per_page), offset, limit)
    people = ([exact] if exact is not None and offset == 0 else []) + [p for p in found if p != exact]
    if following_of is not None:
        people = _followed_among(following_of, people)
    return people[:limit]


def _followed_among(user: User, people: Sequence[User]) -> list[User]:
    ids = [person.id for person in people]
    followed = set(db.session.scalars(sa.select(followers.c.followed_id).where(
        followers.c.follower_id == user.id, followers.c.followed_id.in_(ids)))) if ids else set()
    return [person for person in people if person.id in followed]
