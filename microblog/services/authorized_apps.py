"""The apps a person let in (Settings > Authorized apps): what each may do, since when, when it was
last used, and revoking all of an app's tokens at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from microblog.extensions import db
from microblog.logs import security_event
from microblog.models import OAuthAccessToken, OAuthApplication, User
from microblog.services import audit, oauth


@dataclass
class AuthorizedApp:
    """An app holding live tokens of a user: what they may do, since when, and when last used."""

    application: OAuthApplication
    scopes: list[str]
    authorized_at: datetime
    last_used_at: datetime | None


def authorized_apps(user: User) -> list[AuthorizedApp]:
    """The apps with unrevoked tokens of ``user``, most recently authorized first."""
    tokens = db.session.scalars(
        sa.select(OAuthAccessToken).where(OAuthAccessToken.user_id == user.id,
                                          OAuthAccessToken.revoked_at.is_(None))
        .options(sa.orm.joinedload(OAuthAccessToken.application)).order_by(OAuthAccessToken.id)
    ).all()
    apps: dict[int, AuthorizedApp] = {}
    for token in tokens:
        entry = apps.get(token.application_id)
        if entry is None:
            apps[token.application_id] = AuthorizedApp(token.application, list(token.scope_list),
                                                        token.created_at, token.last_used_at)
            continue
        entry.scopes += [scope for scope in token.scope_list if scope not in entry.scopes]
        entry.authorized_at = max(entry.authorized_at, token.created_at)
        if token.last_used_at and (entry.last_used_at is None or token.last_used_at > entry.last_used_at):
            entry.last_used_at = token.last_used_at
    return sorted(apps.values(), key=lambda entry: entry.authorized_at, reverse=True)


def revoke_application(user: User, application_id: int) -> int:
    """End every token ``user`` gave the app; returns how many (0: nothing to revoke)."""
    application = db.session.get(OAuthApplication, application_id)
    if application is None:
        return 0
    count = oauth.revoke_where(OAuthAccessToken.user_id == user.id,
                          OAuthAccessToken.application_id == application_id)
    if count:
        audit.record(user, audit.APP_REVOKE, user, details=application.name[:200])
    db.session.commit()
    if count:
        security_event("oauth.app_revoked", user_id=user.id, app_id=application_id, count=count)
    return count
