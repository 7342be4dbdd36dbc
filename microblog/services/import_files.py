"""Reading the CSV files Mastodon exports (follows, blocks, mutes, bookmarks) into a list of values.

Mastodon's files (``app/models/form/import.rb``): ``following_accounts.csv`` has the header
``Account address,Show boosts,Notify on new posts,Languages``; ``muted_accounts.csv`` has
``Account address,Hide notifications``; ``blocked_accounts.csv`` is one address a line with no header;
``bookmarks.csv`` is one post URL a line with no header. As Mastodon does, a file whose first cell is
not a known header is read as one column without a header, blank lines are skipped, and a leading
``@`` is dropped from addresses. A byte order mark and CRLF line ends are fine.

The file names and headers are the export's (``archive_csv``): what we write is what we read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import gettext as _

from microblog.exceptions import ValidationError
from microblog.models import IMPORT_VALUE_MAX
from microblog.services import archive_csv

FOLLOWING, BLOCKS, MUTES, BOOKMARKS = "following", "blocks", "mutes", "bookmarks"
KINDS = (FOLLOWING, BLOCKS, MUTES, BOOKMARKS)
ACCOUNT_KINDS = (FOLLOWING, BLOCKS, MUTES)

ACCOUNT_ADDRESS = archive_csv.FOLLOWING_HEADER[0]  # "Account address"
URI = "#uri"
# Mastodon's headers for each kind (the first column is the one we read).
HEADERS: dict[str, tuple[str, ...]] = {
    FOLLOWING: archive_csv.FOLLOWING_HEADER,
    BLOCKS: (ACCOUNT_ADDRESS,),
    MUTES: archive_csv.MUTED_HEADER,
    BOOKMARKS: (URI,),
}
# A file starting with one of these has a header line (Mastodon's KNOWN_FIRST_HEADERS).
KNOWN_FIRST_HEADERS = (ACCOUNT_ADDRESS, "#domain", URI, "List name")
# What Mastodon names its files: a file named for another kind was probably picked by mistake.
def _stem(file_name: str) -> str:
    return file_name.removesuffix(".csv")


FILE_NAMES: dict[str, tuple[str, ...]] = {
    FOLLOWING: (_stem(archive_csv.FOLLOWING_ACCOUNTS), "follows"),
    BLOCKS: (_stem(archive_csv.BLOCKED_ACCOUNTS), "blocks"),
    MUTES: (_stem(archive_csv.MUTED_ACCOUNTS), "mutes"),
    BOOKMARKS: (_stem(archive_csv.BOOKMARKS),),
}


@dataclass(frozen=True)
class ParsedFile:
    """The values of a file's data lines, in order (a line's number is its index + 1)."""

    kind: str
    values: list[str]


def kind_label(kind: str) -> str:
    """The kind's name for people (in messages about a file)."""
    return {FOLLOWING: _("follows"), BLOCKS: _("blocked accounts"), MUTES: _("muted accounts"),
            BOOKMARKS: _("bookmarks")}[kind]


def parse_file(kind: str, data: bytes, filename: str | None, max_rows: int) -> ParsedFile:
    """The values of ``data``, a CSV file of ``kind``.

    :raises ValidationError: (on the field ``file``) the file is empty, not UTF-8 text, not CSV, of
        another kind, or longer than ``max_rows`` lines.
    """
    if kind not in KINDS:
        raise ValidationError(_("Choose what the file holds."), field="kind")
    text = _decode(data)
    _check_file_name(kind, filename)
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), strict=True)
                if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ValidationError(_("This is not a valid CSV file."), field="file") from exc
    if not rows:
        raise ValidationError(_("The file is empty."), field="file")
    column = 0
    first = [cell.strip() for cell in rows[0]]
    if first[0] in KNOWN_FIRST_HEADERS:
        column = _column(kind, first)
        rows = rows[1:]
    if not rows:
        raise ValidationError(_("The file has a header but no %(what)s.", what=kind_label(kind)),
                              field="file")
    if len(rows) > max_rows:
        raise ValidationError(_("The file has more than %(num)d lines: split it into smaller files.",
                                num=max_rows), field="file")
    values = [_value(kind, row[column] if column < len(row) else "") for row in rows]
    _check_values(kind, values)
    return ParsedFile(kind, values)


def _decode(data: bytes) -> str:
    if not data.strip():
        raise ValidationError(_("The file is empty."), field="file")
    try:
        text = data.decode("utf-8-sig")  # Excel and Notepad start UTF-8 files with a byte order mark
    except UnicodeDecodeError as exc:
        raise ValidationError(_("The file is not UTF-8 text: save it as CSV (UTF-8) and try again."),
                              field="file") from exc
    if "\x00" in text:
        raise ValidationError(_("This is not a CSV file."), field="file")
    return text


def _check_file_name(kind: str, filename: str | None) -> None:
    name = (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower()
    for other, prefixes in FILE_NAMES.items():
        if other != kind and name.startswith(prefixes) and not name.startswith(FILE_NAMES[kind]):
            raise _wrong_kind(kind, other)


def _column(kind: str, header: list[str]) -> int:
    """The column to read, from a header line; a header of another kind is refused."""
    guessed = None
    if "Hide notifications" in header:
        guessed = MUTES
    elif {"Show boosts", "Notify on new posts", "Languages"} & set(header):
        guessed = FOLLOWING
    elif URI in header:
        guessed = BOOKMARKS
    wanted = HEADERS[kind][0]
    if (guessed is not None and guessed != kind) or wanted not in header:
        raise _wrong_kind(kind, guessed)
    return header.index(wanted)


def _wrong_kind(kind: str, other: str | None) -> ValidationError:
    if other is None:
        message = _("This file does not hold %(what)s.", what=kind_label(kind))
    else:
        message = _("This file holds %(other)s, not %(what)s: choose the kind that matches the file.",
                    other=kind_label(other), what=kind_label(kind))
    return ValidationError(message, field="file")


def _value(kind: str, cell: str) -> str:
    value = cell.strip()
    if kind in ACCOUNT_KINDS:
        value = value.removeprefix("@")
    return value[:IMPORT_VALUE_MAX]


def _looks_like_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _check_values(kind: str, values: list[str]) -> None:
    """Refuse a header-less file of the other family: links where addresses belong, or the reverse.
    A few odd lines are left to the job, which reports each one."""
    urls = sum(1 for value in values if _looks_like_url(value))
    if kind == BOOKMARKS and urls == 0:
        raise _wrong_kind(kind, None)
    if kind in ACCOUNT_KINDS and urls == len(values):
        raise _wrong_kind(kind, BOOKMARKS)
