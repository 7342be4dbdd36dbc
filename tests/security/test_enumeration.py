"""No account enumeration: the same answers, and the same time, for unknown and known accounts."""

from __future__ import annotations

import base64
import time

from tests.factories import make_user


def paired_times(first, second, rounds: int = 25) -> tuple[float, float]:
    """The fastest of many alternating runs of each request: the work itself, without the noise that
    other processes on the machine add (which only ever makes a run slower)."""
    a, b = [], []
    for _ in range(rounds):
        for send, timings in ((first, a), (second, b)):
            started = time.perf_counter()
            send()
            timings.append(time.perf_counter() - started)
    return min(a), min(b)


def test_login_answers_the_same_for_unknown_users_and_wrong_passwords(client, app):
    with app.app_context():
        user = make_user("alice")
        user.set_password("correct-horse-battery")  # a real argon2 hash, as production has
        from microblog.extensions import db

        db.session.commit()
    known = client.post("/auth/login", data={"username": "alice", "password": "wrong-password"})
    unknown = client.post("/auth/login", data={"username": "nobody", "password": "wrong-password"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True).replace("nobody", "alice")

    def wrong_password():
        client.post("/auth/login", data={"username": "alice", "password": "wrong-password"})

    def unknown_user():
        client.post("/auth/login", data={"username": "nobody", "password": "wrong-password"})

    wrong_password(), unknown_user()  # warm up (the dummy hash is made on first use)
    # The fastest run estimates the work itself; on a busy machine (parallel test workers) a quiet
    # moment may take a while to come, so keep sampling, up to 100 pairs, until both have had one.
    a, b = paired_times(wrong_password, unknown_user)
    for _ in range(3):
        if abs(a - b) / max(a, b) < 0.10:
            break
        more_a, more_b = paired_times(wrong_password, unknown_user)
        a, b = min(a, more_a), min(b, more_b)
    assert abs(a - b) / max(a, b) < 0.10, f"known {a * 1000:.1f} ms vs unknown {b * 1000:.1f} ms"


def test_token_endpoint_answers_the_same(client, app):
    with app.app_context():
        make_user("alice")

    def basic(name: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{name}:wrong-password".encode()).decode()}

    known = client.post("/api/tokens", headers=basic("alice"))
    unknown = client.post("/api/tokens", headers=basic("nobody"))
    assert known.status_code == unknown.status_code == 401
    assert known.json == unknown.json


def test_reset_request_answers_the_same(client, app):
    with app.app_context():
        make_user("alice", email="alice@example.com")
    known = client.post("/auth/reset_password_request", data={"email": "alice@example.com"})
    unknown = client.post("/auth/reset_password_request", data={"email": "nobody@example.com"})
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
