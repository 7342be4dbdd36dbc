"""Mastodon.py, a real client, posts, reads, edits, favourites, reblogs and deletes statuses over HTTP
(the server and the sign-in of tests/test_mastodon_client.py)."""

from __future__ import annotations

from tests.mastodon_live import consent_in_browser
from tests.test_mastodon_client import OOB, SCOPES, Mastodon


def test_mastodon_py_posts_and_acts_on_statuses(live):
    client_id, client_secret = Mastodon.create_app("pytest client", scopes=SCOPES, redirect_uris=OOB,
                                                   api_base_url=live)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=live)
    url = api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True)
    api.log_in(code=consent_in_browser(live, url), redirect_uri=OOB, scopes=SCOPES, allow_http=True)

    first = api.status_post("Hello from #Mastodon.py", spoiler_text="cw", idempotency_key="retry-1")
    again = api.status_post("Hello from #Mastodon.py", spoiler_text="cw", idempotency_key="retry-1")
    assert first.id == again.id and first.spoiler_text == "cw" and first.account.username == "alice"
    reply = api.status_reply(first, "and a reply", visibility="private")
    assert reply.in_reply_to_id == first.id and reply.visibility == "private"
    assert [s.id for s in api.status_context(first).descendants] == [reply.id]
    assert [s.id for s in api.status_context(reply).ancestors] == [first.id]

    assert api.status_favourite(first).favourited is True
    assert [a.username for a in api.status_favourited_by(first)] == ["alice"]
    boost = api.status_reblog(first)
    assert boost.reblog.id == first.id and boost.reblog.reblogged is True
    assert api.status_unreblog(first).reblogged is False
    assert api.status_bookmark(first).bookmarked is True

    edited = api.status_update(first, "Hello again", spoiler_text="cw")
    assert "Hello again" in edited.content and edited.edited_at is not None
    assert len(api.status_history(first)) == 2
    assert api.status_source(first).text == "Hello again"
    assert [s.id for s in api.statuses([first, reply])] == [first.id, reply.id]

    deleted = api.status_delete(reply)
    assert deleted.text.endswith("and a reply")  # Mastodon.py put the mention in front
