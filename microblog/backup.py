"""Backups of a site: the database (pg_dump, or SQLite's online backup), the search index folder and
the media folder.

`flask backup create` writes one dated folder; `flask backup restore` puts one back (the Makefile's
`make backup` and `make restore`). A backup folder holds ``backup.json`` (what it holds and the
schema revision), ``database.dump`` (PostgreSQL, pg_dump's custom format) or ``database.sqlite``,
and a copy of each data folder (:func:`data_folders`).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

MANIFEST = "backup.json"
FORMAT = 1
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite"


class BackupError(RuntimeError):
    """A backup could not be written or restored; the message says why."""


def database_url(app: Flask) -> sa.URL:
    return sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])


def data_folders(app: Flask) -> dict[str, Path]:
    """The folders a backup copies, by name: the Whoosh index when it is the search backend (the
    PostgreSQL backend keeps its index in the database), and the media files when they are on this
    machine (MEDIA_STORAGE=local; an S3 bucket is kept by its own means: versioning, replication).
    Exports are not kept: they expire anyway."""
    folders: dict[str, Path] = {}
    if app.config.get("SEARCH_BACKEND", "whoosh") == "whoosh" and app.config.get("WHOOSH_INDEX_DIR"):
        folders["search-index"] = Path(app.config["WHOOSH_INDEX_DIR"])
    if (app.config.get("MEDIA_STORAGE") or "local") == "local" and app.config.get("MEDIA_DIR"):
        folders["media"] = Path(app.config["MEDIA_DIR"])
    return folders


def create_backup(app: Flask, into: Path) -> Path:
    """Write a backup of the site into a new folder inside ``into``; returns that folder.

    The copy is written under a temporary name and renamed at the end, so a folder with a
    ``backup.json`` is always complete. It can be taken while the site runs.
    """
    from microblog.schema_check import database_revision

    url = database_url(app)
    into.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    final = _unused(into / f"microblog-{stamp}")
    partial = final.with_name(final.name + ".partial")
    partial.mkdir(mode=0o700)  # it holds password hashes and addresses
    try:
        if url.get_backend_name() == "postgresql":
            _pg_run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                     f"--file={partial / PG_DUMP}"], url)
        elif url.get_backend_name() == "sqlite":
            _sqlite_copy(_sqlite_path(url), partial / SQLITE_COPY)
        else:
            raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")
        copied = []
        for name, folder in data_folders(app).items():
            if folder.is_dir():
                copy = _copy_media if name == "media" else shutil.copytree
                copy(folder, partial / name)
                copied.append(name)
        manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "database": url.get_backend_name(), "revision": sorted(database_revision(app)),
                    "folders": copied}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(final)
    return final


def read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} is not a complete backup (no readable {MANIFEST})") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source} has backup format {manifest.get('format')}, this code reads {FORMAT}")
    return manifest


def restore_backup(app: Flask, source: Path) -> dict[str, Any]:
    """Replace the configured database and data folders with the backup in ``source``.

    Stop the web and worker processes first: the database's tables are dropped and created again.
    Returns the backup's manifest (its revision may be older than the code: run `flask db upgrade`).
    """
    manifest = read_manifest(source)
    url = database_url(app)
    if manifest["database"] != url.get_backend_name():
        raise BackupError(f"the backup holds a {manifest['database']} database but DATABASE_URL is "
                          f"{url.get_backend_name()}")
    if url.get_backend_name() == "postgresql":
        _pg_run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                 "--single-transaction", "--exit-on-error", f"--dbname={url.database}",
                 str(source / PG_DUMP)], url)
    else:
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source / SQLITE_COPY, target)
    folders = data_folders(app)
    for name in manifest["folders"]:
        if name not in folders:
            continue  # e.g. a Whoosh index, restored on a site that now searches in PostgreSQL
        shutil.rmtree(folders[name], ignore_errors=True)
        shutil.copytree(source / name, folders[name])
    return manifest


def _copy_media(source: Path, target: Path) -> None:
    """Copy the media folder while the site may be writing to it: files half written (their temporary
    names start with ".tmp-") are left out, and a file deleted while the copy runs is skipped, not an
    error. The copy follows the database's: a file deleted in between belonged to a post deleted in
    between, and a file stored in between is one the copied database does not name."""
    def copy_if_still_there(src: str, dst: str) -> None:
        try:
            shutil.copy2(src, dst)
        except FileNotFoundError:
            pass

    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".tmp-*"),
                    copy_function=copy_if_still_there)


def _unused(path: Path) -> Path:
    candidate, number = path, 1
    while candidate.exists() or candidate.with_name(candidate.name + ".partial").exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while other connections write (WAL included)."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _pg_run(command: list[str], url: sa.URL) -> None:
    """Run a PostgreSQL client tool on the database ``url`` names; the password goes in the
    environment, not on the command line where other users could read it."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} was not found: install the PostgreSQL client (postgresql-client)")
    env = dict(os.environ)
    for variable, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                            ("PGPASSWORD", url.password), ("PGDATABASE", url.database),
                            ("PGOPTIONS", url.query.get("options"))):
        if value:
            env[variable] = str(value)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip() or done.stdout.strip()}")
