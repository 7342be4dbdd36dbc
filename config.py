"""Application settings, read from the environment (see the README's configuration table)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import click
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
load_dotenv(BASE_DIR / ".env")


def as_bool(value: str | None, default: bool = False) -> bool:
    """Parse an environment flag: 1/true/yes/on are true, 0/false/no/off are false."""
    if value is None or value.strip() == "":
        return default
    text = value.strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def as_int(value: str | None, default: int) -> int:
    """Parse an integer setting, falling back to ``default`` when unset."""
    if value is None or value.strip() == "":
        return default
    return int(value)


def database_url(value: str | None, instance_dir: Path) -> str:
    """Normalise ``DATABASE_URL``: Heroku's ``postgres://`` and plain ``postgresql://`` use psycopg 3."""
    if not value:
        return f"sqlite:///{instance_dir / 'microblog.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix):]
    return value


def as_list(value: str | None) -> list[str]:
    """A comma-separated setting as a list, blanks dropped."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance")).resolve()


class Config:
    """Settings for the embedded default: everything works with nothing configured.

    Grouped by concern: the site and its database; security (keys, cookies, proxies, rate limits);
    content and pages; language; mail; background jobs; search; exports; the JSON API; logging.
    """

    # --- The site and its database -------------------------------------------------------------
    # The public address of the site: links in emails are built from it, never from a request's Host.
    # Unset: the address the development server serves on (development_site_url, in finalize).
    SITE_URL = os.environ.get("SITE_URL") or None
    # The host (and port) the site is served at, for URLs built outside a request; empty: unset.
    SERVER_NAME = os.environ.get("SERVER_NAME") or None
    INSTANCE_DIR = INSTANCE_DIR
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"), INSTANCE_DIR)
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # Refuse to start when the database is not at the migrations' head (on by default in production).
    SCHEMA_CHECK = as_bool(os.environ.get("SCHEMA_CHECK"))
    MAX_CONTENT_LENGTH = as_int(os.environ.get("MAX_CONTENT_LENGTH"), 1024 * 1024)

    # --- Security: keys, hosts, cookies, proxies ---------------------------------------------
    # The factory applies the key policy (microblog/secret_keys.py): production refuses a weak key,
    # development without one makes its own.
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # Keys used before the current one, comma-separated: cookies and links they signed keep working
    # after a rotation (Flask checks them for the session; sessions.py and tokens.py do the rest).
    SECRET_KEY_FALLBACKS = as_list(os.environ.get("SECRET_KEY_FALLBACKS"))
    # Host names this site answers to, comma-separated (others get 400); empty: any host.
    TRUSTED_HOSTS = as_list(os.environ.get("TRUSTED_HOSTS")) or None
    # How many reverse proxies (nginx, Heroku's router) sit in front of the app and set X-Forwarded-*.
    PROXY_HOPS = as_int(os.environ.get("PROXY_HOPS"), 0)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Remember-me lasts at most 30 days (fewer with REMEMBER_COOKIE_DAYS); the session cookie's
    # signature is refused after the same time.
    REMEMBER_COOKIE_DURATION = timedelta(days=min(as_int(os.environ.get("REMEMBER_COOKIE_DAYS"), 30), 30))
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Two-factor sign-in (services/two_factor.py): moderators and admins without it are sent to turn it
    # on after signing in; the name authenticator apps show; how long "remember this device" lasts and
    # how long the code step of a sign-in waits after the password.
    REQUIRE_2FA_FOR_STAFF = as_bool(os.environ.get("REQUIRE_2FA_FOR_STAFF"))
    TWO_FACTOR_ISSUER = os.environ.get("TWO_FACTOR_ISSUER", "Microblog")
    TWO_FACTOR_REMEMBER_DAYS = min(as_int(os.environ.get("TWO_FACTOR_REMEMBER_DAYS"), 30), 30)
    TWO_FACTOR_PENDING_SECONDS = as_int(os.environ.get("TWO_FACTOR_PENDING_SECONDS"), 300)
    # Passkeys (services/passkeys.py): the domain they are bound to and the origin pages come from; unset,
    # the host and the scheme and host of each request. Changing the RP ID later orphans every passkey.
    WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID") or None
    WEBAUTHN_ORIGIN = os.environ.get("WEBAUTHN_ORIGIN") or None
    WEBAUTHN_RP_NAME = os.environ.get("WEBAUTHN_RP_NAME") or os.environ.get("TWO_FACTOR_ISSUER", "Microblog")
    # Tokens mailed to users.
    RESET_TOKEN_MAX_AGE = as_int(os.environ.get("RESET_TOKEN_MAX_AGE"), 3600)
    CONFIRM_TOKEN_MAX_AGE = as_int(os.environ.get("CONFIRM_TOKEN_MAX_AGE"), 7 * 24 * 3600)

    # --- Rate limits (Flask-Limiter) -----------------------------------------------------------
    # Counted in Redis when REDIS_URL is set, else in a SQLite file in INSTANCE_DIR that every worker
    # on this machine shares (microblog/limit_storage.py); worked out in derive_paths. "memory://"
    # counts in each worker separately: production refuses it unless RATELIMIT_ALLOW_PER_WORKER is set
    # (microblog/ratelimits.py, check_storage_at_boot).
    RATELIMIT_ENABLED = as_bool(os.environ.get("RATELIMIT_ENABLED"), default=True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "")
    RATELIMIT_ALLOW_PER_WORKER = as_bool(os.environ.get("RATELIMIT_ALLOW_PER_WORKER"))
    RATELIMIT_HEADERS_ENABLED = True
    # Redis going away must not take the site down: count in memory meanwhile (and go back to Redis
    # when it answers again), give up on a dead server within a second, and never fail a request
    # for the limiter's sake (tests/faults/test_redis_down.py).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "25 per 5 minutes")
    RATELIMIT_SIGNUP = os.environ.get("RATELIMIT_SIGNUP", "5 per 30 minutes")
    RATELIMIT_RESET = os.environ.get("RATELIMIT_RESET", "25 per 5 minutes")
    RATELIMIT_API = os.environ.get("RATELIMIT_API", "300 per 5 minutes")
    RATELIMIT_API_WRITES = os.environ.get("RATELIMIT_API_WRITES", "60 per minute")
    # The Mastodon-compatible API (/api/v1, /api/v2): Mastodon's own allowance, per token or address.
    RATELIMIT_MASTODON = os.environ.get("RATELIMIT_MASTODON", "300 per 5 minutes")
    # Per account or address, on top of the per-client-address limits above (microblog/ratelimits.py).
    RATELIMIT_LOGIN_ACCOUNT = os.environ.get("RATELIMIT_LOGIN_ACCOUNT", "25 per hour")  # failed sign-ins
    # Wrong two-factor codes per account (sign-in's second step, turning it on or off): ten an hour give
    # a guesser about one chance in four a year of hitting one of the three codes a window accepts.
    RATELIMIT_TWO_FACTOR_ACCOUNT = os.environ.get("RATELIMIT_TWO_FACTOR_ACCOUNT", "10 per hour")
    RATELIMIT_RESET_ADDRESS = os.environ.get("RATELIMIT_RESET_ADDRESS", "5 per 30 minutes")
    # Requests to change the account's address (web and API together): each one mails an address the
    # requester chose, so the allowance is small.
    RATELIMIT_EMAIL_CHANGE = os.environ.get("RATELIMIT_EMAIL_CHANGE", "10 per hour")
    RATELIMIT_POSTS = os.environ.get("RATELIMIT_POSTS", "300 per 3 hours")
    RATELIMIT_FOLLOWS = os.environ.get("RATELIMIT_FOLLOWS", "400 per day")

    # --- Federation (ActivityPub; FEDERATION.md) ---------------------------------------------
    # Off: no actors, inboxes or deliveries (WebFinger answers 404), a site on its own.
    FEDERATION_ENABLED = as_bool(os.environ.get("FEDERATION_ENABLED"), default=True)
    # Outgoing fetches and deliveries go only to public addresses unless this is set (tests on
    # loopback, a private network of servers).
    FEDERATION_ALLOW_PRIVATE_ADDRESSES = as_bool(os.environ.get("FEDERATION_ALLOW_PRIVATE_ADDRESSES"))
    # Seconds to connect and to wait for each read of a remote server, and the largest answer read.
    FEDERATION_TIMEOUT = as_int(os.environ.get("FEDERATION_TIMEOUT"), 10)
    FEDERATION_MAX_RESPONSE_BYTES = as_int(os.environ.get("FEDERATION_MAX_RESPONSE_BYTES"), 1024 * 1024)
    # Extra CAs trusted for outgoing HTTPS (a file of PEM certificates: a private network's own CA).
    FEDERATION_CA_BUNDLE = os.environ.get("FEDERATION_CA_BUNDLE") or None
    # The largest activity an inbox accepts, and how many one remote server may POST.
    FEDERATION_MAX_INBOX_BYTES = as_int(os.environ.get("FEDERATION_MAX_INBOX_BYTES"), 256 * 1024)
    RATELIMIT_INBOX = os.environ.get("RATELIMIT_INBOX", "600 per minute")

    # --- Posts, people and pages ---------------------------------------------------------------
    POSTS_PER_PAGE = as_int(os.environ.get("POSTS_PER_PAGE"), 25)
    USERS_PER_PAGE = as_int(os.environ.get("USERS_PER_PAGE"), 30)
    POST_MAX_LENGTH = as_int(os.environ.get("POST_MAX_LENGTH"), 280)
    # Rendered post cards kept per worker process (microblog/post_cards.py); 0 turns the cache off.
    # The default holds 80 pages of distinct posts; bench/README.md gives what a card costs in memory.
    POST_CARD_CACHE_SIZE = as_int(os.environ.get("POST_CARD_CACHE_SIZE"), 2000)
    # Avatars: "identicon" is drawn by the app itself; "gravatar" asks gravatar.com.
    AVATAR_PROVIDER = os.environ.get("AVATAR_PROVIDER", "identicon")
    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None

    # --- Media: images on posts, profile pictures and headers --------------------------------------
    # "local": files in MEDIA_DIR (default INSTANCE_DIR/media), served by the app at /media (or by
    # nginx: deploy/nginx.conf); "s3": an S3-compatible bucket (AWS, MinIO, Ceph...) through boto3.
    MEDIA_STORAGE = os.environ.get("MEDIA_STORAGE", "local").strip().lower()
    MEDIA_DIR = os.environ.get("MEDIA_DIR", "")
    # Where browsers load media from when it is not the site itself: a CDN or the bucket's public address.
    MEDIA_BASE_URL = os.environ.get("MEDIA_BASE_URL", "").rstrip("/")
    MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "")
    MEDIA_S3_ENDPOINT_URL = os.environ.get("MEDIA_S3_ENDPOINT_URL") or None
    MEDIA_S3_REGION = os.environ.get("MEDIA_S3_REGION") or None
    # Empty: boto3's own AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or an instance role).
    MEDIA_S3_ACCESS_KEY = os.environ.get("MEDIA_S3_ACCESS_KEY") or None
    MEDIA_S3_SECRET_KEY = os.environ.get("MEDIA_S3_SECRET_KEY") or None
    # Seconds to connect and to wait for an answer, and tries per request, before an upload says the
    # storage is down (nothing is posted) or a job leaves its work for the next sweep.
    MEDIA_S3_CONNECT_TIMEOUT = as_int(os.environ.get("MEDIA_S3_CONNECT_TIMEOUT"), 3)
    MEDIA_S3_READ_TIMEOUT = as_int(os.environ.get("MEDIA_S3_READ_TIMEOUT"), 10)
    MEDIA_S3_MAX_ATTEMPTS = as_int(os.environ.get("MEDIA_S3_MAX_ATTEMPTS"), 3)
    # One file's size, its pixels (larger images are refused before they are decoded), an animation's
    # frames, images per post, and what one account may store in all.
    MEDIA_MAX_BYTES = as_int(os.environ.get("MEDIA_MAX_BYTES"), 10 * 1024 * 1024)
    MEDIA_MAX_PIXELS = as_int(os.environ.get("MEDIA_MAX_PIXELS"), 33_177_600)  # 7680 x 4320
    MEDIA_MAX_FRAMES = as_int(os.environ.get("MEDIA_MAX_FRAMES"), 1000)
    MEDIA_PER_POST = as_int(os.environ.get("MEDIA_PER_POST"), 4)
    MEDIA_QUOTA_BYTES = as_int(os.environ.get("MEDIA_QUOTA_BYTES"), 1024 * 1024 * 1024)
    # Uploads never attached to a post are deleted after this long.
    MEDIA_ORPHAN_HOURS = as_int(os.environ.get("MEDIA_ORPHAN_HOURS"), 24)
    RATELIMIT_UPLOADS = os.environ.get("RATELIMIT_UPLOADS", "60 per hour")

    # --- Private messages and notifications ----------------------------------------------------
    MESSAGE_MAX_LENGTH = as_int(os.environ.get("MESSAGE_MAX_LENGTH"), 1000)
    MESSAGES_PER_PAGE = as_int(os.environ.get("MESSAGES_PER_PAGE"), 20)
    NOTIFICATIONS_PER_PAGE = as_int(os.environ.get("NOTIFICATIONS_PER_PAGE"), 20)
    # A new message is emailed when the recipient has not been seen for this long (and wants it).
    MESSAGE_EMAIL_AFTER_MINUTES = as_int(os.environ.get("MESSAGE_EMAIL_AFTER_MINUTES"), 30)
    # How often open pages ask for the unread count (slower while the tab is hidden).
    NOTIFICATIONS_POLL_SECONDS = as_int(os.environ.get("NOTIFICATIONS_POLL_SECONDS"), 20)

    # --- Languages and time zones --------------------------------------------------------------
    LANGUAGES = ["en", "es", "fr", "de", "pt_BR", "ja", "zh_CN", "ar"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")

    # --- Mail (without MAIL_SERVER, messages are written to the log instead of sent) -----------
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = as_int(os.environ.get("MAIL_PORT"), 25)
    MAIL_USE_TLS = as_bool(os.environ.get("MAIL_USE_TLS"))
    MAIL_USE_SSL = as_bool(os.environ.get("MAIL_USE_SSL"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "microblog@localhost")
    ADMINS = as_list(os.environ.get("ADMINS"))
    MAIL_MAX_ATTEMPTS = as_int(os.environ.get("MAIL_MAX_ATTEMPTS"), 6)
    # Ask new users to confirm their address before posting; on by default when mail can be sent.
    EMAIL_CONFIRMATION = as_bool(os.environ.get("EMAIL_CONFIRMATION"), default=bool(MAIL_SERVER))

    # --- Background jobs: RQ when REDIS_URL is set, otherwise a worker thread in each web process -
    REDIS_URL = os.environ.get("REDIS_URL")
    JOBS_BACKEND = os.environ.get("JOBS_BACKEND") or ("rq" if REDIS_URL else "thread")
    JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "microblog")
    # How long one job may run in an RQ worker before it is stopped (RQ's own default, 3 minutes, would
    # cut a large export short; a stopped task is then reported failed by its heartbeat).
    JOB_TIMEOUT_SECONDS = as_int(os.environ.get("JOB_TIMEOUT_SECONDS"), 3600)
    # A running background task writes a heartbeat as it goes; one silent for this many seconds
    # belonged to a worker that died (killed, out of memory, machine restarted) and is marked failed.
    TASK_HEARTBEAT_TIMEOUT = as_int(os.environ.get("TASK_HEARTBEAT_TIMEOUT"), 120)

    # --- Full-text search ----------------------------------------------------------------------
    # "whoosh" (an index folder the web and worker processes share) or "postgres" (tsvector + GIN in
    # the database, for several app servers). See the README's "Search" section.
    SEARCH_BACKEND = os.environ.get("SEARCH_BACKEND", "whoosh").strip().lower()
    # Empty means INSTANCE_DIR/search-index (worked out when the app starts, so INSTANCE_DIR can change).
    WHOOSH_INDEX_DIR = os.environ.get("WHOOSH_INDEX_DIR", "")
    # Seconds an index writer waits for another process's writer before giving up (and logging it).
    WHOOSH_WRITER_TIMEOUT = as_int(os.environ.get("WHOOSH_WRITER_TIMEOUT"), 60)

    # --- Exports: files users can download for a while after the job made them -----------------
    # Unset: "exports" inside INSTANCE_DIR (worked out in finalize, after overrides).
    EXPORTS_DIR = os.environ.get("EXPORTS_DIR")
    EXPORT_RETENTION_HOURS = as_int(os.environ.get("EXPORT_RETENTION_HOURS"), 48)
    # Rows an export reads per query (0: the built-in 500).
    EXPORT_BATCH_SIZE = as_int(os.environ.get("EXPORT_BATCH_SIZE"), 0)

    # --- Imports: follows, blocks, mutes and bookmarks from Mastodon's CSV files -----------------
    IMPORT_MAX_BYTES = as_int(os.environ.get("IMPORT_MAX_BYTES"), 1024 * 1024)
    IMPORT_MAX_ROWS = as_int(os.environ.get("IMPORT_MAX_ROWS"), 10_000)
    # Rows the import job applies between two progress reports (and heartbeats).
    IMPORT_BATCH_SIZE = as_int(os.environ.get("IMPORT_BATCH_SIZE"), 50)
    RATELIMIT_IMPORTS = os.environ.get("RATELIMIT_IMPORTS", "5 per hour")
    # --- Deleting one's own account (services/account_deletion.py) ---------------------------
    # Days between asking and the deletion; signing in before then cancels it.
    ACCOUNT_DELETION_GRACE_DAYS = as_int(os.environ.get("ACCOUNT_DELETION_GRACE_DAYS"), 30)
    # Rows the deletion job removes per committed batch.
    ACCOUNT_DELETION_BATCH_SIZE = as_int(os.environ.get("ACCOUNT_DELETION_BATCH_SIZE"), 500)
    # Seconds a worker holds a deletion it runs (renewed every batch): after a worker dies, the next
    # sweep hands the account to another worker once this runs out.
    ACCOUNT_DELETION_LEASE_SECONDS = as_int(os.environ.get("ACCOUNT_DELETION_LEASE_SECONDS"), 300)

    # --- The JSON API: bearer tokens and the OpenAPI document (/api/openapi.json, /api/docs) ----
    API_TOKEN_HOURS = as_int(os.environ.get("API_TOKEN_HOURS"), 24)
    API_TITLE = "Microblog API"
    API_VERSION = "1.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/static/vendor/swagger-ui/"  # served locally: no CDN

    # --- Logging -------------------------------------------------------------------------------
    LOG_TO_STDOUT = as_bool(os.environ.get("LOG_TO_STDOUT"))
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    @staticmethod
    def derive_paths(settings: dict) -> None:
        """Paths that default to places inside INSTANCE_DIR, which tests and tools may override."""
        if not settings.get("MEDIA_DIR"):
            settings["MEDIA_DIR"] = str(Path(settings["INSTANCE_DIR"]) / "media")
        if not settings.get("EXPORTS_DIR"):
            settings["EXPORTS_DIR"] = str(Path(settings["INSTANCE_DIR"]) / "exports")
        if not settings.get("RATELIMIT_STORAGE_URI"):
            shared_file = Path(settings["INSTANCE_DIR"]).resolve() / "ratelimits.sqlite"
            settings["RATELIMIT_STORAGE_URI"] = settings.get("REDIS_URL") or f"sqlite:///{shared_file}"

    @classmethod
    def finalize(cls, settings: dict) -> None:
        """Work out the derived settings once overrides are in. Reads only: it writes no files (the
        factory applies the secret-key policy, microblog/secret_keys.py)."""
        cls.derive_paths(settings)
        if not settings.get("SITE_URL"):
            # Without SITE_URL, links in mails point at the development server (`make run PORT=8080`).
            settings["SITE_URL"] = development_site_url()


class ProdConfig(Config):
    """Production: the secret key must come from the environment (checked by the factory), cookies are
    secure, the schema is checked at boot."""

    # Browsers remember to use HTTPS only for a year (the site must be served over TLS).
    HSTS_SECONDS = as_int(os.environ.get("HSTS_SECONDS"), 365 * 24 * 3600)
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    LOG_TO_STDOUT = as_bool(os.environ.get("LOG_TO_STDOUT"), default=True)
    # gunicorn and `flask worker` refuse to start on a database behind the migrations
    # (microblog/schema_check.py).
    SCHEMA_CHECK = as_bool(os.environ.get("SCHEMA_CHECK"), default=True)


def development_site_url() -> str:
    """The address `flask run` serves on, from its --host, --port and --cert (FLASK_RUN_PORT and
    FLASK_RUN_HOST set them too); outside `flask run`, the development server's default address.

    A server bound to every interface (0.0.0.0, ::) is reached on this machine at 127.0.0.1.
    """
    context = click.get_current_context(silent=True)
    params = context.params if context is not None and context.command.name == "run" else {}
    host = params.get("host") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    scheme = "https" if params.get("cert") else "http"
    return f"{scheme}://{host}:{params.get('port') or 5000}"


def config_from_env() -> type[Config]:
    """Pick the configuration class: ``MICROBLOG_ENV=production`` selects ProdConfig."""
    return ProdConfig if os.environ.get("MICROBLOG_ENV", "").lower() == "production" else Config
