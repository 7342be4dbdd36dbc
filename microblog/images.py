"""Uploaded images: recognise the type, refuse what is unsafe, and re-encode clean renditions with Pillow.

Pure: imports Pillow only (no Flask, no database). The reasons for a refusal are codes (``REASONS``); the
caller turns them into translated messages.
"""

from __future__ import annotations

import io
import math
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageFile, ImageOps, ImageSequence

ACCEPTED = ("image/jpeg", "image/png", "image/gif", "image/webp")
REASONS = ("type", "corrupt", "pixels", "frames", "dimensions")
MAX_SIDE = 16384
# Pillow's own bomb guard covers every Image.open in this process, including any that does not go
# through probe(). Its default (about 89 Mpx) is far above what we accept, so it is lowered to a ceiling
# of twice the usual MEDIA_MAX_PIXELS: no configuration can let a larger image be decoded, and a header
# claiming more than twice this is refused by Pillow itself before any buffer is allocated.
Image.MAX_IMAGE_PIXELS = 8192 * 8192
# The frames of an animation are held in memory (RGBA) until the WebP encoder takes them: a long
# animation is scaled down until all its output frames together stay within this many pixels.
ANIMATION_PIXELS = 32 * 1024 * 1024
DEFAULT_FRAME_MS = 100  # what browsers show for a GIF frame that gives no duration
JPEG_QUALITY = 85
WEBP_QUALITY = 80
BLURHASH_SIDE = 32
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
_SRGB = ImageCms.createProfile("sRGB")


class ImageRefused(Exception):
    """Why an upload is refused; .reason is one of REASONS."""

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Probe:
    mime: str
    width: int
    height: int
    frames: int


@dataclass(frozen=True)
class Rendition:
    data: bytes
    mime: str
    ext: str
    width: int
    height: int


@dataclass(frozen=True)
class Processed:
    display: Rendition
    thumbnail: Rendition
    blurhash: str
    colour: str
    animated: bool


def sniff(head: bytes) -> str | None:
    """The MIME type the magic bytes announce, or None when it is not one of ACCEPTED."""
    head = head[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


@contextmanager
def _decoding() -> Iterator[None]:
    """Turn whatever Pillow raises while reading an upload into an ImageRefused."""
    try:
        yield
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError) as e:
        raise ImageRefused("pixels", str(e)) from e
    except Exception as e:  # Pillow raises OSError, SyntaxError, ValueError, EOFError, struct.error...
        raise ImageRefused("corrupt", f"{type(e).__name__}: {e}") from e


def _open(data: bytes, mime: str) -> ImageFile.ImageFile:
    """Open (header only) with the one Pillow plugin the magic bytes named, never by guessing."""
    return Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[mime]])


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width * height > min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels):
        raise ImageRefused("pixels", f"{width}x{height} is more than {max_pixels} pixels")
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ImageRefused("dimensions", f"{width}x{height}")


def _webp_size(data: bytes) -> tuple[int, int] | None:
    """The canvas a WebP header claims: Pillow's WebP decoder allocates it on open, so it is checked first."""
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 30:
        return (int.from_bytes(data[26:28], "little") & 0x3FFF,
                int.from_bytes(data[28:30], "little") & 0x3FFF)
    return None


def _colour_table(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _skip_sub_blocks(data: bytes, pos: int) -> int:
    while (size := data[pos]) != 0:
        pos += size + 1
    return pos + 1


def _gif_frames(data: bytes, limit: int) -> tuple[int, int, int]:
    """A GIF's frames (counting stops at ``limit``) and the canvas they grow to, read without decoding.

    Pillow enlarges the canvas to fit a frame placed beyond the logical screen, so that size is the one
    to check. Unknown bytes between blocks are skipped, as Pillow does.
    """
    width, height = struct.unpack_from("<2H", data, 6)
    pos, frames = 13 + _colour_table(data[10]), 0
    try:
        while frames < limit and data[pos] != 0x3B:
            if data[pos] == 0x2C:
                left, top, w, h = struct.unpack_from("<4H", data, pos + 1)
                width, height = max(width, left + w), max(height, top + h)
                pos = _skip_sub_blocks(data, pos + 11 + _colour_table(data[pos + 9]))
                frames += 1
            elif data[pos] == 0x21:
                pos = _skip_sub_blocks(data, pos + 2)
            else:
                pos += 1
    except (IndexError, struct.error):
        pass  # truncated: decoding will judge the frames already counted
    return frames, width, height


def _probe_open(im: ImageFile.ImageFile, data: bytes, mime: str, max_frames: int) -> Probe:
    width, height = im.size
    frames = 1  # a JPEG is one picture; an MPO's extra frames are previews or depth maps
    if mime == "image/gif":
        frames, width, height = _gif_frames(data, max_frames + 1)
    elif mime != "image/jpeg":
        frames = getattr(im, "n_frames", 1)
    return Probe(mime, width, height, max(frames, 1))


def probe(data: bytes, *, max_pixels: int, max_frames: int) -> Probe:
    """What the upload is, read from its header; raises ImageRefused before anything is decoded."""
    mime = sniff(data[:32])
    if mime is None:
        raise ImageRefused("type", "not a JPEG, PNG, GIF or WebP image")
    if mime == "image/webp" and (claimed := _webp_size(data[:30])):
        _check_size(*claimed, max_pixels)
    with _decoding(), _open(data, mime) as im:
        found = _probe_open(im, data, mime, max_frames)
    _check_size(found.width, found.height, max_pixels)
    if found.frames > max_frames:
        raise ImageRefused("frames", f"more than {max_frames} frames")
    return found


def _eight_bit(frame: Image.Image) -> Image.Image:
    """16-bit and 32-bit greyscale scaled down to 8 bits (a plain convert would clip it to white)."""
    if frame.mode.startswith("I;16"):
        frame = frame.convert("I")
    if frame.mode in ("I", "F"):
        return frame.point(lambda value: value / 256).convert("L")
    return frame


def _to_srgb(frame: Image.Image, icc: bytes, mode: str) -> Image.Image:
    """Convert from the embedded profile to sRGB; a profile that cannot be used is dropped."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(frame, source, _SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return frame
    return converted if converted is not None else frame


def _clean(frame: Image.Image, icc: bytes | None) -> Image.Image:
    """``frame`` as RGBA when it has transparency, else RGB, in sRGB and with no metadata at all."""
    frame = _eight_bit(frame)
    if frame.has_transparency_data:
        frame = frame.convert("RGBA")
        if frame.getchannel("A").getextrema()[0] == 255:
            frame = frame.convert("RGB")
    elif frame.mode not in ("RGB", "CMYK", "L"):
        frame = frame.convert("RGB")
    mode = "RGBA" if frame.mode == "RGBA" else "RGB"
    if icc:
        frame = _to_srgb(frame, icc, mode)
    clean = frame.convert(mode)
    clean.info = {}  # EXIF (GPS), XMP, comments, ICC: nothing of the upload's metadata goes out
    return clean


def _upright(im: ImageFile.ImageFile, mime: str, box: int) -> Image.Image:
    """The current frame, turned per its EXIF orientation and cleaned (see _clean)."""
    if mime == "image/jpeg":
        im.draft(None, (box, box))  # let libjpeg decode at 1/2, 1/4 or 1/8 while both sides stay >= box
    icc = im.info.get("icc_profile")
    return _clean(ImageOps.exif_transpose(im), icc)


def _fit(img: Image.Image, width: int, height: int) -> Image.Image:
    """``img`` scaled down (never up) to fit in width x height, keeping its proportions."""
    scale = min(width / img.width, height / img.height)
    if scale >= 1:
        return img
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _centre_crop(img: Image.Image, ratio: float) -> Image.Image:
    """The largest centred part of ``img`` whose width / height is ``ratio``."""
    width, height = img.size
    if width / height > ratio:
        width = max(1, round(height * ratio))
    else:
        height = max(1, round(width / ratio))
    left, top = (img.width - width) // 2, (img.height - height) // 2
    return img.crop((left, top, left + width, top + height))


def _encode(img: Image.Image) -> Rendition:
    """A still image: PNG when it has transparency, otherwise a progressive JPEG."""
    out = io.BytesIO()
    if img.mode == "RGBA":
        img.save(out, format="PNG", optimize=True)
        return Rendition(out.getvalue(), "image/png", "png", img.width, img.height)
    img.save(out, format="JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True)
    return Rendition(out.getvalue(), "image/jpeg", "jpg", img.width, img.height)


def _animation_side(found: Probe, display_side: int) -> int:
    """The longest side of the animation's frames: display_side, less when the frames are many."""
    budget = math.sqrt(ANIMATION_PIXELS / (found.frames * found.width * found.height))
    return max(1, min(display_side, math.floor(max(found.width, found.height) * budget)))


def _animate(im: ImageFile.ImageFile, found: Probe, display_side: int) -> tuple[Rendition, Image.Image]:
    """All frames as an animated WebP looping forever, and the first frame (as shown) for the stills."""
    side = _animation_side(found, display_side)
    icc = im.info.get("icc_profile")
    canvas: tuple[int, int] | None = None
    frames, durations = [], []
    for frame in ImageSequence.Iterator(im):
        img = _clean(ImageOps.exif_transpose(frame), icc).convert("RGBA")
        # after the frame is loaded: WebP reports a frame's duration only then
        durations.append(int(frame.info.get("duration") or DEFAULT_FRAME_MS))
        if canvas is None:  # a GIF's canvas grows to its largest frame, known from the probe
            canvas = (found.width, found.height) if found.mime == "image/gif" else img.size
        if img.size != canvas:
            padded = Image.new("RGBA", canvas)
            padded.paste(img, (0, 0))
            img = padded
        frames.append(_fit(img, side, side))
    out = io.BytesIO()
    frames[0].save(out, format="WEBP", save_all=True, append_images=frames[1:], duration=durations,
                   loop=0, quality=WEBP_QUALITY, method=4)
    first = frames[0]
    rendition = Rendition(out.getvalue(), "image/webp", "webp", first.width, first.height)
    return rendition, _clean(first, None)


def _on_white(img: Image.Image) -> Image.Image:
    if img.mode != "RGBA":
        return img.convert("RGB")
    flat = Image.new("RGB", img.size, (255, 255, 255))
    flat.paste(img, mask=img.getchannel("A"))
    return flat


def process_attachment(data: bytes, *, max_pixels: int, max_frames: int,
                       display_side: int = 1920, thumbnail_side: int = 480) -> Processed:
    """A post's image: the rendition shown, its thumbnail, and a placeholder (BlurHash, average colour)."""
    found = probe(data, max_pixels=max_pixels, max_frames=max_frames)
    with _decoding(), _open(data, found.mime) as im:
        animated = found.frames > 1
        if animated:
            display, first = _animate(im, found, display_side)
        else:
            first = _fit(_upright(im, found.mime, display_side), display_side, display_side)
            display = _encode(first)
        thumbnail = _encode(_fit(first, thumbnail_side, thumbnail_side))
        small = _on_white(_fit(first, BLURHASH_SIDE, BLURHASH_SIDE))
    return Processed(display, thumbnail, blurhash_encode(small), average_colour(small), animated)


def process_avatar(data: bytes, *, max_pixels: int, max_frames: int, side: int = 400) -> Rendition:
    """A still, centred square of at most side x side (the first frame of an animation)."""
    found = probe(data, max_pixels=max_pixels, max_frames=max_frames)
    with _decoding(), _open(data, found.mime) as im:
        square = _centre_crop(_upright(im, found.mime, side), 1.0)
        return _encode(_fit(square, side, side))


def process_header(data: bytes, *, max_pixels: int, max_frames: int,
                   width: int = 1500, height: int = 500) -> Rendition:
    """A still banner cropped around its centre to width:height, at most width x height."""
    found = probe(data, max_pixels=max_pixels, max_frames=max_frames)
    with _decoding(), _open(data, found.mime) as im:
        banner = _centre_crop(_upright(im, found.mime, max(width, height)), width / height)
        return _encode(_fit(banner, width, height))


def average_colour(img: Image.Image) -> str:
    """The mean colour of ``img`` as '#rrggbb'."""
    red, green, blue = img.convert("RGB").resize((1, 1), Image.Resampling.BOX).tobytes()
    return f"#{red:02x}{green:02x}{blue:02x}"


# BlurHash (https://blurha.sh): the DCT of the picture in linear light, keeping the lowest
# x_components * y_components frequencies, quantised and written in base 83.
_BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
_LINEAR = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (v / 255 for v in range(256))]


def _base83(value: int, length: int) -> str:
    return "".join(_BASE83[value // 83 ** (length - 1 - i) % 83] for i in range(length))


def _srgb_byte(linear: float) -> int:
    v = min(max(linear, 0.0), 1.0)
    return int(v * 12.92 * 255 + 0.5) if v <= 0.0031308 else int((1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


def _factor(pixels: list[tuple[float, float, float]], width: int, height: int,
            i: int, j: int) -> tuple[float, float, float]:
    """One DCT coefficient (per channel) of the linear-light pixels."""
    cos_x = [math.cos(math.pi * i * x / width) for x in range(width)]
    cos_y = [math.cos(math.pi * j * y / height) for y in range(height)]
    red = green = blue = 0.0
    for index, (r, g, b) in enumerate(pixels):
        basis = cos_x[index % width] * cos_y[index // width]
        red, green, blue = red + basis * r, green + basis * g, blue + basis * b
    scale = (1 if i == j == 0 else 2) / (width * height)
    return red * scale, green * scale, blue * scale


def blurhash_encode(img: Image.Image, x_components: int = 4, y_components: int = 3) -> str:
    """The BlurHash of ``img`` (give it a small copy: the cost grows with its pixels)."""
    rgb = img.convert("RGB")
    raw = rgb.tobytes()
    pixels = [(_LINEAR[raw[k]], _LINEAR[raw[k + 1]], _LINEAR[raw[k + 2]]) for k in range(0, len(raw), 3)]
    factors = [_factor(pixels, rgb.width, rgb.height, i, j)
               for j in range(y_components) for i in range(x_components)]
    dc, ac = factors[0], factors[1:]
    parts = [_base83((x_components - 1) + (y_components - 1) * 9, 1)]
    maximum = 1.0
    if ac:
        quantised = max(0, min(82, math.floor(max(abs(v) for f in ac for v in f) * 166 - 0.5)))
        maximum = (quantised + 1) / 166
        parts.append(_base83(quantised, 1))
    else:
        parts.append(_base83(0, 1))
    parts.append(_base83((_srgb_byte(dc[0]) << 16) + (_srgb_byte(dc[1]) << 8) + _srgb_byte(dc[2]), 4))
    for factor in ac:
        r, g, b = (max(0, min(18, math.floor(math.copysign(abs(v / maximum) ** 0.5, v) * 9 + 9.5)))
                   for v in factor)
        parts.append(_base83(r * 19 * 19 + g * 19 + b, 2))
    return "".join(parts)
