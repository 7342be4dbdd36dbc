"""Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): the codes authenticator apps show.

SHA-1, six digits, a 30-second step, and a window of one step either side for clocks that drift.
Plain functions of the secret and the time: what a code was used for, and which step was used last
(a code works once), is the two_factor service's business.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

DIGITS = 6
STEP_SECONDS = 30
WINDOW = 1  # steps accepted before and after the current one
SECRET_BYTES = 20  # 160 bits, the size RFC 4226 recommends for HMAC-SHA-1


def new_secret() -> str:
    """A random secret in base32 without padding (32 characters), as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def secret_bytes(secret: str) -> bytes:
    """The key a base32 secret stands for (spaces and case ignored, padding optional).

    :raises ValueError: not base32.
    """
    cleaned = secret.replace(" ", "").upper()
    cleaned += "=" * (-len(cleaned) % 8)
    try:
        return base64.b32decode(cleaned)
    except (ValueError, TypeError) as exc:  # binascii.Error is a ValueError
        raise ValueError("not a base32 secret") from exc


def hotp(key: bytes, counter: int, digits: int = DIGITS, digest: str = "sha1") -> str:
    """RFC 4226: the code for ``counter``, zero-padded to ``digits``."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def time_step(at: float | None = None) -> int:
    """The number of whole steps since the Unix epoch at ``at`` (now when None)."""
    return int((time.time() if at is None else at) // STEP_SECONDS)


def code_at(secret: str, at: float | None = None) -> str:
    """The code an authenticator app shows for ``secret`` at time ``at`` (now when None)."""
    return hotp(secret_bytes(secret), time_step(at))


def normalize_code(code: str | None) -> str | None:
    """The six digits typed, without spaces or a hyphen in the middle; None if it is not that."""
    if not isinstance(code, str) or len(code) > 20:
        return None
    cleaned = code.replace(" ", "").replace("-", "")
    if len(cleaned) != DIGITS or not cleaned.isascii() or not cleaned.isdigit():
        return None
    return cleaned


def matching_step(secret: str, code: str | None, at: float | None = None, window: int = WINDOW) -> int | None:
    """The time step whose code ``code`` is, within ``window`` steps of ``at``; None when none is.

    Every step in the window is computed and compared in constant time, so how long the answer takes
    says nothing about which step (if any) matched.
    """
    typed = normalize_code(code)
    if typed is None:
        return None  # malformed: nothing to compare
    try:
        key = secret_bytes(secret)
    except ValueError:
        return None
    now = time_step(at)
    found = None
    for step in range(max(now - window, 0), now + window + 1):
        if hmac.compare_digest(hotp(key, step), typed) and found is None:
            found = step
    return found


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI a QR code carries (Google Authenticator's "Key Uri Format")."""
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode({"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS,
                       "period": STEP_SECONDS}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"
