"""Security headers on every kind of response, and pages that keep to the Content-Security-Policy."""

from __future__ import annotations

import re
import secrets

import pytest

from config import ProdConfig
from microblog import create_app

POLICY_PARTS = ["default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("get", "/", {}),
    ("get", "/auth/login", {}),
    ("get", "/no-such-page", {}),
    ("get", "/static/microblog.css", {}),
    ("get", "/api/posts", {}),
    ("get", "/api/nothing", {}),
    ("post", "/api/tokens", {}),
    ("get", "/api/docs", {}),
    ("get", "/healthz", {}),
])
def test_every_response_carries_the_headers(client, method, path, kwargs):
    response = getattr(client, method)(path, **kwargs)
    policy = response.headers["Content-Security-Policy"]
    for part in POLICY_PARTS:
        assert part in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # development is plain HTTP


def test_production_sends_hsts(tmp_path):
    app = create_app(ProdConfig, {"SECRET_KEY": secrets.token_hex(32), "INSTANCE_DIR": str(tmp_path),
                                  "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                                  "LOG_TO_STDOUT": True})
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("path", ["/", "/auth/login", "/auth/register", "/explore", "/api/docs"])
def test_pages_have_no_inline_script_or_style(client, path):
    html = client.get(path).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> found"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler found"
    assert ' style="' not in html
