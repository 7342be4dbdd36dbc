"""Where media files live: one small interface over local files or an S3-compatible bucket."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from flask import Flask, current_app

if TYPE_CHECKING:
    from botocore.client import BaseClient

# Keys under "m/" are public (processed files named by the sha256 of their own bytes); keys under
# "incoming/" are raw uploads waiting for their job, never served and never linked.
KEY_PATTERN = re.compile(r"(m|incoming)/[0-9a-f]{2}/[0-9a-f]{64}(-[a-z0-9]+)?(\.(jpg|png|webp|gif))?")
EXTENSIONS = ("jpg", "png", "webp", "gif")
# A public key names its content, so it never changes: caches may keep it for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
LOCAL_BASE_URL = "/media"


class StorageError(Exception):
    """The store could not be reached or refused the operation; the message says which and why."""


class MissingFile(StorageError, KeyError):
    """The store answered, and the key is not there."""

    def __str__(self) -> str:
        # KeyError would print the repr of its argument; this is a sentence, not a key.
        return Exception.__str__(self)


@runtime_checkable
class Storage(Protocol):
    """What the media service needs from a store."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def url(self, key: str) -> str: ...


def is_valid_key(key: str) -> bool:
    """Whether ``key`` has the one shape a media key may have (so it can never name a path elsewhere)."""
    # fullmatch, not match with "$": "$" would accept a key ending in a newline.
    return isinstance(key, str) and KEY_PATTERN.fullmatch(key) is not None


def key_for(digest: str, ext: str | None, *, public: bool = True) -> str:
    """The key of a file whose sha256 is ``digest``: public and processed, or a private raw upload.

    :raises ValueError: ``digest`` is not 64 lowercase hex digits, or ``ext`` not a known extension.
    """
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"not a sha256 hex digest: {digest!r}")
    if not public:
        return f"incoming/{digest[:2]}/{digest}"
    if ext is None:
        return f"m/{digest[:2]}/{digest}"
    if ext not in EXTENSIONS:
        raise ValueError(f"not a media extension: {ext!r}")
    return f"m/{digest[:2]}/{digest}.{ext}"


def _checked(key: str) -> str:
    if not is_valid_key(key):
        raise ValueError(f"not a media key: {key!r}")
    return key


def _join(base_url: str, key: str) -> str:
    return f"{base_url.rstrip('/')}/{key}"


class LocalStorage:
    """Files under ``root/<key>``, written atomically; the app (or nginx) serves them at ``base_url``."""

    def __init__(self, root: Path | str, base_url: str = LOCAL_BASE_URL):
        self.root = Path(root)
        self.base_url = base_url

    def path(self, key: str) -> Path:
        """The file that holds ``key`` (for the serving route); refuses a key of any other shape."""
        return self.root / _checked(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data``: readers see the old file or the whole new one, never a part."""
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._write_atomically(target, data)
        except OSError as error:
            raise StorageError(f"could not write {key} under {self.root}: {error}") from error

    @staticmethod
    def _write_atomically(target: Path, data: bytes) -> None:
        # The temporary name starts with a dot, so it is never a valid key and never served.
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as file:
                # Readable by a web server (nginx) running as another user; mkstemp makes it 0600.
                os.fchmod(file.fileno(), 0o644)
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _fsync_directory(target.parent)

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``."""
        path = self.path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as error:
            raise MissingFile(f"no file {key} under {self.root}") from error
        except OSError as error:
            raise StorageError(f"could not read {key} under {self.root}: {error}") from error

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is fine."""
        path = self.path(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            raise StorageError(f"could not delete {key} under {self.root}: {error}") from error

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def url(self, key: str) -> str:
        return _join(self.base_url, _checked(key))


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (a crash after os.replace must not lose the new name)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the data itself is already on disk
    finally:
        os.close(fd)


class S3Storage:
    """Objects in an S3-compatible bucket (AWS, MinIO, moto...), through boto3 (imported on first use).

    The client is built on first use, so creating the app makes no connection. Every failure of boto3 or
    botocore comes out as StorageError (MissingFile for a key that is not there).
    """

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None,
                 base_url: str | None = None, connect_timeout: float = 3, read_timeout: float = 10,
                 max_attempts: int = 3):
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self.base_url = base_url or None
        # Empty credentials mean "let boto3 find them" (AWS_* environment, instance role...).
        self._access_key = access_key or None
        self._secret_key = secret_key or None
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_attempts = max_attempts
        self._client: BaseClient | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    def client(self) -> BaseClient:
        """The boto3 S3 client, built once (clients are thread-safe; boto3's default session is not)."""
        with self._lock:
            if self._client is None:
                with self._errors("connect to"):
                    self._client = self._make_client()
            return self._client

    def _make_client(self) -> BaseClient:
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            # A few attempts with backoff, then fail: a request never waits on a dead store for long.
            # total_max_attempts counts the first attempt; botocore's "max_attempts" would not.
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            # Path style (endpoint/bucket/key) works with every S3-compatible server, moto and MinIO too.
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            # botocore >= 1.36 adds CRC checksums with trailers to every upload by default, which some
            # S3-compatible servers refuse; send them only when an operation requires one.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        session = boto3.session.Session()
        return session.client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region,
            aws_access_key_id=self._access_key, aws_secret_access_key=self._secret_key, config=config)

    @contextlib.contextmanager
    def _errors(self, action: str, key: str | None = None) -> Iterator[None]:
        """Turn whatever boto3, botocore or the connection raise into StorageError."""
        from botocore.exceptions import BotoCoreError, ClientError

        where = f"{key} in bucket {self.bucket}" if key else f"bucket {self.bucket}"
        try:
            yield
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if key and code in ("NoSuchKey", "404", "NotFound"):
                raise MissingFile(f"no object {where}") from error
            raise StorageError(f"S3 refused to {action} {where}: {error}") from error
        except (BotoCoreError, OSError, ValueError) as error:
            raise StorageError(f"could not {action} {where} at {self._endpoint()}: {error}") from error

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Upload ``data``; public keys get a year-long immutable cache header."""
        extra: dict[str, Any] = {"ContentType": content_type, "ContentDisposition": "inline"}
        if _checked(key).startswith("m/"):
            extra["CacheControl"] = IMMUTABLE
        with self._errors("store", key):
            self.client().put_object(Bucket=self.bucket, Key=key, Body=data, **extra)

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``."""
        _checked(key)
        with self._errors("read", key):
            response = self.client().get_object(Bucket=self.bucket, Key=key)
            with contextlib.closing(response["Body"]) as body:
                return bytes(body.read())

    def delete(self, key: str) -> None:
        """Remove ``key``; S3 answers the same whether it was there or not."""
        _checked(key)
        with self._errors("delete", key):
            self.client().delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        _checked(key)
        try:
            with self._errors("look up", key):
                self.client().head_object(Bucket=self.bucket, Key=key)
        except MissingFile:
            return False
        return True

    def head(self, key: str) -> dict[str, Any]:
        """The stored object's headers (ContentType, CacheControl, ContentLength...)."""
        _checked(key)
        with self._errors("look up", key):
            response: dict[str, Any] = self.client().head_object(Bucket=self.bucket, Key=key)
        return response

    def url(self, key: str) -> str:
        """The CDN address when MEDIA_BASE_URL is set, else the object's path-style address."""
        _checked(key)
        if self.base_url:
            return _join(self.base_url, key)
        return f"{self._endpoint()}/{self.bucket}/{key}"

    def _endpoint(self) -> str:
        if self.endpoint_url:
            return self.endpoint_url.rstrip("/")
        return f"https://s3.{self.region or 'us-east-1'}.amazonaws.com"

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist (for the CLI and tests; the app never creates it).

        Without a CDN, url() sends browsers to the bucket itself, so its "m/" keys are made readable by
        anyone (a bucket policy on that prefix only: raw uploads under "incoming/" stay private). With a
        CDN (MEDIA_BASE_URL), granting the CDN access is left to whoever set it up.
        """
        with self._errors("create"):
            client = self.client()
            if not self._bucket_exists(client):
                options: dict[str, Any] = {}
                region = client.meta.region_name
                if region and region != "us-east-1":
                    options["CreateBucketConfiguration"] = {"LocationConstraint": region}
                try:
                    client.create_bucket(Bucket=self.bucket, **options)
                except Exception as error:  # botocore's ClientError: another process made it first
                    if _error_code(error) != "BucketAlreadyOwnedByYou":
                        raise
        if not self.base_url:
            with self._errors("make the public keys readable in"):
                client.put_bucket_policy(Bucket=self.bucket, Policy=public_policy(self.bucket))

    def _bucket_exists(self, client: BaseClient) -> bool:
        try:
            client.head_bucket(Bucket=self.bucket)
        except Exception as error:  # botocore's ClientError; anything else goes to _errors
            if _error_code(error) in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise
        return True


def public_policy(bucket: str) -> str:
    """A bucket policy that lets anyone read the public keys ("m/...") and nothing else."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "PublicMedia", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{bucket}/m/*"}],
    })


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def make_storage(config: Mapping[str, Any]) -> LocalStorage | S3Storage:
    """The store the MEDIA_* settings in ``config`` describe (a Flask config or a plain dict)."""
    kind = (config.get("MEDIA_STORAGE") or "local").lower()
    base_url = config.get("MEDIA_BASE_URL") or ""
    if kind == "local":
        root = config.get("MEDIA_DIR") or os.path.join(config["INSTANCE_DIR"], "media")
        return LocalStorage(Path(root), base_url or LOCAL_BASE_URL)
    if kind == "s3":
        bucket = config.get("MEDIA_S3_BUCKET")
        if not bucket:
            raise ValueError("MEDIA_STORAGE is s3 but MEDIA_S3_BUCKET is not set")
        return S3Storage(
            bucket,
            endpoint_url=config.get("MEDIA_S3_ENDPOINT_URL") or None,
            region=config.get("MEDIA_S3_REGION") or None,
            access_key=config.get("MEDIA_S3_ACCESS_KEY") or None,
            secret_key=config.get("MEDIA_S3_SECRET_KEY") or None,
            base_url=base_url or None,
            connect_timeout=float(config.get("MEDIA_S3_CONNECT_TIMEOUT") or 3),
            read_timeout=float(config.get("MEDIA_S3_READ_TIMEOUT") or 10),
            max_attempts=int(config.get("MEDIA_S3_MAX_ATTEMPTS") or 3),
        )
    raise ValueError(f"MEDIA_STORAGE must be 'local' or 's3', not {kind!r}")


def init_app(app: Flask) -> None:
    """Build the configured store (no connection yet) and keep it in ``app.extensions``."""
    app.extensions["media_storage"] = make_storage(app.config)


def storage() -> Storage:
    """The current app's media store."""
    found: Storage = current_app.extensions["media_storage"]
    return found


def media_url(key: str | None) -> str | None:
    """Where a browser loads the stored file ``key`` from (None for no file)."""
    return storage().url(key) if key else None
