"""microblog.images on real images made here with Pillow: what is accepted, refused, cleaned and resized."""

from __future__ import annotations

import io
import re
import struct
import time
import warnings
import zlib

import pytest
from PIL import Image, ImageDraw

from microblog import images
from microblog.images import ImageRefused

LIMITS = {"max_pixels": 33_177_600, "max_frames": 1000}
BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


# --- building images ---------------------------------------------------------------------------

def encoded(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return out.getvalue()


def halves(size: tuple[int, int], left: str = "red", right: str = "blue", mode: str = "RGB") -> Image.Image:
    """An image whose left half is ``left`` and right half ``right``."""
    img = Image.new(mode, size, right)
    ImageDraw.Draw(img).rectangle((0, 0, size[0] // 2 - 1, size[1]), fill=left)
    return img


def opened(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def png_claiming(width: int, height: int, idat: bytes = b"not deflate data") -> bytes:
    """A PNG whose header claims width x height, followed by image data that cannot be decoded."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def webp_claiming(width: int, height: int) -> bytes:
    """A WebP (VP8X) header claiming a width x height canvas, and no image."""
    body = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    body += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def lzw(pixels: int, index: int = 0) -> bytes:
    """GIF image data painting ``pixels`` pixels with colour ``index``, stored, not compressed: a clear
    code before every pixel keeps the table empty and every code 3 bits wide."""
    codes = [4, index] * pixels + [5]  # 4 = clear, 5 = end, with a minimum code size of 2
    bits = "".join(format(code, "03b")[::-1] for code in codes)  # GIF packs codes least significant first
    data = bytes(int(bits[at:at + 8][::-1], 2) for at in range(0, len(bits), 8))
    return b"\x02" + b"".join(bytes([len(data[at:at + 255])]) + data[at:at + 255]
                               for at in range(0, len(data), 255)) + b"\x00"


def gif_frame(size: tuple[int, int] = (1, 1), index: int = 0, pixels: int | None = None) -> bytes:
    """One frame at the top left, 10 ms long; ``pixels`` paints fewer pixels than it claims."""
    control = b"\x21\xf9\x04\x00" + struct.pack("<H", 1) + b"\x00\x00"
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, *size, 0)
    return control + descriptor + lzw(size[0] * size[1] if pixels is None else pixels, index)


def gif(frames: list[bytes], screen: tuple[int, int] = (1, 1)) -> bytes:
    """A GIF written byte by byte (Pillow's writer is slow for thousands of frames and keeps frames inside
    the screen); its two colours are red (0) and blue (1)."""
    head = b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + b"\xff\x00\x00\x00\x00\xff"
    return head + b"".join(frames) + b"\x3b"


def animation(fmt: str, colours=("red", "lime", "blue"), durations=(100, 200, 300),
              size=(60, 40), **options) -> bytes:
    frames = [Image.new("RGB", size, colour) for colour in colours]
    return encoded(frames[0], fmt, save_all=True, append_images=frames[1:], duration=list(durations),
                   loop=0, **options)


def gps_jpeg(size=(40, 20), orientation: int | None = None) -> bytes:
    """A JPEG carrying GPS EXIF, an XMP packet and a comment, as a phone would send it."""
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[0x12] = "N", (52.0, 22.0, 30.0), "WGS-84-SECRET"
    return encoded(halves(size), "JPEG", exif=exif, xmp=b"<x:xmpmeta>where-i-live</x:xmpmeta>",
                   comment=b"camera-serial-42")


def refusal(data: bytes, **limits) -> str:
    with pytest.raises(ImageRefused) as caught:
        images.probe(data, **(LIMITS | limits))
    return caught.value.reason


STILLS = {
    "image/jpeg": lambda: encoded(halves((64, 48)), "JPEG"),
    "image/png": lambda: encoded(halves((64, 48)), "PNG"),
    "image/gif": lambda: encoded(halves((64, 48)), "GIF"),
    "image/webp": lambda: encoded(halves((64, 48)), "WEBP"),
}


# --- type -------------------------------------------------------------------------------------

@pytest.mark.parametrize("mime", images.ACCEPTED)
def test_the_four_types_are_recognised_and_processed(mime):
    data = STILLS[mime]()
    assert images.sniff(data[:32]) == mime
    assert images.probe(data, **LIMITS) == images.Probe(mime, 64, 48, 1)
    result = images.process_attachment(data, **LIMITS)
    assert not result.animated
    assert (result.display.mime, result.display.ext) == ("image/jpeg", "jpg")
    shown = opened(result.display.data)
    assert (shown.format, shown.size) == ("JPEG", (64, 48))
    assert shown.getpixel((5, 24))[0] > 200 and shown.getpixel((60, 24))[2] > 200  # red left, blue right


NOT_IMAGES = {
    "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "html": b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
    "pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
    "text named .jpg": b"just some text in a file called photo.jpg\n",
    "empty": b"",
    "bmp": encoded(halves((8, 8)), "BMP"),
    "tiff": encoded(halves((8, 8)), "TIFF"),
}


@pytest.mark.parametrize("name", NOT_IMAGES)
def test_anything_else_is_refused_as_type(name):
    data = NOT_IMAGES[name]
    assert images.sniff(data[:32]) is None
    assert refusal(data) == "type"
    for process in (images.process_attachment, images.process_avatar, images.process_header):
        with pytest.raises(ImageRefused) as caught:
            process(data, **LIMITS)
        assert caught.value.reason == "type"


def test_an_unknown_reason_is_a_programming_error():
    assert ImageRefused("frames", "1001").reason == "frames"
    with pytest.raises(ValueError):
        ImageRefused("too ugly")


# --- corrupt ----------------------------------------------------------------------------------

def test_a_truncated_jpeg_is_refused_as_corrupt():
    whole = encoded(Image.effect_noise((256, 256), 64).convert("RGB"), "JPEG")
    assert images.probe(whole[: len(whole) // 2], **LIMITS).mime == "image/jpeg"  # the header is intact
    with pytest.raises(ImageRefused) as caught:
        images.process_attachment(whole[: len(whole) // 2], **LIMITS)
    assert caught.value.reason == "corrupt"


@pytest.mark.parametrize("data", [
    b"\xff\xd8\xff\xe0" + b"garbage" * 20,
    b"GIF89a<html><script>alert(1)</script></html>",
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
    b"RIFF\x10\x00\x00\x00WEBPVP8 garbage",
], ids=["jpeg", "gif-html-polyglot", "png", "webp"])
def test_magic_bytes_without_an_image_behind_them_are_corrupt(data):
    assert images.sniff(data) is not None
    assert refusal(data) == "corrupt"


# --- pixels, dimensions, frames ---------------------------------------------------------------

def test_a_decompression_bomb_header_is_refused_before_any_decoding():
    started = time.perf_counter()
    assert refusal(png_claiming(100_000, 100_000)) == "pixels"
    with pytest.raises(ImageRefused) as caught:
        images.process_attachment(png_claiming(100_000, 100_000), **LIMITS)
    assert caught.value.reason == "pixels"
    # A guard, not a speed goal: decoding 10 gigapixels would take minutes and tens of GB.
    assert time.perf_counter() - started < 10


def test_the_pixel_limit_is_checked_before_decoding():
    # The data behind the header is not deflate: decoding it would be refused as "corrupt".
    assert refusal(png_claiming(5000, 5000), max_pixels=1_000_000) == "pixels"
    with pytest.raises(ImageRefused) as caught:  # the same file, small enough: decoding judges it
        images.process_attachment(png_claiming(500, 500), max_pixels=1_000_000, max_frames=1)
    assert caught.value.reason == "corrupt"
    assert refusal(webp_claiming(6000, 6000), max_pixels=1_000_000) == "pixels"


def test_a_real_compressible_image_above_max_pixels_is_refused():
    data = encoded(Image.new("L", (3000, 3000)), "PNG")
    assert len(data) < 20_000
    assert refusal(data, max_pixels=8_000_000) == "pixels"
    assert images.probe(data, max_pixels=9_000_000, max_frames=1).width == 3000


def test_pillows_bomb_warning_is_a_refusal_too():
    # Between Image.MAX_IMAGE_PIXELS and twice that, Pillow warns instead of raising.
    claim = png_claiming(9000, 9000)
    assert 9000 * 9000 > Image.MAX_IMAGE_PIXELS
    with pytest.warns(Image.DecompressionBombWarning):
        assert refusal(claim, max_pixels=10**9) == "pixels"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert refusal(claim, max_pixels=10**9) == "pixels"


def test_a_gif_frame_placed_beyond_a_small_screen_counts_at_its_full_size():
    assert refusal(gif([gif_frame((5000, 5000), pixels=1)]), max_pixels=1_000_000) == "pixels"


@pytest.mark.parametrize("data", [gif([gif_frame()], screen=(20_000, 1)), png_claiming(1, 16_385)],
                         ids=["gif-wide", "png-tall"])
def test_a_side_past_16384_is_refused_as_dimensions(data):
    assert refusal(data) == "dimensions"


def test_the_hand_built_gif_is_what_pillow_reads():
    data = gif([gif_frame((2, 2), index=1)] * 5, screen=(2, 2))
    shown = Image.open(io.BytesIO(data))
    assert shown.n_frames == 5
    assert shown.convert("RGB").getpixel((1, 1)) == (0, 0, 255)
    assert images.probe(data, **LIMITS) == images.Probe("image/gif", 2, 2, 5)


def test_frames_are_counted_no_further_than_one_past_the_limit():
    # Past the third frame, one claims 5000x5000: counting stopped before it, so it is never seen.
    data = gif([gif_frame()] * 3 + [gif_frame((5000, 5000), pixels=1)])
    assert refusal(data, max_pixels=1_000_000, max_frames=2) == "frames"
    assert refusal(data, max_pixels=1_000_000, max_frames=3) == "pixels"


def test_stray_bytes_between_gif_blocks_are_skipped_as_pillow_does():
    data = gif([gif_frame(), b"\x00\x07", gif_frame(index=1)])
    assert images.probe(data, **LIMITS).frames == Image.open(io.BytesIO(data)).n_frames == 2


def test_ten_thousand_frames_are_refused_quickly():
    data = gif([gif_frame()] * 10_000)
    started = time.perf_counter()
    assert refusal(data, max_frames=1000) == "frames"
    # A guard, not a speed goal: counting stops at the 1,001st frame instead of decoding 10,000.
    assert time.perf_counter() - started < 10
    assert images.probe(gif([gif_frame()] * 1000), **LIMITS).frames == 1000


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animations_stay_animated_as_webp(fmt):
    data = animation(fmt)
    assert images.probe(data, **LIMITS).frames == 3
    result = images.process_attachment(data, **LIMITS)
    assert result.animated
    assert (result.display.mime, result.display.ext) == ("image/webp", "webp")
    shown = Image.open(io.BytesIO(result.display.data))
    assert (shown.format, shown.n_frames, shown.is_animated) == ("WEBP", 3, True)
    assert shown.info["loop"] == 0
    durations, reds = [], []
    for index in range(3):
        shown.seek(index)
        shown.load()
        durations.append(shown.info["duration"])
        reds.append(shown.convert("RGB").getpixel((30, 20)))
    assert durations == [100, 200, 300]
    assert reds[0][0] > 200 and reds[1][1] > 200 and reds[2][2] > 200
    thumbnail = opened(result.thumbnail.data)
    assert thumbnail.format == "JPEG" and getattr(thumbnail, "n_frames", 1) == 1
    assert thumbnail.getpixel((30, 20))[0] > 200  # the first frame


def test_a_gif_whose_frames_outgrow_its_screen_is_drawn_on_the_full_canvas():
    data = gif([gif_frame((2, 2), index=0), gif_frame((4, 4), index=1)], screen=(2, 2))
    assert images.probe(data, **LIMITS) == images.Probe("image/gif", 4, 4, 2)
    result = images.process_attachment(data, **LIMITS)
    shown = Image.open(io.BytesIO(result.display.data))
    assert (shown.size, shown.n_frames) == ((4, 4), 2)
    shown.seek(1)
    assert shown.convert("RGB").getpixel((3, 3))[2] > 200


def test_a_long_animation_is_scaled_down_to_the_memory_budget(monkeypatch):
    monkeypatch.setattr(images, "ANIMATION_PIXELS", 3 * 50 * 50)
    result = images.process_attachment(animation("GIF", size=(200, 200)), **LIMITS)
    assert (result.display.width, result.display.height) == (50, 50)
    assert opened(result.display.data).size == (50, 50)


def test_an_avatar_from_an_animation_is_still():
    avatar = images.process_avatar(animation("GIF"), **LIMITS)
    assert avatar.mime == "image/jpeg"
    assert opened(avatar.data).size == (40, 40)


# --- metadata ---------------------------------------------------------------------------------

def outputs(data: bytes) -> list[images.Rendition]:
    result = images.process_attachment(data, **LIMITS)
    return [result.display, result.thumbnail, images.process_avatar(data, **LIMITS),
            images.process_header(data, **LIMITS)]


def test_gps_exif_xmp_and_comments_never_leave():
    data = gps_jpeg()
    original = Image.open(io.BytesIO(data))
    assert original.getexif().get_ifd(0x8825)[0x12] == "WGS-84-SECRET"  # the input really carries them
    assert b"where-i-live" in data and b"camera-serial-42" in data
    for rendition in outputs(data):
        out = opened(rendition.data)
        assert not out.getexif()
        assert not {"exif", "xmp", "comment", "icc_profile"} & set(out.info)
        for secret in (b"Exif", b"WGS-84", b"where-i-live", b"camera-serial-42", b"xmpmeta"):
            assert secret not in rendition.data


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_exif_in_png_and_webp_is_dropped_too(fmt):
    exif = Image.Exif()
    exif.get_ifd(0x8825)[0x12] = "WGS-84-SECRET"
    data = encoded(halves((40, 20), mode="RGBA"), fmt, exif=exif.tobytes())
    assert b"WGS-84-SECRET" in data
    for rendition in outputs(data):
        assert b"WGS-84" not in rendition.data and not opened(rendition.data).getexif()


def test_exif_orientation_is_applied():
    plain = images.process_attachment(gps_jpeg((40, 20)), **LIMITS)
    assert (plain.display.width, plain.display.height) == (40, 20)
    turned = images.process_attachment(gps_jpeg((40, 20), orientation=6), **LIMITS)
    assert (turned.display.width, turned.display.height) == (20, 40)
    shown = opened(turned.display.data)
    assert shown.size == (20, 40)
    # orientation 6: rotate 90 degrees clockwise to show, so the red left half ends on top
    assert shown.getpixel((10, 5))[0] > 200 and shown.getpixel((10, 35))[2] > 200


def test_a_large_jpeg_decoded_at_reduced_scale_is_still_upright_and_exact():
    result = images.process_attachment(gps_jpeg((1600, 800), orientation=6), **LIMITS, display_side=100)
    shown = opened(result.display.data)
    assert (result.display.width, result.display.height) == shown.size == (50, 100)
    assert shown.getpixel((25, 10))[0] > 200 and shown.getpixel((25, 90))[2] > 200


def s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def rgb_profile(red, green, blue, gamma: float = 2.2) -> bytes:
    """A minimal ICC v2 display profile (matrix and gamma) with the given primaries (XYZ, D50)."""
    def xyz(value) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(s15(component) for component in value)
    text = b"test primaries\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 78
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256))
    tags = [(b"desc", desc), (b"wtpt", xyz((0.9642, 1.0, 0.8249))), (b"rXYZ", xyz(red)),
            (b"gXYZ", xyz(green)), (b"bXYZ", xyz(blue)), (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    start, table, body = 128 + 4 + 12 * len(tags), b"", b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", start + len(body), len(data))
        body += data
    header = (struct.pack(">I", start + len(body)) + b"\0" * 4 + struct.pack(">I", 0x02100000)
              + b"mntrRGB XYZ " + b"\0" * 12 + b"acsp" + b"\0" * 28 + s15(0.9642) + s15(1.0) + s15(0.8249))
    return header.ljust(128, b"\0") + struct.pack(">I", len(tags)) + table + body


SRGB_RED, SRGB_GREEN, SRGB_BLUE = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
SWAPPED = rgb_profile(SRGB_BLUE, SRGB_GREEN, SRGB_RED)  # what the file calls red is sRGB's blue


@pytest.mark.parametrize("fmt, colour", [("JPEG", (255, 0, 0)), ("PNG", (255, 0, 0, 128))])
def test_an_icc_profile_is_converted_to_srgb_and_not_embedded(fmt, colour):
    mode = "RGBA" if len(colour) == 4 else "RGB"
    data = encoded(Image.new(mode, (20, 20), colour), fmt, icc_profile=SWAPPED)
    assert Image.open(io.BytesIO(data)).info["icc_profile"] == SWAPPED
    for rendition in outputs(data):
        out = opened(rendition.data)
        assert "icc_profile" not in out.info
        pixel = out.getpixel((5, 5))
        assert pixel[0] < 30 and pixel[2] > 220
        assert pixel[3:] == colour[3:]  # transparency kept


def test_a_broken_icc_profile_is_dropped_not_fatal():
    data = encoded(halves((40, 20)), "PNG", icc_profile=b"this is no profile")
    result = images.process_attachment(data, **LIMITS)
    assert opened(result.display.data).getpixel((5, 10))[0] > 200


def test_unusual_modes_come_out_right():
    cmyk = images.process_attachment(encoded(Image.new("CMYK", (20, 20), (0, 255, 255, 0)), "JPEG"), **LIMITS)
    red = opened(cmyk.display.data).getpixel((10, 10))
    assert red[0] > 200 and red[1] < 60 and red[2] < 60
    deep = Image.new("I;16", (20, 20), 32768)  # 16-bit mid-grey
    grey = images.process_attachment(encoded(deep, "PNG"), **LIMITS)
    assert 110 < opened(grey.display.data).convert("L").getpixel((10, 10)) < 145


# --- sizes and formats ------------------------------------------------------------------------

def test_small_images_are_never_upscaled():
    result = images.process_attachment(encoded(halves((100, 50)), "PNG"), **LIMITS)
    for rendition in (result.display, result.thumbnail):
        assert (rendition.width, rendition.height) == (100, 50) == opened(rendition.data).size


@pytest.mark.parametrize("size, display, thumbnail", [
    ((600, 300), (200, 100), (50, 25)),
    ((300, 600), (100, 200), (25, 50)),
])
def test_sides_are_capped(size, display, thumbnail):
    result = images.process_attachment(encoded(halves(size), "JPEG"), **LIMITS,
                                       display_side=200, thumbnail_side=50)
    assert (result.display.width, result.display.height) == display == opened(result.display.data).size
    assert (result.thumbnail.width, result.thumbnail.height) == thumbnail
    assert opened(result.thumbnail.data).size == thumbnail


def test_transparency_stays_png_and_opaque_becomes_jpeg():
    clear = halves((40, 20), left=(255, 0, 0, 255), right=(0, 0, 255, 0), mode="RGBA")
    result = images.process_attachment(encoded(clear, "PNG"), **LIMITS)
    for rendition in (result.display, result.thumbnail):
        out = opened(rendition.data)
        assert (rendition.mime, rendition.ext, out.format, out.mode) == ("image/png", "png", "PNG", "RGBA")
        assert out.getpixel((2, 10))[3] == 255 and out.getpixel((38, 10))[3] == 0
    indexed = halves((40, 20), left="red", right="blue").convert("P")
    palette = encoded(indexed, "GIF", transparency=indexed.getpixel((38, 10)))  # blue is see-through
    assert images.process_attachment(palette, **LIMITS).display.mime == "image/png"
    opaque = halves((40, 20), left=(255, 0, 0, 255), right=(0, 0, 255, 255), mode="RGBA")
    assert images.process_attachment(encoded(opaque, "PNG"), **LIMITS).display.mime == "image/jpeg"


def test_an_avatar_is_a_centred_square():
    bands = Image.new("RGB", (300, 100), "red")
    ImageDraw.Draw(bands).rectangle((100, 0, 199, 99), fill="lime")
    ImageDraw.Draw(bands).rectangle((200, 0, 299, 99), fill="blue")
    avatar = images.process_avatar(encoded(bands, "PNG"), **LIMITS)
    out = opened(avatar.data)
    assert (avatar.width, avatar.height) == out.size == (100, 100)  # not upscaled to 400
    assert all(out.getpixel(point)[1] > 200 for point in ((2, 2), (97, 97), (50, 50)))
    big = images.process_avatar(encoded(halves((900, 600)), "JPEG"), **LIMITS, side=400)
    assert (big.width, big.height) == opened(big.data).size == (400, 400)


@pytest.mark.parametrize("size, expected", [((3000, 1500), (1500, 500)), ((1200, 1200), (1200, 400)),
                                            ((600, 100), (300, 100))])
def test_a_header_is_cropped_to_three_by_one(size, expected):
    img = Image.new("RGB", size, "red")
    ImageDraw.Draw(img).rectangle((0, size[1] // 2 - 2, size[0], size[1] // 2 + 2), fill="blue")
    header = images.process_header(encoded(img, "PNG"), **LIMITS)
    out = opened(header.data)
    assert (header.width, header.height) == out.size == expected
    assert out.getpixel((expected[0] // 2, expected[1] // 2))[2] > 150  # the centre line survived


# --- placeholder: colour and BlurHash ---------------------------------------------------------

def decode83(text: str) -> int:
    value = 0
    for char in text:
        value = value * 83 + BASE83.index(char)
    return value


def test_colour_is_the_average_as_hex():
    solid = images.process_attachment(encoded(Image.new("RGB", (30, 30), (200, 30, 60)), "PNG"), **LIMITS)
    assert solid.colour == "#c81e3c"
    mixed = images.process_attachment(encoded(halves((64, 64), "white", "black"), "PNG"), **LIMITS)
    assert re.fullmatch(r"#[0-9a-f]{6}", mixed.colour)
    assert 0x70 <= int(mixed.colour[1:3], 16) <= 0x90


def test_blurhash_has_the_shape_of_the_spec():
    result = images.process_attachment(encoded(halves((64, 48)), "JPEG"), **LIMITS)
    assert len(result.blurhash) == 28 and set(result.blurhash) <= set(BASE83)
    size_flag = decode83(result.blurhash[0])
    assert (size_flag % 9 + 1, size_flag // 9 + 1) == (4, 3)
    for x, y in ((1, 1), (9, 9), (2, 7)):
        text = images.blurhash_encode(halves((16, 16)), x, y)
        assert len(text) == 4 + 2 * x * y
        assert (decode83(text[0]) % 9 + 1, decode83(text[0]) // 9 + 1) == (x, y)


def test_blurhash_decodes_to_the_picture():
    solid = images.blurhash_encode(Image.new("RGB", (32, 32), (200, 30, 60)))
    dc = decode83(solid[2:6])
    assert (dc >> 16, dc >> 8 & 255, dc & 255) == (200, 30, 60)
    # Dark on the left, bright on the right: the first horizontal frequency is negative in every
    # channel (its basis, cos(pi x / width), is +1 at the left edge and -1 at the right).
    ramp = images.blurhash_encode(halves((32, 24), "black", "white"))
    maximum = (decode83(ramp[1]) + 1) / 166
    first = decode83(ramp[6:8])
    channels = (first // 361, first // 19 % 19, first % 19)
    assert all(quantised < 9 for quantised in channels)
    assert maximum > 0.3
    grey = decode83(ramp[2:6])
    assert 100 < (grey >> 16) < 200  # the mean of black and white in linear light is a light grey
