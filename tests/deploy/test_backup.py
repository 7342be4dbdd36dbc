"""`make backup` and `make restore` round trip, on SQLite and on a PostgreSQL database of its own.

The site's data is made by the seeder and indexed (Whoosh), with posts with images and a profile
picture (files in the media folder); the backup is taken with the Makefile as an operator would, the
data is then damaged (rows deleted, a stray row added, the index and media folders removed) and
`make restore` (answering its question) must bring every row, index file and media file back.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.servers import BIN, ROOT, production_env
from config import database_url
from microblog import create_app, search
from microblog.extensions import db
from microblog.seed import seed
from tests.conftest import TestConfig
from tests.deploy.conftest import migrate, program

TABLES = ("user", "post", "followers", "media", "alembic_version")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'instance' / 'microblog.db'}"
    return request.getfixturevalue("new_postgres_database")()


def snapshot(app) -> dict:
    """Every row of the tables that matter, and every file of the search index, by content."""
    found: dict = {}
    with app.app_context():
        for table in TABLES:
            rows = db.session.execute(sa.text(f'SELECT * FROM "{table}"')).all()
            found[table] = sorted(tuple(str(value) for value in row) for row in rows)
        db.session.remove()
        db.engine.dispose()
    for name, setting in (("index", "WHOOSH_INDEX_DIR"), ("media", "MEDIA_DIR")):
        folder = Path(app.config[setting])
        found[name] = {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
                       for path in sorted(folder.rglob("*")) if path.is_file()}
    return found


def add_images(app) -> None:
    """Two posts with images (processed by the job at once: tests run jobs synchronously), an upload
    still waiting for its job (its raw file must be kept too), and a profile picture."""
    from microblog.models import User
    from microblog.services import media, posts, profile_media
    from tests import media_samples

    with app.app_context():
        author = db.session.scalars(sa.select(User).order_by(User.id)).first()
        for n in range(2):
            photo = media.check_upload(media_samples.jpeg_bytes(600 + n, 400, (40 * n, 90, 160)), "photo")
            posts.publish_post(author, f"with an image {n}", uploads=[photo])
        # Stored, and never handed to the job.
        waiting = media.check_upload(media_samples.png_bytes(50, 40), "not processed yet")
        media.store_uploads(author, [waiting])
        db.session.commit()
        profile_media.set_picture(author, "avatar", media_samples.jpeg_bytes(500, 500))


def make(target: str, env: dict[str, str], *args: str, answer: str = "") -> str:
    command = [program("make", "Debian package make"), "-s", "-C", str(ROOT), target, f"VENV={BIN.parent}",
               *args]
    done = subprocess.run(command, env=env, input=answer, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_backup_and_restore_round_trip(site_url, tmp_path):
    instance, index = tmp_path / "instance", tmp_path / "index"
    instance.mkdir()
    env = production_env(site_url, instance, SEARCH_BACKEND="whoosh", WHOOSH_INDEX_DIR=str(index))
    migrate(site_url, instance)
    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": database_url(site_url, instance),
                                  "INSTANCE_DIR": str(instance), "WHOOSH_INDEX_DIR": str(index)})
    with app.app_context():
        seed(12, 60, 3, 7)
    add_images(app)
    with app.app_context():
        search.reindex()
    before = snapshot(app)
    assert len(before["post"]) >= 62 and before["index"]
    assert {name.split("/")[0] for name in before["media"]} == {"m", "incoming"}

    written = make("backup", env, f"BACKUP_DIR={tmp_path / 'backups'}")
    folder = Path(written.strip().rsplit(" ", 1)[-1])
    assert folder.parent == tmp_path / "backups" and (folder / "backup.json").is_file()
    assert folder.stat().st_mode & 0o077 == 0  # password hashes inside: the owner's alone

    # The disaster: posts, follows and images gone, a stray post, no index, no media files.
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM media"))
        db.session.execute(sa.text("DELETE FROM followers"))
        db.session.execute(sa.text("DELETE FROM post WHERE id % 2 = 0"))
        db.session.execute(sa.text("UPDATE post SET body = 'vandalised'"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(index)
    shutil.rmtree(app.config["MEDIA_DIR"])
    assert snapshot(app) != before

    # It asks first; "no" touches nothing.
    refused = app.test_cli_runner().invoke(args=["backup", "restore", str(folder)], input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    restored = make("restore", env, f"BACKUP={folder}", answer="y\n")
    assert "Restored the backup" in restored
    assert snapshot(app) == before
