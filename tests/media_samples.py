"""Images made on the spot for the media tests: photos with or without GPS EXIF, transparent PNGs,
animated GIFs, and files that only pretend to be images."""

from __future__ import annotations

import io
import random

from PIL import Image

# EXIF tags: the GPS block, its latitude and longitude, and the orientation.
GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_bytes(width: int = 64, height: int = 48, colour: tuple[int, int, int] = (200, 40, 40), *,
               gps: bool = False, orientation: int | None = None, quality: int = 90,
               noise: bool = False) -> bytes:
    """A JPEG photo, optionally carrying GPS coordinates and an EXIF orientation; ``noise`` makes it
    large (random pixels do not compress)."""
    if noise:
        pixels = random.Random(width * height).randbytes(width * height * 3)
        image = Image.frombytes("RGB", (width, height), pixels)
    else:
        image = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 8):  # some detail, so the encoder has something to keep
        image.putpixel((x, x % height), (255, 255, 255))
    exif = Image.Exif()
    if gps:
        gps_ifd = exif.get_ifd(GPS_IFD)
        gps_ifd[1], gps_ifd[2] = "N", (48.0, 51.0, 29.0)  # 48°51'29" N, 2°17'40" E: the Eiffel Tower
        gps_ifd[3], gps_ifd[4] = "E", (2.0, 17.0, 40.0)
    if orientation is not None:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes() if (gps or orientation) else b"")
    return out.getvalue()


def png_bytes(width: int = 32, height: int = 32, *, alpha: bool = False) -> bytes:
    colour = (10, 120, 200, 128) if alpha else (10, 120, 200)
    image = Image.new("RGBA" if alpha else "RGB", (width, height), colour)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def gif_bytes(frames: int = 3, size: int = 16) -> bytes:
    """An animated GIF of ``frames`` frames, each a different colour."""
    images = [Image.new("RGB", (size, size), ((index * 37) % 256, (index * 91) % 256, (index // 256) % 256))
              for index in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(document.domain)</script></svg>')
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
