"""microblog/totp.py against the RFCs' own test vectors, and the window around the current step."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from microblog import totp

SHA1_KEY = b"12345678901234567890"
SHA256_KEY = b"12345678901234567890123456789012"
SHA512_KEY = b"1234567890" * 6 + b"1234"

# RFC 6238, appendix B: time, then the eight-digit codes for SHA-1, SHA-256 and SHA-512.
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
# RFC 4226, appendix D: HOTP codes for counters 0 to 9.
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
SECRET = base64.b32encode(SHA1_KEY).decode()


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), RFC6238)
def test_rfc6238_vectors(at, sha1, sha256, sha512):
    step = totp.time_step(at)
    assert totp.hotp(SHA1_KEY, step, digits=8) == sha1
    assert totp.hotp(SHA256_KEY, step, digits=8, digest="sha256") == sha256
    assert totp.hotp(SHA512_KEY, step, digits=8, digest="sha512") == sha512
    # The six digits an app shows are the last six of the same number.
    assert totp.code_at(SECRET, at) == sha1[-6:]


@pytest.mark.parametrize(("counter", "code"), enumerate(RFC4226))
def test_rfc4226_vectors(counter, code):
    assert totp.hotp(SHA1_KEY, counter) == code


def test_steps_are_thirty_seconds():
    assert totp.time_step(0) == totp.time_step(29.9) == 0
    assert totp.time_step(30) == 1


def test_a_code_matches_its_step_and_one_step_either_side():
    at = 1111111111
    step = totp.time_step(at)
    code = totp.code_at(SECRET, at)
    assert totp.matching_step(SECRET, code, at) == step
    assert totp.matching_step(SECRET, code, at + 30) == step  # the clock ran ahead by one step
    assert totp.matching_step(SECRET, code, at - 30) == step  # or behind
    assert totp.matching_step(SECRET, code, at + 60) is None
    assert totp.matching_step(SECRET, code, at - 60) is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "１２３４５６", None, "1" * 10_000])
def test_malformed_codes_match_nothing(typed):
    assert totp.normalize_code(typed) is None
    assert totp.matching_step(SECRET, typed, 59) is None


def test_spaces_and_a_hyphen_are_allowed():
    code = totp.code_at(SECRET, 59)
    assert totp.matching_step(SECRET, f"{code[:3]} {code[3:]}", 59) == 1
    assert totp.matching_step(SECRET, f"{code[:3]}-{code[3:]}", 59) == 1


def test_a_broken_secret_matches_nothing():
    assert totp.matching_step("not base32!", "123456", 59) is None


def test_new_secrets_are_160_bits_of_base32_and_differ():
    first, second = totp.new_secret(), totp.new_secret()
    assert len(first) == 32 and first != second
    assert len(totp.secret_bytes(first)) == 20
    assert totp.secret_bytes(first.lower()) == totp.secret_bytes(first)


def test_provisioning_uri():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", "alice", "Micro blog")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert parts.path == "/Micro%20blog:alice"
    query = parse_qs(parts.query)
    assert query == {"secret": ["JBSWY3DPEHPK3PXP"], "issuer": ["Micro blog"], "algorithm": ["SHA1"],
                     "digits": ["6"], "period": ["30"]}
