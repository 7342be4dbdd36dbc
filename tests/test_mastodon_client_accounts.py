"""Mastodon.py drives the accounts API over HTTP as an app would: edit the profile with a picture,
look up, search, follow and page followers, block and mute, and read the start-up lists."""

from __future__ import annotations

import io

import requests

from tests.factories import DEFAULT_PASSWORD
from tests.mastodon_live import consent_in_browser
from tests.media_samples import png_bytes
from tests.test_mastodon_client import OOB, SCOPES, Mastodon


def signed_in(base: str):
    client_id, client_secret = Mastodon.create_app("pytest client", scopes=SCOPES, redirect_uris=OOB,
                                                   api_base_url=base)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    code = consent_in_browser(base, api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True))
    api.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
    return api


def test_mastodon_py_uses_the_accounts_api(live):
    for name in ("bobby",):  # bob is on the live site already
        answer = requests.post(f"{live}/api/users", timeout=30,
                               json={"username": name, "email": f"{name}@example.com",
                                     "password": DEFAULT_PASSWORD})
        assert answer.status_code == 202, answer.text
    api = signed_in(live)

    me = api.account_update_credentials(note="Edited by an app", avatar=io.BytesIO(png_bytes(48, 48)),
                                        avatar_mime_type="image/png", default_privacy="private",
                                        default_language="de", discoverable=True, bot=False)
    assert me.source.note == "Edited by an app" and me.source.privacy == "private"
    assert me.avatar.startswith(live) and me.source.language == "de"

    bob = api.account_lookup("bob")
    assert bob.acct == "bob" and api.account(bob.id).username == "bob"
    assert [account.username for account in api.account_search("bob")][:2] == ["bob", "bobby"]

    relationship = api.account_follow(bob.id)
    assert relationship.following and not relationship.followed_by
    assert api.account(bob.id).followers_count == 1
    followers = api.account_followers(bob.id, limit=1)
    assert [account.username for account in followers] == ["alice"]
    assert api.fetch_next(followers) is None or api.fetch_next(followers) == []
    assert [r.following for r in api.account_relationships([bob.id])] == [True]

    blocked = api.account_block(bob.id)
    assert blocked.blocking and not blocked.following
    assert [account.username for account in api.blocks()] == ["bob"]
    api.account_unblock(bob.id)
    assert api.account_mute(api.account_lookup("bobby").id).muting
    assert [account.username for account in api.mutes()] == ["bobby"]

    assert api.preferences()["posting:default:visibility"] == "private"
    assert api.follow_requests() == [] and api.lists() == [] and api.domain_blocks() == []
    assert api.endorsements() == [] and api.followed_tags() == []
    assert isinstance(api.suggestions(), list)

