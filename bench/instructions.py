"""Instructions per request, counted by valgrind: a comparison of two commits that the machine's load
cannot blur (wrk's CPU times moved by 30% between a quiet and a busy machine; these counts do not).

Run one checkout's app in-process (production settings, a signed-in test client, HTTPS) on a seeded
SQLite database, under callgrind; every ``os.getppid()`` call ends a measured phase (callgrind's
``--dump-before=os_getppid``), so each dump holds ``--requests`` requests of one path::

    cp seeded.db /tmp/a.db
    valgrind --tool=callgrind --dump-before=os_getppid --callgrind-out-file=/tmp/cg-a/cg.out \\
        .venv/bin/python bench/instructions.py CHECKOUT /tmp/a.db --requests 10
    grep -h '^summary:\\|^totals:' /tmp/cg-a/cg.out.*  # dump 1 is the setup; then one per path, in order

The database must be seeded with ``flask seed`` (its people's password is the demo password);
bench/README.md ("Comparing two commits") has a run.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import re
import secrets
import sys

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HIDDEN_RE = re.compile(r'<input id="[^"]*" name="([^"]+)" type="hidden" value="([^"]*)"')
OAUTH_CODE_RE = re.compile(r'id="oauth-code" value="([^"]+)"')
PASSWORD = "microblog-demo"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", help="the project folder whose code is measured")
    parser.add_argument("database", help="a seeded SQLite file (it is written to: use a copy)")
    parser.add_argument("--requests", type=int, default=10, help="requests per path")
    args = parser.parse_args()
    os.chdir(args.checkout)
    sys.path.insert(0, args.checkout)
    os.environ.update({
        "MICROBLOG_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": f"sqlite:///{args.database}", "LOG_LEVEL": "WARNING", "LOG_TO_STDOUT": "1",
        "INSTANCE_DIR": args.database + ".instance", "RATELIMIT_ENABLED": "0",
    })
    logging.disable(logging.WARNING)
    import sqlalchemy as sa

    from microblog import create_app
    from microblog.extensions import db
    from microblog.models import User, followers

    app = create_app()
    with app.app_context():
        top = db.session.scalar(sa.select(sa.func.max(User.id)))
        me = db.session.get(User, top // 2)
        other = db.session.scalars(sa.select(User).join(followers, followers.c.followed_id == User.id)
                                   .where(followers.c.follower_id == me.id).order_by(User.id)).first()
        me_name, other_name, other_id = me.username, other.username, other.id
    signed_in, anonymous = app.test_client(), app.test_client()
    for client in (signed_in, anonymous):
        client.environ_base["wsgi.url_scheme"] = "https"  # production cookies are Secure
    form = signed_in.get("/auth/login").get_data(as_text=True)
    answer = signed_in.post("/auth/login", headers={"Referer": "https://localhost/auth/login"}, data={
        "username": me_name, "password": PASSWORD, "csrf_token": CSRF_RE.search(form).group(1)})
    if answer.status_code != 302:
        raise SystemExit(f"could not sign in as {me_name} ({answer.status_code})")
    basic = base64.b64encode(f"{me_name}:{PASSWORD}".encode()).decode()
    bearer = anonymous.post("/api/tokens", headers={"Authorization": f"Basic {basic}"}).json["token"]
    oauth = mastodon_token(signed_in, anonymous)
    paths = [("home", signed_in, "/", {}), ("explore", signed_in, "/explore", {}),
             ("profile", signed_in, f"/user/{other_name}", {}),
             ("followers", signed_in, f"/user/{other_name}/followers", {}),
             ("api-user", anonymous, f"/api/users/{other_id}", {}),
             ("api-followers", anonymous, f"/api/users/{other_id}/followers", {}),
             ("api-timeline", anonymous, "/api/timeline", {"Authorization": f"Bearer {bearer}"}),
             ("api-mastodon-home", anonymous, "/api/v1/timelines/home",
              {"Authorization": f"Bearer {oauth}"})]
    for _ in range(5):  # warm: caches filled, every template compiled
        for name, client, path, headers in paths:
            status = client.get(path, headers=headers).status_code
            if status != 200:
                raise SystemExit(f"{name}: {path} answered {status}")
    os.getppid()  # the end of the setup phase
    for _name, client, path, headers in paths:
        for _ in range(args.requests):
            client.get(path, headers=headers)
        os.getppid()
    print(json.dumps([name for name, *_ in paths]))


def mastodon_token(signed_in, anonymous) -> str:
    """An OAuth token of the signed-in user, as a Mastodon app gets one (bench/servers.py does the same
    over HTTP): register an app, say yes on the consent page, exchange the code."""
    oob = "urn:ietf:wg:oauth:2.0:oob"
    app = anonymous.post("/api/v1/apps", data={"client_name": "bench", "redirect_uris": oob,
                                               "scopes": "read"}).json
    page = signed_in.get("/oauth/authorize", query_string={
        "response_type": "code", "client_id": app["client_id"], "redirect_uri": oob, "scope": "read"})
    form = dict(HIDDEN_RE.findall(page.get_data(as_text=True)))
    answer = signed_in.post("/oauth/authorize", headers={"Referer": "https://localhost/oauth/authorize"},
                            data={**form, "authorize": "x"}).get_data(as_text=True)
    code = OAUTH_CODE_RE.search(answer)
    if code is None:
        raise SystemExit("no OAuth code from the consent page")
    return anonymous.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code.group(1), "client_id": app["client_id"],
        "client_secret": app["client_secret"], "redirect_uri": oob}).json["access_token"]


if __name__ == "__main__":
    main()
