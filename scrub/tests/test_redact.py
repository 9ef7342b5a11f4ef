"""Redaction: what staff marked is painted over for good, in the photo as they saw it, and the
new file holds nothing else of the original: no metadata, no thumbnail, no further picture."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from scrub import redact, report
from scrub.redact import BadRectangle, CannotRedact, Rectangle
from scrub.tests import phone_photos

# ExifTags orientation -> the turn that stores an upright picture so that a viewer (which
# applies the orientation) shows it upright again.
_STORED_TURN = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def _array(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def _assert_bare(data: bytes, content_type: str, markers: tuple[bytes, ...] = ()) -> None:
    assert report.describe_metadata(data, content_type).findings == ()
    assert [marker for marker in markers if marker in data] == []
    assert b"Exif" not in data and b"ICC_PROFILE" not in data and b"iCCP" not in data
    if content_type == "image/jpeg":
        assert data.count(b"\xff\xd8") == 1, "a second JPEG (a thumbnail or preview) is in the file"
    with Image.open(io.BytesIO(data)) as image:
        assert getattr(image, "n_frames", 1) == 1


def test_a_png_is_painted_exactly_and_nothing_else_changes() -> None:
    original = phone_photos.phone_photo(image_format="PNG")
    box = Rectangle(10, 8, 30, 20)
    redacted = redact.redact_image(original.data, "image/png", [box])
    before, after = _array(original.data), _array(redacted)
    region = (slice(box.top, box.bottom), slice(box.left, box.right))
    assert before[region].std() > 10  # positive control: the region held a picture
    assert (after[region] == 0).all()
    outside = after.copy()
    outside[region] = before[region]
    assert (outside == before).all()
    _assert_bare(redacted, "image/png", original.markers)


def test_a_phone_jpeg_loses_the_painted_pixels_its_thumbnail_and_all_its_metadata() -> None:
    """Attacker: whoever receives the redacted photo (a journalist's reader, a captor): neither
    the pixels under the black box, nor the EXIF thumbnail of the whole photo, nor the GPS
    position may be recovered from the file."""
    original = phone_photos.phone_photo()
    assert report.describe_metadata(original.data, "image/jpeg").get("exif_thumbnail")  # positive control
    box = Rectangle(16, 16, 48, 32)  # whole 16-pixel blocks: their inside decodes exactly
    redacted = redact.redact_image(original.data, "image/jpeg", [box])
    before, after = _array(original.data), _array(redacted)
    inside = (slice(box.top + 4, box.bottom - 4), slice(box.left + 4, box.right - 4))
    assert before[inside].std() > 10
    assert after[inside].max() - after[inside].min() == 0 and after[inside].max() <= 4
    assert np.abs(after[inside] - before[inside]).mean() > 40
    _assert_bare(redacted, "image/jpeg", original.markers)


@pytest.mark.parametrize("lossless", [True, False])
def test_a_webp_is_painted_and_keeps_its_kind(lossless: bool) -> None:
    picture = phone_photos.scene(96, 64)
    original = _encoded(picture, "WEBP", lossless=lossless, quality=90, exif=phone_photos.full_exif("w"))
    redacted = redact.redact_image(original, "image/webp", [Rectangle(0, 0, 32, 32)])
    assert (b"VP8L" in redacted) is lossless
    corner = _array(redacted)[4:28, 4:28]
    assert corner.max() == 0 if lossless else corner.max() <= 6
    _assert_bare(redacted, "image/webp")


def test_transparent_pixels_are_painted_opaque() -> None:
    """A transparent paint would leave the colour values under it in the file."""
    picture = phone_photos.scene(32, 32).convert("RGBA")
    picture.putalpha(0)
    redacted = redact.redact_image(_encoded(picture, "PNG"), "image/png", [Rectangle(0, 0, 16, 16)])
    with Image.open(io.BytesIO(redacted)) as image:
        painted = np.asarray(image.convert("RGBA"))[:16, :16]
    assert (painted == [0, 0, 0, 255]).all()


def test_a_palette_png_with_transparency_is_painted() -> None:
    image = Image.new("P", (16, 16), 1)
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0])
    image.paste(2, (8, 8, 16, 16))
    redacted = redact.redact_image(_encoded(image, "PNG", transparency=0), "image/png", [Rectangle(8, 8, 8, 8)])
    with Image.open(io.BytesIO(redacted)) as after:
        pixels = after.convert("RGBA")
        assert pixels.getpixel((12, 12)) == (0, 0, 0, 255) and pixels.getpixel((2, 2)) == (255, 0, 0, 255)


def _upright_with_red_square() -> Image.Image:
    picture = phone_photos.scene(120, 80)
    ImageDraw.Draw(picture).rectangle((8, 8, 39, 29), fill=(255, 0, 0))
    return picture


def _red_pixels(pixels: np.ndarray) -> int:
    return int(((pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)).sum())


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_rectangles_are_where_the_person_saw_them_on_a_turned_photo(orientation: int) -> None:
    upright = _upright_with_red_square()
    stored = phone_photos.phone_photo(orientation=orientation, picture=upright.transpose(_STORED_TURN[orientation]))
    with Image.open(io.BytesIO(stored.data)) as shown:  # positive control: a viewer shows it upright
        assert ImageOps.exif_transpose(shown).size == upright.size
    assert redact.upright_size(stored.data, "image/jpeg") == (120, 80)
    redacted = redact.redact_image(stored.data, "image/jpeg", [Rectangle(6, 6, 36, 26)])
    after = _array(redacted)
    assert after.shape[:2] == (80, 120)
    assert _red_pixels(_array(_encoded(upright, "PNG"))) > 500
    assert _red_pixels(after) == 0
    assert after[10:28, 10:38].max() <= 40
    _assert_bare(redacted, "image/jpeg", stored.markers)


@pytest.mark.parametrize(
    "rectangle",
    [
        Rectangle(-1, 0, 10, 10),
        Rectangle(0, -1, 10, 10),
        Rectangle(0, 0, 0, 10),
        Rectangle(0, 0, 10, -5),
        Rectangle(60, 0, 37, 10),  # one pixel past the right edge of 96
        Rectangle(0, 60, 10, 5),  # past the bottom edge of 64
        Rectangle(200, 200, 10, 10),
        Rectangle(0, 0, 10.5, 10),  # type: ignore[arg-type]
        Rectangle(True, 0, 10, 10),
    ],
)
def test_a_rectangle_outside_the_image_or_empty_is_refused(rectangle: Rectangle) -> None:
    photo = phone_photos.phone_photo().data
    with pytest.raises(BadRectangle):
        redact.redact_image(photo, "image/jpeg", [Rectangle(0, 0, 8, 8), rectangle])


def test_rectangles_are_checked_against_the_upright_size() -> None:
    """Stored 96 wide and 64 high, shown 64 wide and 96 high: a rectangle 90 wide fits the
    stored pixels but not what the person saw."""
    photo = phone_photos.phone_photo(orientation=6).data
    with pytest.raises(BadRectangle):
        redact.redact_image(photo, "image/jpeg", [Rectangle(0, 0, 90, 10)])
    redacted = redact.redact_image(photo, "image/jpeg", [Rectangle(0, 0, 10, 90)])
    assert _array(redacted).shape[:2] == (96, 64)


def _animation(image_format: str) -> bytes:
    frames = [phone_photos.scene(32, 32, seed=n) for n in range(3)]
    return _encoded(frames[0], image_format, save_all=True, append_images=frames[1:], duration=100)


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/gif", _encoded(phone_photos.scene(16, 16), "GIF")),
        ("image/webp", _animation("WEBP")),
        ("image/png", _animation("PNG")),  # an animated PNG
        ("image/jpeg", b"\xff\xd8\xff" + b"\x11" * 64),
        ("application/pdf", b"%PDF-1.4\n"),
        ("image/png", _encoded(Image.new("I;16", (8, 8)), "PNG")),
    ],
)
def test_animations_and_files_that_cannot_be_read_are_refused(content_type: str, data: bytes) -> None:
    with pytest.raises(CannotRedact):
        redact.redact_image(data, content_type, [Rectangle(0, 0, 4, 4)])


def test_the_further_pictures_of_an_mpo_do_not_survive() -> None:
    """Phones write MPO files: a JPEG followed by further full pictures (a preview, a depth
    map) that most viewers never show; the unredacted photo must not ride along."""
    picture = phone_photos.scene(64, 48)
    mpo = _encoded(picture, "MPO", save_all=True, append_images=[picture.copy()], quality=95)
    with Image.open(io.BytesIO(mpo)) as opened:  # positive control
        assert getattr(opened, "n_frames", 1) == 2
    redacted = redact.redact_image(mpo, "image/jpeg", [Rectangle(0, 0, 64, 48)])
    assert b"MPF" not in redacted
    assert _array(redacted).max() <= 4
    _assert_bare(redacted, "image/jpeg")


def test_a_preview_is_small_upright_bare_and_maps_back_to_the_image() -> None:
    upright = _upright_with_red_square().resize((1200, 800), Image.Resampling.NEAREST)
    stored = phone_photos.phone_photo(orientation=6, picture=upright.transpose(_STORED_TURN[6]))
    png, scale = redact.preview(stored.data, "image/jpeg", 300)
    assert scale == 4.0
    with Image.open(io.BytesIO(png)) as shown:
        assert shown.format == "PNG" and shown.size == (300, 200)
        small = np.asarray(shown.convert("RGB"), dtype=np.int16)
    _assert_bare(png, "image/png", stored.markers)
    assert _red_pixels(small[22:30, 22:30]) == 64  # the red square where the person sees it
    # The person draws over the red square (20..100 x 20..75 on the preview)...
    size = redact.upright_size(stored.data, "image/jpeg")
    drawn = Rectangle.from_preview(19.5, 19.5, 81, 56, scale=scale, size=size)
    assert drawn == Rectangle(78, 78, 324, 224)  # ...rounded outwards: at least what was drawn
    assert _red_pixels(_array(redact.redact_image(stored.data, "image/jpeg", [drawn]))) == 0


def test_a_preview_never_enlarges_and_rectangles_from_it_stay_inside() -> None:
    png, scale = redact.preview(_encoded(phone_photos.scene(40, 30), "PNG"), "image/png", 500)
    assert scale == 1.0
    with Image.open(io.BytesIO(png)) as shown:
        assert shown.size == (40, 30)
    assert Rectangle.from_preview(30, 20, 50, 50, scale=1.0, size=(40, 30)) == Rectangle(30, 20, 10, 10)
    with pytest.raises(BadRectangle):
        Rectangle.from_preview(45, 0, 5, 5, scale=1.0, size=(40, 30))
    with pytest.raises(BadRectangle):
        Rectangle.from_preview(0, 0, 0, 5, scale=1.0, size=(40, 30))
