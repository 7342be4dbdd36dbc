"""Mastodon's CSV formats for follows, blocks, mutes and bookmarks: file names, headers, rows, writers.

They match what Mastodon exports (``app/models/export.rb``) byte for byte, so the files import into
Mastodon and anything that reads its exports: UTF-8 without a byte order mark, ``\\n`` line ends, a
cell quoted only when it must be, ``true``/``false`` for booleans, an empty cell for nothing.
``following_accounts.csv`` and ``muted_accounts.csv`` start with a header; ``blocked_accounts.csv``
and ``bookmarks.csv`` have none (one account address or one post URL a line). An account address is
``username@host``. The importer of the same files shares these constants.

No spreadsheet-formula guard here (unlike ``export_writers.csv_cell``): a leading ``'`` would change
the address; usernames are letters, digits and ``_``, and URLs start with a scheme.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import IO

FOLLOWING_ACCOUNTS = "following_accounts.csv"
BLOCKED_ACCOUNTS = "blocked_accounts.csv"
MUTED_ACCOUNTS = "muted_accounts.csv"
BOOKMARKS = "bookmarks.csv"

FOLLOWING_HEADER: tuple[str, ...] = ("Account address", "Show boosts", "Notify on new posts", "Languages")
MUTED_HEADER: tuple[str, ...] = ("Account address", "Hide notifications")
# File name -> its header row; None: the file has no header (Mastodon writes none).
HEADERS: dict[str, tuple[str, ...] | None] = {
    FOLLOWING_ACCOUNTS: FOLLOWING_HEADER,
    BLOCKED_ACCOUNTS: None,
    MUTED_ACCOUNTS: MUTED_HEADER,
    BOOKMARKS: None,
}

# Ruby's CSV writes booleans as these words.
TRUE, FALSE = "true", "false"


def boolean(value: bool) -> str:
    return TRUE if value else FALSE


def following_row(address: str, *, show_boosts: bool = True, notify: bool = False,
                  languages: Sequence[str] = ()) -> tuple[str, ...]:
    """A followed account. Our follows have no settings: reposts are shown, new posts not notified,
    no language filter (Mastodon's defaults); Mastodon joins languages with ", "."""
    return address, boolean(show_boosts), boolean(notify), ", ".join(languages)


def muted_row(address: str, *, hide_notifications: bool = True) -> tuple[str, ...]:
    """A muted account; our mutes hide their notifications too."""
    return address, boolean(hide_notifications)


def blocked_row(address: str) -> tuple[str, ...]:
    return (address,)


def bookmark_row(post_url: str) -> tuple[str, ...]:
    return (post_url,)


class MastodonCsvWriter:
    """Writes one of the files above to ``fh`` (text, opened with ``newline=""``), header first
    when the file has one, then rows as they come."""

    def __init__(self, fh: IO[str], name: str) -> None:
        # Ruby's CSV: "\n" after each row, quotes only around cells holding a comma, a quote or a line end.
        self._writer = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        header = HEADERS[name]
        if header is not None:
            self._writer.writerow(header)

    def write(self, rows: Iterable[Sequence[str]]) -> None:
        self._writer.writerows(rows)
