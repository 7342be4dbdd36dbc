"""Password hashing (argon2id) and the rules a new password must meet beyond its length."""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from werkzeug.security import check_password_hash

COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"

# OWASP's argon2id minimum: 19 MiB of memory, 2 passes, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# A real hash to check against when nobody has the name typed, made with the hasher of the moment.
_dummy: tuple[PasswordHasher, str] | None = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Check against an argon2 hash, or an older werkzeug (scrypt, pbkdf2) one."""
    if stored_hash.startswith("$argon2"):
        try:
            return _hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False
    try:
        return check_password_hash(stored_hash, password)
    except ValueError:  # not a hash at all
        return False


def verify_nobody(password: str) -> None:
    """Spend the time a verification takes, for a sign-in to a name nobody has: both answers take as
    long, so the time does not tell which names exist."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash("not a real password"))
    verify_password(_dummy[1], password)


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash uses another algorithm or older parameters than today's."""
    return not stored_hash.startswith("$argon2") or _hasher.check_needs_rehash(stored_hash)


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def is_common(password: str) -> bool:
    """True for a password on the list of the most common (case does not help)."""
    return password.strip().lower() in _common()
