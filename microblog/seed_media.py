"""Demo images for `flask seed`: a few pictures drawn with Pillow (gradients and shapes, each with its
alt text), processed and stored as uploads are, attached to some of the newest posts, and profile
pictures and headers for some of the accounts.

The pictures are drawn and processed once per process (a fraction of a second) and stored under
their content's name, so any number of posts share a handful of files. The rows are inserted in
bulk like the rest of the demo data, so images cost a million-post seed a second or two.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app
from PIL import Image, ImageDraw, ImageOps

from microblog import images
from microblog.extensions import db
from microblog.media_storage import key_for, storage
from microblog.models import Media, MediaStatus, Post, User
from microblog.seed import Progress, Row, insert_rows

# About one post in twelve has images, among the newest posts (a demo is looked at from its newest
# posts; a million-post site gets about 5,000 posts with images, and its inserts stay quick).
IMAGE_SHARE = 1 / 12
NEWEST_POSTS = 60_000
# How many images a post with images has: mostly one.
IMAGES_PER_POST = (1, 1, 1, 1, 1, 1, 2, 2, 3, 4)
AVATAR_SHARE = 1 / 3
HEADER_SHARE = 1 / 10
SIZE = (960, 640)


@dataclass(frozen=True)
class StoredPicture:
    """A processed picture in the store: what a Media row records about it."""

    description: str
    digest: str  # of the drawing, as uploaded
    mime: str
    file_key: str
    thumbnail_key: str
    width: int
    height: int
    thumbnail_width: int
    thumbnail_height: int
    animated: bool
    colour: str
    blurhash: str
    size_bytes: int


# -- the pictures ---------------------------------------------------------------------------------------

def _gradient(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    return ImageOps.colorize(Image.linear_gradient("L").resize(SIZE), top, bottom).convert("RGB")


def _sunset() -> Image.Image:
    image = _gradient((255, 170, 60), (80, 30, 110))
    draw = ImageDraw.Draw(image)
    draw.ellipse((380, 300, 580, 500), fill=(255, 220, 120))
    draw.ellipse((-200, 450, 1160, 1000), fill=(35, 25, 45))
    return image


def _circles() -> Image.Image:
    image = Image.new("RGB", SIZE, "white")
    layer = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for (x, y), colour in (((300, 200), (230, 40, 40, 150)), ((480, 200), (40, 180, 60, 150)),
                           ((390, 350), (40, 80, 230, 150))):
        draw.ellipse((x - 150, y - 150, x + 150, y + 150), fill=colour)
    image.paste(layer, mask=layer)
    return image


def _field() -> Image.Image:
    image = _gradient((150, 200, 255), (60, 120, 220))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 400, SIZE[0], SIZE[1]), fill=(70, 150, 60))
    draw.rectangle((0, 400, SIZE[0], 430), fill=(50, 120, 45))
    return image


def _squares() -> Image.Image:
    image = Image.new("RGB", SIZE, (10, 40, 45))
    draw = ImageDraw.Draw(image)
    for step in range(8):
        inset = 40 * step
        shade = 40 + 25 * step
        draw.rectangle((160 + inset, inset, 800 - inset, 640 - inset), fill=(0, shade, shade))
    return image


def _stripes() -> Image.Image:
    image = Image.new("RGB", SIZE, (120, 120, 125))
    draw = ImageDraw.Draw(image)
    for x in range(-SIZE[1], SIZE[0], 120):
        draw.polygon([(x, 0), (x + 60, 0), (x + 60 + SIZE[1], SIZE[1]), (x + SIZE[1], SIZE[1])],
                     fill=(250, 210, 40))
    return image


def _night() -> Image.Image:
    image = _gradient((5, 10, 40), (30, 40, 90))
    draw = ImageDraw.Draw(image)
    stars = random.Random(6)
    for _ in range(150):
        x, y, r = stars.randrange(SIZE[0]), stars.randrange(SIZE[1]), stars.choice((1, 1, 2))
        draw.ellipse((x - r, y - r, x + r, y + r), fill="white")
    return image


def _sticker() -> Image.Image:
    image = Image.new("RGBA", (480, 480), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.regular_polygon((240, 240, 220), 5, fill=(240, 60, 160, 255))
    draw.ellipse((170, 170, 310, 310), fill=(255, 255, 255, 220))
    return image


def _blink() -> list[Image.Image]:
    return [Image.new("RGB", (240, 240), colour) for colour in ((220, 50, 50), (50, 180, 70), (50, 90, 220))]


PICTURES: tuple[tuple[str, Callable[[], Any]], ...] = (
    ("A sunset: an orange sky fading to purple, a pale sun and a dark hill in front.", _sunset),
    ("Three overlapping translucent circles, red, green and blue, on white.", _circles),
    ("A blue sky above a flat green field.", _field),
    ("Concentric squares in darker and lighter shades of teal.", _squares),
    ("Diagonal yellow stripes on grey, like a warning sign.", _stripes),
    ("A night sky: dark blue with small white stars.", _night),
    ("A pink pentagon with a white dot in its middle, on a transparent background.", _sticker),
    ("A square that blinks red, green, then blue.", _blink),
)
AVATARS = (0, 1, 3, 5)  # drawings cropped to squares
HEADERS = (0, 2, 4)


def _encoded(drawing: Any) -> bytes:
    out = io.BytesIO()
    if isinstance(drawing, list):
        drawing[0].save(out, "GIF", save_all=True, append_images=drawing[1:], duration=400, loop=0)
    else:
        drawing.save(out, "PNG")
    return out.getvalue()


@cache
def _drawn() -> tuple[bytes, ...]:
    return tuple(_encoded(draw()) for _, draw in PICTURES)


def _limits() -> dict[str, int]:
    return {"max_pixels": int(current_app.config["MEDIA_MAX_PIXELS"]),
            "max_frames": int(current_app.config["MEDIA_MAX_FRAMES"])}


def _put(rendition: images.Rendition) -> str:
    key = key_for(hashlib.sha256(rendition.data).hexdigest(), rendition.ext)
    storage().put(key, rendition.data, rendition.mime)
    return key


def store_pictures() -> list[StoredPicture]:
    """Process the demo pictures as the job processes uploads and store their files."""
    stored = []
    for (description, _), data in zip(PICTURES, _drawn(), strict=True):
        done = images.process_attachment(data, **_limits())
        display, thumbnail = done.display, done.thumbnail
        stored.append(StoredPicture(
            description=description, digest=hashlib.sha256(data).hexdigest(), mime=display.mime,
            file_key=_put(display), thumbnail_key=_put(thumbnail), width=display.width,
            height=display.height, thumbnail_width=thumbnail.width, thumbnail_height=thumbnail.height,
            animated=done.animated, colour=done.colour, blurhash=done.blurhash,
            size_bytes=len(display.data) + len(thumbnail.data)))
    return stored


def store_profile_pictures() -> tuple[list[str], list[str]]:
    """Store the demo profile pictures and headers; their keys."""
    drawn = _drawn()
    avatars = [_put(images.process_avatar(drawn[index], **_limits())) for index in AVATARS]
    headers = [_put(images.process_header(drawn[index], **_limits())) for index in HEADERS]
    return avatars, headers


def media_row(picture: StoredPicture, user_id: int, post_id: int, position: int, when: datetime) -> Row:
    """The row of a processed upload of ``picture``, attached to a post."""
    return {
        "user_id": user_id, "post_id": post_id, "position": position, "status": MediaStatus.READY.value,
        "description": picture.description, "digest": picture.digest,
        "size_bytes": picture.size_bytes, "mime": picture.mime, "file_key": picture.file_key,
        "thumbnail_key": picture.thumbnail_key, "width": picture.width, "height": picture.height,
        "thumbnail_width": picture.thumbnail_width, "thumbnail_height": picture.thumbnail_height,
        "animated": picture.animated, "colour": picture.colour, "blurhash": picture.blurhash,
        "attempts": 1, "created_at": when, "processed_at": when,
    }


# -- the seeding ------------------------------------------------------------------------------------------

def seed_media(seed_value: int = 1, progress: Progress | None = None) -> dict[str, int]:
    """Give some of the newest posts without images one to four demo pictures, and some accounts
    without a profile picture or header one of the demo ones. The same rows and ``seed_value`` give
    the same choices. Returns how many posts got images, how many images, avatars and headers."""
    rng = random.Random(seed_value)
    pictures = store_pictures()
    avatars, headers = store_profile_pictures()
    conn = db.session.connection()
    candidates = conn.execute(
        sa.select(Post.id, Post.user_id, Post.timestamp).where(Post.media_count == 0)
        .order_by(Post.timestamp.desc(), Post.id.desc()).limit(NEWEST_POSTS)).all()
    chosen = [(post, rng.choice(IMAGES_PER_POST)) for post in candidates if rng.random() < IMAGE_SHARE]
    rows = _attachment_rows(rng, pictures, chosen)
    added = insert_rows(conn, Media, rows, "images", progress or (lambda stage, count: None))
    if chosen:
        conn.execute(sa.update(Post.__table__).where(Post.__table__.c.id == sa.bindparam("post_id"))
                     .values(media_count=sa.bindparam("count")),
                     [{"post_id": post.id, "count": count} for post, count in chosen])
    with_avatar = _profile_pictures(conn, rng, "avatar_key", AVATAR_SHARE, avatars)
    with_header = _profile_pictures(conn, rng, "header_key", HEADER_SHARE, headers)
    db.session.commit()
    return {"posts": len(chosen), "images": added, "avatars": with_avatar, "headers": with_header}


def _attachment_rows(rng: random.Random, pictures: list[StoredPicture],
                     chosen: list[tuple[Any, int]]) -> Iterator[Row]:
    for post, count in chosen:
        for position, picture in enumerate(rng.sample(pictures, count)):
            yield media_row(picture, post.user_id, post.id, position, post.timestamp)


def _profile_pictures(conn: sa.Connection, rng: random.Random, column: str, share: float,
                      keys: list[str]) -> int:
    table = User.__table__
    ids = conn.scalars(sa.select(table.c.id).where(table.c[column].is_(None)).order_by(table.c.id)).all()
    chosen = [{"user_id": user_id, "key": rng.choice(keys)} for user_id in ids if rng.random() < share]
    if chosen:
        conn.execute(sa.update(table).where(table.c.id == sa.bindparam("user_id"))
                     .values({column: sa.bindparam("key")}), chosen)
    return len(chosen)
