"""accounts.update_profile checks everything before it changes anything."""

from __future__ import annotations

import pytest

from microblog.exceptions import ValidationError
from microblog.extensions import db
from microblog.services import accounts
from tests.factories import make_user


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"locale": "xx"}, "locale", id="unknown-language"),
        pytest.param({"timezone": "Mars/Olympus"}, "timezone", id="unknown-zone"),
        pytest.param({"about_me": "x" * 501}, "about_me", id="long-about-me"),
        pytest.param({"about_me": "bell\x07"}, "about_me", id="control-about-me"),
    ],
)
def test_a_refused_save_leaves_the_user_as_it_was(app, change, field):
    """A refusal found after the name check used to leave the new name assigned on the session's
    user, so the page showing the error (its menu, its title) showed a name that was never saved."""
    with app.app_context():
        user = make_user("alice", about_me="original", locale="de", timezone="Europe/Berlin")
        arguments = {"username": "renamed", "about_me": "changed", "notify_new_follower": False,
                     "locale": "fr", "timezone": "Europe/Paris", **change}
        with pytest.raises(ValidationError) as refused:
            accounts.update_profile(user, **arguments)
        assert refused.value.field == field
        assert (user.username, user.about_me, user.locale, user.timezone, user.notify_new_follower) == (
            "alice", "original", "de", "Europe/Berlin", True
        )
        assert not db.session.dirty
        db.session.expire_all()
        assert (user.username, user.about_me) == ("alice", "original")


def test_an_accepted_save_changes_every_field(app):
    with app.app_context():
        user = make_user("alice", about_me="original")
        accounts.update_profile(user, "renamed", " changed ", notify_new_follower=False,
                                locale="fr", timezone="Europe/Paris")
        db.session.expire_all()
        assert (user.username, user.about_me, user.notify_new_follower, user.locale, user.timezone) == (
            "renamed", "changed", False, "fr", "Europe/Paris"
        )
