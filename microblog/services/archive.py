"""The whole-account archive: one zip of a user's profile, posts and their images, likes, bookmarks,
reposts, followers, follows, blocks, mutes and private messages, plus Mastodon's CSVs of the follows,
blocks, mutes and bookmarks (``services.archive_csv``) and a README in the owner's language.

``services.exports`` runs it as the ``archive`` kind of export (same task, progress, mail, download
and retention). Every list is read a batch of EXPORT_BATCH_SIZE rows at a time by keyset paging and
streamed into its zip entry, and images are copied one at a time from the media storage (local or
S3): the archive is never held in memory. The zip is written under a ``.partial`` name and renamed
once complete (``export_writers.new_binary_file``).
"""

from __future__ import annotations

import io
import json
import logging
import mimetypes
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, render_template
from flask_babel import force_locale

from microblog.extensions import db
from microblog.external_urls import account_address, external_url, site_host
from microblog.media_storage import MissingFile, storage
from microblog.models import (
    Announce,
    Block,
    Bookmark,
    Like,
    Media,
    Message,
    Mute,
    Post,
    PostTag,
    Tag,
    Task,
    User,
)
from microblog.models.follows import followers
from microblog.services import archive_csv, export_writers, tasks
from microblog.timeutil import utcnow

log = logging.getLogger(__name__)

FILE_KIND = "archive"  # export file names: archive-<random>.zip
MEDIA_DIR = "media/"
README = "README.txt"


# -- the job's body --------------------------------------------------------------------------------
def write_archive(task: Task) -> tuple[Path, int]:
    """Write the task owner's archive; returns the finished file and how many posts it holds."""
    user = task.user
    host = site_host()
    posts = _posts_listing(user)
    lists = _json_listings(user, host)
    csvs = _csv_listings(user, host)
    media = _media_query(user)
    total = sum(_count(part.query) for part in (posts, *lists, *csvs.values())) + _count(media)
    progress = _Progress(task, total)
    with export_writers.new_binary_file(FILE_KIND, "zip") as (fh, final):
        # ZIP_DEFLATED for the text; images go in as they are (STORED): JPEG, PNG, WebP and GIF are
        # compressed already, so deflating them again costs time and saves nothing.
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _write_profile(archive, user, host)
            count = _write_json(archive, posts, user, progress)
            _copy_post_media(archive, media, progress)
            for listing in lists:
                _write_json(archive, listing, user, progress)
            for name, listing in csvs.items():
                _write_csv(archive, name, listing, progress)
            _write_readme(archive, user, host)
    return final, count


class _Progress:
    """Rows written out of the total, reported on the task (which beats its heartbeat too)."""

    def __init__(self, task: Task, total: int) -> None:
        self.task, self.total, self.done = task, total, 0

    def advance(self, count: int) -> None:
        self.done += count
        tasks.report_progress(self.task, self.done, self.total)


@dataclass(frozen=True)
class _Listing:
    """One list in the archive. ``query`` selects its rows, and its first ``keys`` columns are the
    keyset they are paged by (unique together); ``item`` turns a row into what is written, after
    ``prepare`` (if any) read what a whole batch needs in one statement."""

    name: str
    query: sa.Select
    item: Callable[[Any], Any]
    keys: int = 1
    prepare: Callable[[Sequence[Any]], None] | None = None


def _count(query: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0


def _pages(query: sa.Select, keys: int = 1) -> Iterator[Sequence[sa.Row]]:
    """The rows of ``query`` a batch at a time, in keyset order: each batch is one bounded query
    that starts after the last row of the one before (no OFFSET, nothing skipped or repeated)."""
    size = export_writers.batch_size()
    columns = list(query.selected_columns)[:keys]
    ordered = query.order_by(*columns).limit(size)
    after: tuple[Any, ...] | None = None
    while True:
        page = ordered
        if after is not None:
            if keys == 1:
                page = page.where(columns[0] > after[0])
            else:  # (a, b) > (x, y), spelled out: SQLite and PostgreSQL both use the index for it
                page = page.where(sa.or_(columns[0] > after[0],
                                         sa.and_(columns[0] == after[0], columns[1] > after[1])))
        rows = db.session.execute(page).all()
        if rows:
            yield rows
        if len(rows) < size:
            return
        after = tuple(rows[-1][:keys])


@contextmanager
def _text_entry(archive: zipfile.ZipFile, name: str) -> Iterator[io.TextIOWrapper]:
    """A UTF-8 text file inside the zip, compressed as it is written."""
    # force_zip64: the size is not known up front, and a long account's posts may pass 2 GiB.
    with archive.open(name, "w", force_zip64=True) as raw, \
            io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        yield text


def _write_json(archive: zipfile.ZipFile, listing: _Listing, user: User, progress: _Progress) -> int:
    """``<name>.json``: ``{"username", "exported_at", "<name>": [...]}``, one item a line."""
    written = 0
    with _text_entry(archive, f"{listing.name}.json") as out:
        head = {"username": user.username, "exported_at": export_writers.iso(utcnow())}
        out.write(json.dumps(head, ensure_ascii=False)[:-1] + f', "{listing.name}": [')
        for rows in _pages(listing.query, listing.keys):
            if listing.prepare is not None:
                listing.prepare(rows)
            for row in rows:
                out.write(",\n  " if written else "\n  ")
                out.write(json.dumps(listing.item(row), ensure_ascii=False))
                written += 1
            progress.advance(len(rows))
        out.write("\n]}\n" if written else "]}\n")
    return written


def _write_csv(archive: zipfile.ZipFile, name: str, listing: _Listing, progress: _Progress) -> None:
    """One of Mastodon's CSV files, in its exact format (``services.archive_csv``)."""
    with _text_entry(archive, name) as out:
        writer = archive_csv.MastodonCsvWriter(out, name)
        for rows in _pages(listing.query, listing.keys):
            writer.write([listing.item(row) for row in rows])
            progress.advance(len(rows))


def _write_readme(archive: zipfile.ZipFile, user: User, host: str) -> None:
    """README.txt: what each file holds, in the owner's language."""
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = render_template("exports/archive_readme.txt", user=user, host=host,
                               exported_at=export_writers.iso(utcnow()))
    archive.writestr(README, text.encode("utf-8"))


# -- files -----------------------------------------------------------------------------------------
def media_name(stem: str | int, key: str, mime: str | None) -> str:
    """Where a stored file goes in the archive: ``media/<stem><extension of the stored file>``."""
    suffix = PurePosixPath(key).suffix or (mimetypes.guess_extension(mime) if mime else None) or ""
    return f"{MEDIA_DIR}{stem}{suffix}"


def _copy_file(archive: zipfile.ZipFile, key: str, name: str) -> bool:
    """Copy the stored file ``key`` into the archive as ``name``; False when the storage lost it
    (the archive goes on without it; any other storage error fails the export, to be retried)."""
    try:
        data = storage().get(key)
    except MissingFile:
        log.warning("archive: stored file %s is missing, left out", key)
        return False
    archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
    return True


def _write_profile(archive: zipfile.ZipFile, user: User, host: str) -> None:
    """profile.json, and the profile picture and header image under media/ when the account has them."""
    pictures: dict[str, str | None] = {}
    for kind, key in (("avatar", user.avatar_key), ("header", user.header_key)):
        name = media_name(kind, key, None) if key else None
        pictures[kind] = name if name and key and _copy_file(archive, key, name) else None
    profile = {
        "username": user.username,
        "account": account_address(user.username, host),
        "url": external_url("main.user", username=user.username),
        "email": user.email,
        "about_me": user.about_me,
        "created_at": export_writers.iso(user.created_at),
        "language": user.locale,
        "time_zone": user.timezone,
        "theme": user.theme,
        "default_visibility": user.default_visibility,
        "counts": {"posts": user.post_count, "followers": user.follower_count,
                   "following": user.following_count},
        "avatar": pictures["avatar"],
        "header": pictures["header"],
        "exported_at": export_writers.iso(utcnow()),
    }
    archive.writestr("profile.json", json.dumps(profile, ensure_ascii=False, indent=2) + "\n")


def _media_query(user: User) -> sa.Select:
    """The processed images of the user's posts (those with a file), by id."""
    return (sa.select(Media.id, Media.file_key, Media.mime)
            .join(Post, Post.id == Media.post_id)
            .where(Post.user_id == user.id, Media.file_key.is_not(None)))


def _copy_post_media(archive: zipfile.ZipFile, query: sa.Select, progress: _Progress) -> None:
    """The posts' images, one file at a time (each is read whole, and only one is in memory)."""
    for rows in _pages(query):
        for row in rows:
            _copy_file(archive, row.file_key, media_name(row.id, row.file_key, row.mime))
            progress.advance(1)  # a beat per file: a slow storage must not look like a dead worker


# -- posts -----------------------------------------------------------------------------------------
def _posts_listing(user: User) -> _Listing:
    """posts.json: every post of the user as its author sees them (hidden ones too), oldest first,
    each with its tags and its images (their files in media/)."""
    query = (
        sa.select(Post.timestamp, Post.id, Post.body, Post.language, Post.visibility, Post.summary,
                  Post.in_reply_to_id, Post.edited_at, Post.hidden_at, Post.reply_count, Post.like_count,
                  Post.repost_count, Post.media_count)
        .where(Post.user_id == user.id, Post.visible_to(user, audience_checked=True))
    )
    extras: dict[str, dict[int, list[Any]]] = {"tags": {}, "media": {}}

    def prepare(rows: Sequence[Any]) -> None:
        ids = [row.id for row in rows]
        extras["tags"] = _tags_of(ids)
        extras["media"] = _media_of([row.id for row in rows if row.media_count])

    def item(row: Any) -> dict[str, Any]:
        return {
            "id": row.id,
            "url": external_url("main.post", post_id=row.id),
            "created_at": export_writers.iso(row.timestamp),
            "body": row.body,
            "language": row.language,
            "visibility": row.visibility,
            "content_warning": row.summary,
            "in_reply_to_id": row.in_reply_to_id,
            "edited_at": export_writers.iso(row.edited_at) if row.edited_at else None,
            "hidden_by_moderators": row.hidden_at is not None,
            "replies": row.reply_count,
            "likes": row.like_count,
            "reposts": row.repost_count,
            "tags": extras["tags"].get(row.id, []),
            "media": extras["media"].get(row.id, []),
        }

    return _Listing("posts", query, item, keys=2, prepare=prepare)


def _tags_of(post_ids: Sequence[int]) -> dict[int, list[str]]:
    """The hashtags of these posts, in one statement."""
    found: dict[int, list[str]] = {}
    rows = db.session.execute(sa.select(PostTag.post_id, Tag.name).join(Tag, Tag.id == PostTag.tag_id)
                              .where(PostTag.post_id.in_(post_ids)).order_by(PostTag.post_id, Tag.name))
    for post_id, name in rows:
        found.setdefault(post_id, []).append(name)
    return found


def _media_of(post_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The images of these posts with a file, in order, in one statement: their names in the archive."""
    if not post_ids:
        return {}
    found: dict[int, list[dict[str, Any]]] = {}
    rows = db.session.execute(
        sa.select(Media.post_id, Media.id, Media.file_key, Media.mime, Media.description, Media.width,
                  Media.height)
        .where(Media.post_id.in_(post_ids), Media.file_key.is_not(None))
        .order_by(Media.post_id, Media.position))
    for row in rows:
        found.setdefault(row.post_id, []).append({
            "file": media_name(row.id, row.file_key, row.mime), "description": row.description,
            "width": row.width, "height": row.height, "mime": row.mime})
    return found


# -- reactions, people, messages -------------------------------------------------------------------
def _reactions(name: str, model: type[Like] | type[Bookmark] | type[Announce], user: User) -> _Listing:
    """likes.json, bookmarks.json, reposts.json: the post (id and URL) and when."""
    query = sa.select(model.id, model.post_id, model.created_at).where(model.user_id == user.id)
    return _Listing(name, query, lambda row: {
        "post_id": row.post_id, "url": external_url("main.post", post_id=row.post_id),
        "created_at": export_writers.iso(row.created_at)})


def _people(name: str, key: Any, mine: Any, since: Any, host: str) -> _Listing:
    """followers.json, following.json, blocks.json, mutes.json: the other account (``key``, paged by
    its id) of each row where ``mine`` holds, and since when."""
    query = sa.select(key, User.username, since).join(User, User.id == key).where(mine)
    return _Listing(name, query, lambda row: {
        "username": row.username, "account": account_address(row.username, host),
        "url": external_url("main.user", username=row.username), "since": export_writers.iso(row[2])})


def _relations(user: User) -> dict[str, tuple[Any, Any, Any]]:
    """Per list of people: the other account's id column, the condition for the user's own rows,
    and the column saying since when."""
    return {
        "followers": (followers.c.follower_id, followers.c.followed_id == user.id, followers.c.created_at),
        "following": (followers.c.followed_id, followers.c.follower_id == user.id, followers.c.created_at),
        "blocks": (Block.blocked_id, Block.blocker_id == user.id, Block.created_at),
        "mutes": (Mute.muted_id, Mute.muter_id == user.id, Mute.created_at),
    }


def _messages(user: User) -> _Listing:
    """messages.json: the private messages the user sent and received (never anyone else's)."""
    sender, recipient = so.aliased(User), so.aliased(User)
    query = (
        sa.select(Message.id, Message.timestamp, Message.sender_id, sender.username.label("sender"),
                  recipient.username.label("recipient"), Message.body, Message.read_at)
        .join(sender, sender.id == Message.sender_id)
        .join(recipient, recipient.id == Message.recipient_id)
        .where(sa.or_(Message.sender_id == user.id, Message.recipient_id == user.id))
    )
    return _Listing("messages", query, lambda row: {
        "id": row.id, "sent_at": export_writers.iso(row.timestamp),
        "direction": "sent" if row.sender_id == user.id else "received",
        "from": row.sender, "to": row.recipient, "body": row.body,
        "read_at": export_writers.iso(row.read_at) if row.read_at else None})


def _json_listings(user: User, host: str) -> list[_Listing]:
    return [
        _reactions("likes", Like, user),
        _reactions("bookmarks", Bookmark, user),
        _reactions("reposts", Announce, user),
        *(_people(name, *relation, host=host) for name, relation in _relations(user).items()),
        _messages(user),
    ]


def _csv_listings(user: User, host: str) -> dict[str, _Listing]:
    """Mastodon's CSVs: the accounts (by id) the user follows, blocked and muted; the bookmarked posts."""
    relations = _relations(user)

    def accounts(name: str, row: Callable[[str], tuple[str, ...]]) -> _Listing:
        key, mine, _since = relations[name]
        query = sa.select(key, User.username).join(User, User.id == key).where(mine)
        return _Listing(name, query, lambda found: row(account_address(found.username, host)))

    bookmarks = sa.select(Bookmark.id, Bookmark.post_id).where(Bookmark.user_id == user.id)
    return {
        archive_csv.FOLLOWING_ACCOUNTS: accounts("following", archive_csv.following_row),
        archive_csv.BLOCKED_ACCOUNTS: accounts("blocks", archive_csv.blocked_row),
        archive_csv.MUTED_ACCOUNTS: accounts("mutes", archive_csv.muted_row),
        archive_csv.BOOKMARKS: _Listing("bookmarks", bookmarks, lambda found: archive_csv.bookmark_row(
            external_url("main.post", post_id=found.post_id))),
    }
