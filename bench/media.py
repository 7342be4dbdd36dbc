"""The bench's images: a member whose home timeline has four images on every post, and the 4 MB photo
the upload path posts through the home page's form.

Run as a script (by bench/run.py, in the environment of the site it measures) it adds the member
and the people they follow, and prints their names as JSON. Their posts are unlisted: they show in
their followers' timelines only, so explore, tags, search and every other path measure what they
measured before. The pictures are the demo ones (``microblog.seed_media``): a few real files,
processed and stored once, named by many rows; only rows are added per post.
"""

from __future__ import annotations

import io
import json
import random
import secrets
import sys
from datetime import timedelta
from pathlib import Path

PHOTOGRAPHERS = 4
POSTS_EACH = 40  # more than a page of 25 from each
IMAGES_PER_POST = 4  # the most a post may have: the heaviest page
PHOTO_SIZE = (4000, 3000)  # 12 megapixels, as a phone takes them
PHOTO_NOISE = 9  # grain that makes the JPEG about 4 MB, as a phone's would be
MINUTE = timedelta(minutes=1)


def photo() -> bytes:
    """A 12-megapixel JPEG of about 4 MB: a sky-coloured gradient with a phone camera's grain."""
    from PIL import Image, ImageChops, ImageOps

    gradient = Image.linear_gradient("L").resize(PHOTO_SIZE)
    sky = ImageOps.colorize(gradient, (20, 60, 140), (250, 190, 120))
    grain = Image.effect_noise(PHOTO_SIZE, PHOTO_NOISE).convert("RGB")
    out = io.BytesIO()
    ImageChops.add(sky, grain, scale=1.0, offset=-128).save(out, "JPEG", quality=90)
    return out.getvalue()


def upload_form(folder: Path, csrf_token: str) -> tuple[Path, str, int]:
    """The home page's form with the photo and its alt text, as multipart/form-data in a file (the post's
    text holds "{n}", which wrk.lua makes differ per request). Returns the file, its Content-Type and
    the photo's size."""
    boundary = f"bench-{secrets.token_hex(12)}"
    image = photo()

    def field(name: str, value: bytes, filename: str = "", content_type: str = "") -> bytes:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        return head.encode() + b"\r\n" + value + b"\r\n"

    body = (field("csrf_token", csrf_token.encode()) + field("post", b"Benchmark photo {n}")
            + field("alt-0", b"A gradient from blue to orange, grainy")
            + field("media-0", image, "photo.jpg", "image/jpeg") + f"--{boundary}--\r\n".encode())
    path = folder / "upload-form.bin"
    path.write_bytes(body)
    return path, f"multipart/form-data; boundary={boundary}", len(image)


def add_image_timeline() -> dict[str, str]:
    """A member following PHOTOGRAPHERS people whose POSTS_EACH posts all have IMAGES_PER_POST images."""
    import sqlalchemy as sa

    from microblog import create_app
    from microblog.extensions import db
    from microblog.models import Media, Post, User, Visibility, followers
    from microblog.passwords import hash_password
    from microblog.seed import DEMO_PASSWORD, insert_rows
    from microblog.seed_media import media_row, store_pictures
    from microblog.services.counters import recount_statement
    from microblog.timeutil import utcnow

    app = create_app()
    rng = random.Random(17)
    with app.app_context():
        pictures = store_pictures()
        now, password = utcnow(), hash_password(DEMO_PASSWORD)
        names = ["bench_gallery_fan"] + [f"bench_photographer_{n}" for n in range(PHOTOGRAPHERS)]
        users = [User(username=name, email=f"{name}@example.com", password_hash=password, confirmed_at=now,
                      notify_new_follower=False) for name in names]
        db.session.add_all(users)
        db.session.flush()
        fan, photographers = users[0], users[1:]
        posts = [Post(body=f"Photo {n} by {author.username}", author=author, visibility=Visibility.UNLISTED,
                      media_count=IMAGES_PER_POST, timestamp=now - (n * PHOTOGRAPHERS + i) * MINUTE)
                 for i, author in enumerate(photographers) for n in range(POSTS_EACH)]
        db.session.add_all(posts)
        db.session.flush()
        conn = db.session.connection()
        conn.execute(sa.insert(followers), [{"follower_id": fan.id, "followed_id": p.id, "created_at": now}
                                            for p in photographers])
        insert_rows(conn, Media, (media_row(picture, post.user_id, post.id, position, post.timestamp)
                                  for post in posts
                                  for position, picture in enumerate(rng.sample(pictures, IMAGES_PER_POST))),
                    "images", lambda stage, count: None)
        conn.execute(recount_statement().where(User.id >= fan.id))
        db.session.commit()
        return {"fan": fan.username, "photographer": photographers[0].username}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(add_image_timeline()) + "\n")
