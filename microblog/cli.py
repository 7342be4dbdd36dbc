"""Command-line tools: `flask seed`, `flask users ...`, `flask mail ...`, `flask media ...`,
`flask backup ...` and more."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from microblog import backup, jobs, mail, media_storage, search
from microblog.exceptions import DomainError
from microblog.extensions import db
from microblog.models import ROLES, FileDeletion, OutboxMessage, OutboxStatus, Role, User
from microblog.seed import DEMO_PASSWORD, seed
from microblog.seed_media import seed_media
from microblog.services import accounts, media, media_files, roles, two_factor

PROJECT_ROOT = Path(__file__).resolve().parent.parent

users_cli = AppGroup("users", help="Manage user accounts.")


@click.command("seed")
@with_appcontext
@click.option("--users", "n_users", default=50, show_default=True, help="Users to add.")
@click.option("--posts", "n_posts", default=500, show_default=True, help="Posts to add.")
@click.option("--follows", "n_follows", default=10, show_default=True, help="Follows per user.")
@click.option(
    "--seed", "seed_value", default=1, show_default=True, help="Random seed (same seed, same data)."
)
@click.option("--if-empty", is_flag=True, help="Do nothing when the site already has users.")
@click.option("--images/--no-images", default=True, show_default=True,
              help="Give some of the newest posts pictures, and some people profile pictures.")
def seed_command(n_users: int, n_posts: int, n_follows: int, seed_value: int, if_empty: bool,
                 images: bool) -> None:
    """Add realistic demo data: users, posts over the past year, follows, and images."""
    if if_empty and db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        click.echo("The database already has users: not seeding.")
        return
    started = time.perf_counter()
    total = n_users + n_posts + n_users * min(n_follows, max(n_users - 1, 0))
    with click.progressbar(length=total, label="Seeding", show_pos=True) as bar:
        counts = seed(n_users, n_posts, n_follows, seed_value, progress=lambda _stage, n: bar.update(n))
    pictures = seed_media(seed_value) if images else None
    elapsed = time.perf_counter() - started
    shown = (f" ({pictures['images']} images on {pictures['posts']} posts, {pictures['avatars']} profile "
             f"pictures)" if pictures else "")
    click.echo(
        f"Added {counts['users']} users, {counts['posts']} posts and {counts['follows']} follows{shown} "
        f"in {elapsed:.1f} s. Every demo account's password is '{DEMO_PASSWORD}'."
    )


@users_cli.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--email", prompt=True)
@click.password_option()
def create_admin(username: str, email: str, password: str) -> None:
    """Create an administrator account (or make an existing account an administrator)."""
    user = accounts.get_user_by_username(username)
    try:
        if user is None:
            user = accounts.register_user(username, email, password)
            if user is None:  # the operator may know: the address's owner was mailed a notice
                raise click.ClickException(f"{email} already belongs to another account")
        roles.change_role(None, user, Role.ADMIN, reason="flask users create-admin")
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{user.username} is an administrator.")


@users_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--reason", default="flask users set-role", show_default=True, help="For the audit log.")
def set_role(username: str, role: str, reason: str) -> None:
    """Give USERNAME the role ROLE (user, moderator or admin); the change goes to the audit log."""
    user = accounts.get_user_by_username(username)
    if user is None:
        raise click.ClickException(f"no user named {username}")
    try:
        roles.change_role(None, user, role, reason)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{user.username} is now {role}.")


@users_cli.command("reset-2fa")
@click.argument("username")
@click.option("--reason", required=True, help="For the audit log: how the owner proved who they are.")
def reset_two_factor(username: str, reason: str) -> None:
    """Turn two-factor sign-in off for USERNAME, who lost both the phone and the recovery codes (the
    owner is mailed; the audit log keeps the reason)."""
    user = accounts.get_user_by_username(username)
    if user is None:
        raise click.ClickException(f"no user named {username}")
    if not user.two_factor_enabled:
        raise click.ClickException(f"{user.username} does not use two-factor authentication")
    try:
        two_factor.reset_by_operator(user, reason)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Two-factor authentication is off for {user.username}.")




mail_cli = AppGroup("mail", help="Inspect and retry the outgoing mail queue.")


@mail_cli.command("status")
def mail_status() -> None:
    """Count outbox messages by status and list the failed ones."""
    counts = mail.outbox_counts()
    for status in OutboxStatus:
        click.echo(f"{status:8} {counts.get(status, 0)}")
    failed = sa.select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
    for message in db.session.scalars(failed.order_by(OutboxMessage.id).limit(50)):
        click.echo(
            f"  #{message.id} to {message.recipient} after {message.attempts} attempts: {message.last_error}"
        )


@mail_cli.command("retry")
def mail_retry() -> None:
    """Queue failed messages again and try every message that is due, now."""
    requeued = mail.retry_failed()
    tried = mail.deliver_due()
    counts = mail.outbox_counts()
    click.echo(f"Requeued {requeued} failed; tried {tried}; now {counts.get(OutboxStatus.SENT, 0)} sent, "
               f"{counts.get(OutboxStatus.PENDING, 0)} pending, {counts.get(OutboxStatus.FAILED, 0)} failed.")


media_cli = AppGroup("media", help="Media storage: create the bucket, sweep and retry now.")


@media_cli.command("setup")
def media_setup() -> None:
    """Create the S3 bucket (MEDIA_STORAGE=s3) if it is missing, or the local folder."""
    store = media_storage.storage()
    try:
        if isinstance(store, media_storage.S3Storage):
            store.ensure_bucket()
            click.echo(f"Bucket {store.bucket} is ready.")
        else:
            folder = Path(current_app.config["MEDIA_DIR"])
            folder.mkdir(parents=True, exist_ok=True)
            click.echo(f"Media folder {folder} is ready.")
    except (media_storage.StorageError, OSError) as error:
        raise click.ClickException(str(error)) from None


@media_cli.command("sweep")
def media_sweep() -> None:
    """Do now what the workers do regularly: retry stuck uploads, delete orphans and unused files."""
    retried = media.retry_stale()
    swept = media_files.sweep_orphans()
    deleted = media_files.delete_files()
    waiting = db.session.scalar(sa.select(sa.func.count()).select_from(FileDeletion))
    click.echo(f"Retried {retried} uploads; swept {swept} orphaned uploads; deleted {deleted} files "
               f"({waiting} still waiting).")


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run background jobs from Redis (RQ) with this app; also retries due mail every 30 s."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["JOBS_BACKEND"] != "rq":
        raise click.ClickException(
            "set REDIS_URL to use a worker process; without it jobs run in the web process"
        )
    if app.config["SCHEMA_CHECK"]:
        from microblog.schema_check import SchemaOutOfDate, require_current_schema

        try:
            require_current_schema(app)
        except SchemaOutOfDate as exc:
            raise click.ClickException(str(exc)) from exc
    jobs.run_rq_worker(app, burst=burst)


translate_cli = AppGroup("translate", help="Extract, update and compile the translation catalogs.")


def _pybabel(*args: str) -> None:
    """Run one pybabel command from the project root; a failure stops the CLI with its status."""
    command = [sys.executable, "-m", "babel.messages.frontend", *args]
    if subprocess.run(command, cwd=PROJECT_ROOT, check=False).returncode != 0:
        raise click.ClickException(f"pybabel {args[0]} failed")


def _extract() -> None:
    _pybabel("extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "--sort-output",
             "--project", "microblog", "-o", "translations/messages.pot", ".")


@translate_cli.command("init")
@click.argument("lang")
def translate_init(lang: str) -> None:
    """Start a catalog for language LANG (for example: it, pt_BR)."""
    _extract()
    _pybabel("init", "-i", "translations/messages.pot", "-d", "translations", "-l", lang)


@translate_cli.command("update")
def translate_update() -> None:
    """Extract the strings again and merge them into every catalog."""
    _extract()
    _pybabel("update", "-i", "translations/messages.pot", "-d", "translations", "--no-fuzzy-matching",
             "--ignore-obsolete")


@translate_cli.command("compile")
def translate_compile() -> None:
    """Compile every catalog to the .mo files the app reads."""
    _pybabel("compile", "-d", "translations", "--statistics")


search_cli = AppGroup("search", help="Maintain the full-text search index.")


@search_cli.command("reindex")
@click.option("--batch-size", default=5000, show_default=True, help="Rows read and indexed per batch.")
def search_reindex(batch_size: int) -> None:
    """Rebuild the search index from the database (searches use the old one until it is done)."""
    from microblog.models import Post

    backend = current_app.config["SEARCH_BACKEND"]
    if not search.backend().needs_indexing:
        search.reindex()
        click.echo(f"The {backend} backend is kept up to date by the database; statistics refreshed.")
        return
    started = time.perf_counter()
    total = (db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0) + (
        db.session.scalar(sa.select(sa.func.count()).select_from(Post)) or 0)
    db.session.rollback()
    with click.progressbar(length=total, label="Indexing", show_pos=True) as bar:
        counts = search.reindex(progress=lambda _kind, n: bar.update(n), batch_size=batch_size)
    elapsed = time.perf_counter() - started
    click.echo(f"Indexed {counts.get('posts', 0)} posts and {counts.get('users', 0)} people "
               f"in {elapsed:.1f} s ({backend}).")


backup_cli = AppGroup("backup", help="Back up and restore the database and the search index.")


@backup_cli.command("create")
@click.option("--into", default="backups", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder that receives the new backup folder.")
def backup_create(into: Path) -> None:
    """Copy the database and the search index into a new dated folder (safe while the site runs)."""
    try:
        folder = backup.create_backup(current_app._get_current_object(), into)  # type: ignore[attr-defined]
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {folder}")


@backup_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the data.")
def backup_restore(source: Path, yes: bool) -> None:
    """Replace the database and the search index with the backup in SOURCE (stop the site first)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        manifest = backup.read_manifest(source)
        if not yes:
            click.confirm(f"Replace the {backup.database_url(app).render_as_string()} database and the "
                          f"data folders with the backup of {manifest['created_at']}?", abort=True)
        backup.restore_backup(app, source)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored the backup of {manifest['created_at']} (schema revision "
               f"{', '.join(manifest['revision']) or 'none'}). Run `flask db upgrade` if this code is newer.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(media_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(translate_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(backup_cli)
