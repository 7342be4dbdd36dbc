"""The secret key policy: production refuses a weak or published key; development makes one of its own.

Flask signs sessions, remember-me cookies and mailed links with ``SECRET_KEY``; whoever knows it can
sign in as anyone. The factory applies this policy once the settings are read (config.py only reads).
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

# Secret keys printed in tutorials, templates and docs: anyone can forge cookies signed with them.
PUBLIC_DEFAULT_KEYS = frozenset({
    "dev", "development", "devkey", "dev-key", "dev_key", "secret", "secret-key", "secret_key", "secretkey",
    "mysecret", "my-secret", "my_secret", "my-secret-key", "my_secret_key", "mysecretkey",
    "changeme", "change-me", "change_me", "changethis", "change-this", "please-change-me",
    "you-will-never-guess", "super-secret-key", "super_secret_key", "supersecretkey", "supersecret",
    "your-secret-key", "your_secret_key", "yoursecretkey", "your-secret-key-here", "replace-me",
    "default", "password", "test", "testing", "test-secret-key", "flask", "flask-secret-key",
    "microblog", "insecure", "notsecret", "not-secret", "s3cr3t", "keyboard cat", "abc123", "12345678",
    "hard to guess string", "hard-to-guess-string", "this-is-a-secret", "thisisasecret",
    "django-insecure", "xxxxxxxx", "placeholder", "todo", "none", "null", "key",
})
SECRET_KEY_MIN = 32
DEVELOPMENT_KEY_FILE = "dev-secret-key"


def secret_key_problem(key: object) -> str | None:
    """Why ``key`` is not fit to sign production cookies, or None when it is.

    Too short, a public default (also repeated or padded to length), or visibly low in entropy: few
    distinct characters, or one short pattern repeated. A key made by ``secrets.token_hex(32)`` passes.
    """
    if not isinstance(key, str | bytes) or not key:
        return "it is not set"
    text = key.decode("latin-1") if isinstance(key, bytes) else key
    if len(text) < SECRET_KEY_MIN:
        return f"it has {len(text)} characters, fewer than {SECRET_KEY_MIN}"
    folded = text.strip().lower()
    for default in PUBLIC_DEFAULT_KEYS:
        if folded == default or folded.replace(default, "").strip(" -_.0123456789") == "":
            return "it is a published default value"
    if len(set(text)) < 10:
        return "it uses too few distinct characters (low entropy)"
    for size in range(1, 17):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return "it repeats a short pattern (low entropy)"
    return None


def require_strong_keys(config: MutableMapping[str, Any]) -> None:
    """Production: refuse to start without a real key. Old keys in SECRET_KEY_FALLBACKS are held to the
    same rules: a weak fallback would let anyone forge cookies all the same."""
    problem = secret_key_problem(config.get("SECRET_KEY"))
    if problem:
        raise RuntimeError(
            f"SECRET_KEY is not usable in production: {problem}. Set it in the environment to a random "
            f"value of at least {SECRET_KEY_MIN} characters, e.g. python -c 'import secrets; "
            "print(secrets.token_hex(32))'."
        )
    for number, fallback in enumerate(config.get("SECRET_KEY_FALLBACKS") or [], start=1):
        problem = secret_key_problem(fallback)
        if problem:
            raise RuntimeError(f"SECRET_KEY_FALLBACKS entry {number} is not usable in production: {problem}.")


def development_secret_key(instance_dir: Path) -> str:
    """A random key kept in the instance folder, so sessions survive restarts in development."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / DEVELOPMENT_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def apply_secret_key_policy(config: MutableMapping[str, Any], *, production: bool) -> None:
    """Production checks the key it was given; development without a key uses one of its own, loudly."""
    if production:
        require_strong_keys(config)
    elif not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = development_secret_key(Path(config["INSTANCE_DIR"]))
        warnings.warn(
            "SECRET_KEY is not set: using a generated development key stored in instance/. "
            "Set SECRET_KEY in production.",
            stacklevel=3,
        )
