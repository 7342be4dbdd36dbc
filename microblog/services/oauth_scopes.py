"""Mastodon's OAuth scopes (docs: api/oauth-scopes): the list, their hierarchy, and their names for people.

A high-level scope grants its granular ones: ``read`` grants every ``read:*``, ``write`` every
``write:*``, ``admin:read`` every ``admin:read:*``, and the deprecated ``follow`` grants the six
relationship scopes. ``profile`` and ``push`` stand alone.
"""

from __future__ import annotations

from flask_babel import gettext as _

READ_SCOPES = ("read:accounts", "read:blocks", "read:bookmarks", "read:collections", "read:favourites",
               "read:filters", "read:follows", "read:lists", "read:mutes", "read:notifications",
               "read:search", "read:statuses")
WRITE_SCOPES = ("write:accounts", "write:blocks", "write:bookmarks", "write:collections",
                "write:conversations", "write:favourites", "write:filters", "write:follows", "write:lists",
                "write:media", "write:mutes", "write:notifications", "write:reports", "write:statuses")
FOLLOW_SCOPES = ("read:blocks", "read:follows", "read:mutes", "write:blocks", "write:follows", "write:mutes")
ADMIN_READ_SCOPES = ("admin:read:accounts", "admin:read:reports", "admin:read:domain_allows",
                     "admin:read:domain_blocks", "admin:read:ip_blocks", "admin:read:email_domain_blocks",
                     "admin:read:canonical_email_blocks")
ADMIN_WRITE_SCOPES = ("admin:write:accounts", "admin:write:reports", "admin:write:domain_allows",
                      "admin:write:domain_blocks", "admin:write:ip_blocks", "admin:write:email_domain_blocks",
                      "admin:write:canonical_email_blocks")
# What each high-level scope grants besides itself.
GRANTS: dict[str, tuple[str, ...]] = {
    "read": READ_SCOPES, "write": WRITE_SCOPES, "follow": FOLLOW_SCOPES,
    "admin:read": ADMIN_READ_SCOPES, "admin:write": ADMIN_WRITE_SCOPES,
}
# In the order Mastodon's /.well-known/oauth-authorization-server lists them.
ALL_SCOPES: tuple[str, ...] = (
    "read", "write", *WRITE_SCOPES, *READ_SCOPES, "follow", "push", "profile",
    "admin:read", *ADMIN_READ_SCOPES, "admin:write", *ADMIN_WRITE_SCOPES,
)
KNOWN = frozenset(ALL_SCOPES)
DEFAULT_SCOPE = "read"


def parse(text: str | None) -> list[str]:
    """The scopes of a space (or plus) separated string, in order, without repeats; [] for none."""
    seen: list[str] = []
    for scope in (text or "").replace("+", " ").split():
        if scope not in seen:
            seen.append(scope)
    return seen


def unknown(scopes: list[str]) -> list[str]:
    """The scopes in ``scopes`` that Mastodon does not define."""
    return [scope for scope in scopes if scope not in KNOWN]


def expand(scopes: list[str] | tuple[str, ...]) -> frozenset[str]:
    """Every scope ``scopes`` grant, the granular ones of the high-level ones included."""
    granted = set(scopes)
    for scope in scopes:
        granted.update(GRANTS.get(scope, ()))
    return frozenset(granted)


def allows(granted: list[str] | tuple[str, ...], *accepted: str) -> bool:
    """True when a token with ``granted`` scopes may call an endpoint that accepts any of ``accepted``."""
    have = expand(granted)
    return any(scope in have for scope in accepted)


def is_subset(requested: list[str], allowed: list[str]) -> bool:
    """True when every requested scope is one the app registered, or granted by one it registered."""
    have = expand(allowed)
    return all(scope in have for scope in requested)


def describe(scopes: list[str]) -> list[tuple[str, str]]:
    """Each scope with a sentence for people (the consent and authorized-apps pages)."""
    words = {
        "read": _("Read all your account's data"),
        "write": _("Change all your account's data: post, follow, like, edit your profile"),
        "follow": _("Follow, block and mute people, and see who you follow, block and mute"),
        "push": _("Receive your notifications as push messages"),
        "profile": _("Read only your profile's basic information"),
        "admin:read": _("Read the site's moderation data"),
        "admin:write": _("Take moderation actions on the site"),
    }
    parts = {
        "accounts": _("your profile and account"), "blocks": _("your blocks"),
        "bookmarks": _("your bookmarks"),
        "collections": _("your collections"), "conversations": _("your conversations"),
        "favourites": _("your likes"), "filters": _("your filters"), "follows": _("who you follow"),
        "lists": _("your lists"), "media": _("your uploaded images"), "mutes": _("your mutes"),
        "notifications": _("your notifications"), "reports": _("your reports"), "search": _("search"),
        "statuses": _("your posts"),
    }
    described = []
    for scope in scopes:
        if scope in words:
            described.append((scope, words[scope]))
            continue
        kind, _sep, part = scope.rpartition(":")
        subject = parts.get(part, part)
        if kind == "read":
            described.append((scope, _("Read %(what)s", what=subject)))
        elif kind == "write":
            described.append((scope, _("Change %(what)s", what=subject)))
        else:
            described.append((scope, _("Moderation: %(what)s", what=scope)))
    return described
