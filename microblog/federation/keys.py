"""Each local account's RSA key pair: made after sign-up (a job) or at first need, the private key kept
in the database and used only here to sign; the public key published on the actor."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from microblog import jobs
from microblog.extensions import db
from microblog.federation import urls
from microblog.models import SiteKey, User

KEY_BITS = 2048
INSTANCE = "instance"


@dataclass(frozen=True)
class Signer:
    """Who signs a request: a key id others can fetch, and its private key."""

    key_id: str
    private_pem: str


def generate_key_pair() -> tuple[str, str]:
    """A new RSA key pair as (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


def ensure_keys(user: User) -> User:
    """Give local ``user`` a key pair unless they have one, committed at once. Two processes racing
    here both write a pair: the UPDATE only applies where there is none yet, and the row is re-read."""
    if user.private_key_pem is not None or user.domain is not None:
        return user
    private_pem, public_pem = generate_key_pair()
    db.session.execute(
        User.__table__.update().where(User.id == user.id, User.private_key_pem.is_(None))
        .values(private_key_pem=private_pem, public_key_pem=public_pem))
    db.session.commit()
    db.session.refresh(user)
    return user


@jobs.task
def make_keys(user_id: int) -> None:
    """The key pair of a new account, made in the background so that signing up stays quick."""
    user = db.session.get(User, user_id)
    if user is not None:
        ensure_keys(user)


def queue_keys(user_id: int) -> None:
    jobs.enqueue(make_keys, user_id)


def signer_for(user: User) -> Signer:
    """The signer of local ``user`` (their key pair made now if they have none yet)."""
    if user.domain is not None:
        raise ValueError("only local accounts sign requests")
    ensure_keys(user)
    assert user.private_key_pem is not None
    return Signer(urls.key_id(user.username), user.private_key_pem)


def instance_signer() -> Signer:
    """The site's own signer (its instance actor, ``/actor``): for requests no one person makes, such
    as fetching the key of an actor whose server refuses unsigned fetches."""
    return Signer(urls.instance_actor_uri() + "#main-key", instance_key().private_key_pem)


def instance_key() -> SiteKey:
    """The site's key pair, made (once, whoever races) at first need."""
    row = db.session.get(SiteKey, INSTANCE)
    if row is not None:
        return row
    private_pem, public_pem = generate_key_pair()
    try:
        db.session.execute(sa.insert(SiteKey).values(name=INSTANCE, private_key_pem=private_pem,
                                                     public_key_pem=public_pem, created_at=sa.func.now()))
        db.session.commit()
    except sa.exc.IntegrityError:  # another process made it first: theirs is the one
        db.session.rollback()
    row = db.session.get(SiteKey, INSTANCE)
    assert row is not None
    return row
