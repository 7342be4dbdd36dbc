"""Export files: the folder they live in, their names, and the CSV and JSON writers that fill them.

Shared by the users' own exports (``services.exports``) and the site exports
(``services.admin_exports``), so both follow one rule for what is written (dates in ISO 8601 UTC,
text cells safe from spreadsheet formulas) and for which file may be served.
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from flask import current_app

from microblog.models import TASK_DONE, Task
from microblog.services import tasks
from microblog.timeutil import utcnow

# Rows read per query: keeps memory flat however many rows there are (EXPORT_BATCH_SIZE overrides).
BATCH_SIZE = 500
# Cells a spreadsheet would read as a formula (OWASP "CSV injection"), plus the full-width forms
# that some spreadsheet locales treat the same way.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Only files named like this are ours to serve or sweep (posts-... and archive-... from users, users-...
# from admins).
FILE_RE = re.compile(r"^(posts|users|archive)-[A-Za-z0-9_-]{20,}\.(csv|json|zip)(\.partial)?$")


def batch_size() -> int:
    """Rows read per query: EXPORT_BATCH_SIZE, or BATCH_SIZE when that is not set."""
    return current_app.config.get("EXPORT_BATCH_SIZE") or BATCH_SIZE


def exports_dir() -> Path:
    return Path(current_app.config["EXPORTS_DIR"])


def is_export_file_name(name: str) -> bool:
    """True for a finished export file's name (one of ours, never a path elsewhere)."""
    return bool(FILE_RE.match(name)) and not name.endswith(".partial")


def finished_file(task: Task) -> Path | None:
    """The file a done task wrote, while it has not expired and is still there; None otherwise."""
    expiry = tasks.expires_at(task)
    if task.status != TASK_DONE or not task.result or expiry is None or utcnow() >= expiry:
        return None
    # The result is a bare file name we chose; refuse anything that could point elsewhere.
    if not is_export_file_name(task.result):
        return None
    path = exports_dir() / task.result
    return path if path.is_file() else None


@contextmanager
def new_file(kind: str, fmt: str) -> Iterator[tuple[IO[str], Path]]:
    """Open a new export file for writing; yields it and the path where it will be.

    The file is written as ``<name>.partial`` and appears under its final name only once the block
    completes: a failed or interrupted export leaves nothing that looks finished.
    """
    final, partial = _new_names(kind, fmt)
    # utf-8-sig writes a byte order mark, which tells Excel the CSV is UTF-8.
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    try:
        with open(partial, "w", encoding=encoding, newline="") as fh:
            yield fh, final
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def new_binary_file(kind: str, fmt: str) -> Iterator[tuple[IO[bytes], Path]]:
    """As :func:`new_file`, for a file written as bytes (a zip archive)."""
    final, partial = _new_names(kind, fmt)
    try:
        with open(partial, "wb") as fh:
            yield fh, final
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)


def _new_names(kind: str, fmt: str) -> tuple[Path, Path]:
    """The final and the ``.partial`` path of a new export file, in the (created) exports folder."""
    directory = exports_dir()
    directory.mkdir(parents=True, exist_ok=True)
    # The random part makes the name unguessable, should the folder ever be served directly.
    final = directory / f"{kind}-{secrets.token_urlsafe(24)}.{fmt}"
    return final, final.with_name(final.name + ".partial")


def iso(value: datetime) -> str:
    """ISO 8601 in UTC to the second, e.g. 2024-05-01T12:30:00Z."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def csv_safe(value: Any) -> Any:
    """Neutralise a spreadsheet formula: text starting with = + - @ (or tab, CR) gets a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: dates in ISO 8601, text through :func:`csv_safe`."""
    return iso(value) if isinstance(value, datetime) else csv_safe(value)


class CsvWriter:
    """A header row, then one row per result row; every cell passes through :func:`csv_cell`."""

    def __init__(self, fh: IO[str], header: Sequence[str]) -> None:
        self._writer = csv.writer(fh)
        self._writer.writerow(header)

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        self._writer.writerows([csv_cell(value) for value in row] for row in rows)

    def close(self) -> None:
        pass


class JsonWriter:
    """``{"username", "exported_at", "profile": {...}, "posts": [{id, created_at, body, visibility,
    content_warning, in_reply_to_id, edited_at, media: [...]}, ...]}``, written as it goes."""

    def __init__(self, fh: IO[str], username: str, exported_at: datetime,
                 profile: dict[str, Any] | None = None) -> None:
        self._fh = fh
        self._first = True
        head = {"username": username, "exported_at": iso(exported_at), "profile": profile or {}}
        fh.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "posts": [')

    def write(self, rows: Sequence[Any], media: Mapping[int, list[dict[str, Any]]] | None = None) -> None:
        """Write these posts, each with its images from ``media`` (by post id; none when missing)."""
        for row in rows:
            item = {"id": row.id, "created_at": iso(row.timestamp), "body": row.body,
                    "visibility": row.visibility, "content_warning": row.summary,
                    "in_reply_to_id": row.in_reply_to_id,
                    "edited_at": iso(row.edited_at) if row.edited_at else None,
                    "media": (media or {}).get(row.id, [])}
            self._fh.write(("\n  " if self._first else ",\n  ") + json.dumps(item, ensure_ascii=False))
            self._first = False

    def close(self) -> None:
        self._fh.write("\n]}\n" if not self._first else "]}\n")
