"""Rate-limit counters in a SQLite file, shared by every worker process on the machine.

Without Redis, Flask-Limiter's memory storage counts in each gunicorn worker separately, so N workers
allow N times every limit. This storage keeps the counters in one small SQLite file instead (by
default ``INSTANCE_DIR/ratelimits.sqlite``), which every process on the machine opens: one
``INSERT ... ON CONFLICT ... RETURNING`` per hit, atomic across processes, tens of microseconds.

It registers the ``sqlite:///path`` scheme with the ``limits`` package (defining a ``Storage``
subclass is how ``limits`` registers a scheme), so ``RATELIMIT_STORAGE_URI`` selects it like any
other. It supports the fixed-window strategy, Flask-Limiter's default and the one this app uses.
Counters are not precious: the file is written without fsync, and losing it only resets the limits.
Several machines still need Redis (a file on a network disk is not a fix).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from limits.storage import Storage

SCHEME = "sqlite"
# Expired counters are swept at most this often (each process), so the file stays small.
SWEEP_SECONDS = 300

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counter (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL,
    expires REAL NOT NULL
) WITHOUT ROWID
"""
# A fresh window when the old one has expired, else one more in the current window.
_INCR = """
INSERT INTO counter (key, value, expires) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN counter.expires <= :now THEN excluded.value ELSE counter.value + excluded.value END,
    expires = CASE WHEN counter.expires <= :now THEN excluded.expires ELSE counter.expires END
RETURNING value
"""


def storage_path(uri: str) -> Path:
    """The file named by ``sqlite:///relative/path`` or ``sqlite:////absolute/path``."""
    prefix = f"{SCHEME}:///"
    if not uri.startswith(prefix) or len(uri) == len(prefix):
        raise ValueError(f"a rate-limit storage URI looks like {prefix}/path/to/file.sqlite, not {uri!r}")
    return Path(uri[len(prefix):])


class SQLiteStorage(Storage):
    """Fixed-window counters in one SQLite table; a connection per thread and process, opened lazily."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool):
        # Options meant for Redis (RATELIMIT_STORAGE_OPTIONS: socket timeouts) do not apply here.
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.path = storage_path(uri or "")
        self._local = threading.local()
        self._last_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread, and a new one after a fork (gunicorn forks its workers).
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute(_SCHEMA)
            local.connection, local.pid = connection, os.getpid()
        return local.connection

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        connection = self._connection()
        arguments = {"key": key, "amount": amount, "now": now, "expiry": expiry}
        value = connection.execute(_INCR, arguments).fetchone()[0]
        if now - self._last_sweep > SWEEP_SECONDS:
            self._last_sweep = now
            connection.execute("DELETE FROM counter WHERE expires <= ?", (now,))
        return int(value)

    def get(self, key: str) -> int:
        row = self._connection().execute(
            "SELECT value FROM counter WHERE key = ? AND expires > ?", (key, time.time())).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._connection().execute(
            "SELECT expires FROM counter WHERE key = ? AND expires > ?", (key, now)).fetchone()
        return float(row[0]) if row else now

    def check(self) -> bool:
        return self._connection().execute("SELECT 1").fetchone() == (1,)

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM counter").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counter WHERE key = ?", (key,))
