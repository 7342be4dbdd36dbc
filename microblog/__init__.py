"""The application factory: load settings, bind extensions, register blueprints and tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config
from microblog.compression import register_compression
from microblog.i18n import select_locale, select_timezone
from microblog.logs import register_logging
from microblog.security import register_security_headers


def create_app(config_class: type[Config] | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    """Build a configured app. ``overrides`` (tests, tools) win over the config class."""
    from config import ProdConfig, config_from_env
    from microblog.secret_keys import apply_secret_key_policy

    config_from_environment = config_class is None
    config_class = config_class or config_from_env()
    production = issubclass(config_class, ProdConfig)
    app = Flask(__name__)
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    config_class.finalize(app.config)
    apply_secret_key_policy(app.config, production=production)

    register_compression(app)  # first: its hook then runs after every other one, on the finished body
    register_extensions(app)
    register_blueprints(app)
    register_suspension_guard(app)
    register_cli_and_shell(app)
    register_logging(app)
    register_jobs(app)
    register_security_headers(app)
    if config_from_environment:
        check_schema_at_boot(app)
        from microblog.ratelimits import check_storage_at_boot

        check_storage_at_boot(app, production=production)
    if app.config["PROXY_HOPS"]:
        # Trust X-Forwarded-* only from the configured number of proxies in front of us.
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def check_schema_at_boot(app: Flask) -> None:
    """A serving process (gunicorn on ``create_app()``) refuses a database behind the migrations.

    Flask CLI commands are skipped: `flask db upgrade` is what fixes the schema, and `flask worker`
    runs the same check itself. Apps built with an explicit config class (tests, tools) skip it too.
    """
    import click

    from microblog.schema_check import require_current_schema

    if app.config["SCHEMA_CHECK"] and click.get_current_context(silent=True) is None:
        require_current_schema(app)


def register_extensions(app: Flask) -> None:
    from microblog import media_storage, search
    from microblog.extensions import babel, bootstrap, csrf, db, limiter, login, mail, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message_category = "info"
    mail.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    csrf.init_app(app)
    bootstrap.init_app(app)
    search.init_app(app)
    media_storage.init_app(app)
    limiter.init_app(app)

    from flask_babel import lazy_gettext as _l

    from microblog import sessions

    login.login_message = _l("Please sign in to see this page.")

    # The session and remember-me cookies carry "<id>:<session version>"; an ended session is refused.
    login.user_loader(sessions.load_user)
    sessions.register_sessions(app)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers and a writer work at once; the busy timeout waits instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def register_blueprints(app: Flask) -> None:
    from microblog import assets, http_cache, post_cards, web, webapp
    from microblog.admin.routes import bp as admin_bp
    from microblog.api import register_api
    from microblog.auth.account_sessions import bp as account_sessions_bp
    from microblog.auth.email_change import bp as email_change_bp
    from microblog.auth.leaving import register_leaving
    from microblog.auth.passkeys import bp as passkeys_bp
    from microblog.auth.routes import bp as auth_bp
    from microblog.auth.two_factor import register_two_factor
    from microblog.errors.handlers import bp as errors_bp
    from microblog.errors.handlers import register_error_handlers
    from microblog.exports.routes import bp as exports_bp
    from microblog.federation import register_federation
    from microblog.imports.routes import bp as imports_bp
    from microblog.main.routes import bp as main_bp
    from microblog.mastodon import register_mastodon
    from microblog.media.routes import bp as media_bp
    from microblog.messages.routes import bp as messages_bp
    from microblog.notifications.routes import bp as notifications_bp
    from microblog.people.routes import bp as people_bp
    from microblog.reactions.routes import bp as reactions_bp
    from microblog.reports.routes import bp as reports_bp
    from microblog.tags.routes import bp as tags_bp
    from microblog.templating import register_template_helpers
    from microblog.threads.routes import bp as threads_bp

    app.url_map.converters["id"] = web.IdConverter  # before any rule names it
    app.register_blueprint(errors_bp)
    app.register_blueprint(auth_bp)
    register_two_factor(app)
    app.register_blueprint(email_change_bp)
    app.register_blueprint(account_sessions_bp)
    app.register_blueprint(passkeys_bp)
    register_leaving(app)
    web.init_app(app)
    app.register_blueprint(main_bp)
    app.register_blueprint(threads_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(reactions_bp)
    app.register_blueprint(messages_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(tags_bp)
    app.register_blueprint(admin_bp)
    register_api(app)
    register_mastodon(app)
    register_federation(app)
    app.register_blueprint(exports_bp)
    app.register_blueprint(imports_bp)
    webapp.init_app(app)
    register_error_handlers(app)
    register_template_helpers(app)
    post_cards.init_app(app)  # after the helpers: its cards are rendered with them
    http_cache.init_app(app)
    assets.init_app(app)  # after every blueprint with static files (Bootstrap-Flask's is an extension's)

    @app.context_processor
    def inject_user() -> dict:
        return {"current_user": current_user}


def register_suspension_guard(app: Flask) -> None:
    """A suspended account's writes are refused in one place, before any view (see suspension.py)."""
    from microblog.suspension import refuse_writes_while_suspended

    app.before_request(refuse_writes_while_suspended)


def register_cli_and_shell(app: Flask) -> None:
    from microblog.cli import register_cli
    from microblog.extensions import db
    from microblog.models import Post, User, followers

    register_cli(app)
    app.shell_context_processor(
        lambda: {"sa": sa, "db": db, "User": User, "Post": Post, "followers": followers}
    )


def register_jobs(app: Flask) -> None:
    """Import the modules that define background tasks, so every process knows them by name."""
    import microblog.mail  # noqa: F401
    import microblog.search  # noqa: F401
    import microblog.services.accounts  # noqa: F401
    import microblog.services.admin_exports  # noqa: F401
    import microblog.services.exports  # noqa: F401
    import microblog.services.imports  # noqa: F401
