"""API links built from templates are exactly what url_for builds, under any mount point."""

from __future__ import annotations

import pytest
from flask import url_for

from microblog.api.links import post_url, user_links, user_url
from microblog.extensions import db
from microblog.models import User
from tests.factories import make_post, make_user


@pytest.mark.parametrize("base_url", ["http://localhost/", "http://example.com/prefix/"])
def test_links_match_url_for(app, base_url):
    with app.app_context():
        users = [make_user("a_1"), make_user("Zed_99")]
        post = make_post(users[0])
        weird = User(id=123456, username="not valid!", email="w@example.com", password_hash="x")
        for user in [*users, weird]:
            with app.test_request_context("/", base_url=base_url):
                assert user_links(user) == {
                    "self": url_for("api_users.get_user", user_id=user.id),
                    "posts": url_for("api_posts.get_user_posts", user_id=user.id),
                    "followers": url_for("api_users.get_followers", user_id=user.id),
                    "following": url_for("api_users.get_following", user_id=user.id),
                    "avatar": url_for("main.avatar", digest=user.avatar_digest),
                    "html": url_for("main.user", username=user.username),
                }
        with app.test_request_context("/", base_url=base_url):
            assert post_url(post.id) == url_for("api_posts.get_post", post_id=post.id)
            assert user_url(2**31 - 1) == url_for("api_users.get_user", user_id=2**31 - 1)
        db.session.rollback()
