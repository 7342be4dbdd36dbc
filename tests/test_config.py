"""Configuration: environment parsing and the production safety checks."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from config import Config, ProdConfig, as_bool, as_list, database_url
from microblog import create_app


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("Yes", True), ("on", True), ("0", False), ("false", False),
     ("no", False), ("off", False), ("", False), (None, False)],
)
def test_as_bool(value, expected):
    assert as_bool(value) is expected


def test_as_bool_refuses_nonsense():
    with pytest.raises(ValueError):
        as_bool("maybe")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_accepts_heroku_style(url, expected):
    assert database_url(url, Path("/tmp")) == expected


def test_database_url_defaults_to_sqlite_in_instance(tmp_path):
    assert database_url(None, tmp_path) == f"sqlite:///{tmp_path / 'microblog.db'}"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProdConfig, {"SECRET_KEY": None, "INSTANCE_DIR": str(tmp_path)})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProdConfig, {"SECRET_KEY": "short", "INSTANCE_DIR": str(tmp_path)})


def test_production_with_a_key_has_secure_cookies(tmp_path):
    app = create_app(ProdConfig, {
        "SECRET_KEY": secrets.token_hex(32), "INSTANCE_DIR": str(tmp_path),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "LOG_TO_STDOUT": True,
    })
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not app.debug


def test_development_generates_and_keeps_a_key(tmp_path):
    settings = {"SECRET_KEY": None, "INSTANCE_DIR": str(tmp_path),
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    with pytest.warns(UserWarning, match="SECRET_KEY is not set"):
        first = create_app(Config, dict(settings)).config["SECRET_KEY"]
    with pytest.warns(UserWarning):
        second = create_app(Config, dict(settings)).config["SECRET_KEY"]
    assert len(first) >= 32 and first == second


def test_as_list_splits_on_commas():
    assert as_list(" a.example, b.example ,,") == ["a.example", "b.example"]
    assert as_list(None) == [] and as_list("") == []


def test_remember_me_lasts_at_most_30_days():
    assert Config.REMEMBER_COOKIE_DURATION.days <= 30
    assert Config.PERMANENT_SESSION_LIFETIME.days <= 30


def test_reading_the_config_writes_no_files(tmp_path):
    """config.py reads settings: working out the derived ones leaves the disk as it was; the development
    key file is the factory's doing (microblog/secret_keys.py)."""
    instance = tmp_path / "instance"
    settings = {key: getattr(Config, key) for key in dir(Config) if key.isupper()}
    settings.update(SECRET_KEY=None, INSTANCE_DIR=str(instance))
    Config.finalize(settings)
    assert settings["EXPORTS_DIR"] == str(instance / "exports") and settings["SITE_URL"]
    assert list(tmp_path.iterdir()) == []
    # The factory is what makes the development key, in the instance folder it was given.
    with pytest.warns(UserWarning, match="SECRET_KEY is not set"):
        create_app(Config, {"SECRET_KEY": None, "INSTANCE_DIR": str(instance),
                            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    assert (instance / "dev-secret-key").stat().st_mode & 0o777 == 0o600
