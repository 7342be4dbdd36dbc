"""Each local account's RSA key pair: made after sign-up (a job) or at first need, the private key kept
in the database and used only here to sign; the public key published on the actor."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from microblog import jobs
from microblog.extensions import db
from microblog.models import User

KEY_BITS = 2048


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
