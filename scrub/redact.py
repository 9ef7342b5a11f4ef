"""Redacted copies of photos: rectangles painted over for good, nothing else left in the file.
Plain Python: no Django import.

A face, a street sign or a document in a photo can identify a person as surely as its GPS
position. ``redact_image`` paints the rectangles a staff member marked with solid black, which
nothing can undo (a blur or a pixelation can be partly reversed, or matched against photos of
known people), and writes a new file that holds only the painted pixels:

- The rectangles are in the coordinates of the photo as a person sees it: the EXIF orientation
  is applied to the pixels first, as every viewer (and ``preview``) does.
- The file is encoded again from the painted pixels alone, as scrub.clean does, with the
  original's JPEG quality tables, or losslessly for a lossless WebP; it carries no EXIF (so no
  thumbnail of the unpainted photo), no XMP, no comment, and no further pictures (a JPEG's MPO
  previews are never decoded). Colours are converted to sRGB and the colour profile dropped:
  a phone's profile can name its maker, and a derivative meant to leave the locker says nothing
  about the device. scrub.report checks the new file before it is returned.
- Animations are refused (CannotRedact): staff see one frame in the preview, and the same
  rectangles on every frame would miss a face that moves. A still taken from the animation can
  be redacted instead.
- 16-bit and floating-point images (rare outside scientific cameras) are refused rather than
  quietly reduced.

``preview`` gives staff a small PNG of the upright photo to draw on, and the factor that turns
its coordinates into the photo's (``Rectangle.from_preview``).

The pixels are decoded here, in the calling process: call these from the worker, on files the
intake has already accepted (scrub.MAX_PIXELS is enforced before any pixel is decoded).
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageCms, ImageColor, ImageOps

import scrub
import scrub.report

REDACTABLE = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
# EXIF orientations that turn the picture a quarter: its width and height swap.
_QUARTER_TURNS = frozenset({5, 6, 7, 8})
# The modes painted as they are; other 8-bit modes are converted to one of them first.
_PAINTED_MODES = frozenset({"RGB", "RGBA", "L", "LA"})
_REFUSED_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})
PAINT = "black"
JPEG_QUALITY = 90


class CannotRedact(Exception):
    """The image cannot be redacted (unreadable, animated, too large...); the message says why."""


class BadRectangle(ValueError):
    """A rectangle that is empty or not inside the image."""


@dataclass(frozen=True)
class Rectangle:
    """A rectangle in the upright image's pixels: ``left`` and ``top`` included, ``right`` and
    ``bottom`` (``left + width``, ``top + height``) excluded, as Pillow's boxes."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    def box(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right, self.bottom)

    def check_inside(self, size: tuple[int, int]) -> None:
        """BadRectangle unless this rectangle has a positive size and lies inside ``size``."""
        values = (self.left, self.top, self.width, self.height)
        if not all(isinstance(value, int) and not isinstance(value, bool) for value in values):
            raise BadRectangle(f"{self}: coordinates must be whole pixels")
        if self.width <= 0 or self.height <= 0:
            raise BadRectangle(f"{self}: width and height must be positive")
        if self.left < 0 or self.top < 0 or self.right > size[0] or self.bottom > size[1]:
            raise BadRectangle(f"{self}: not inside the image of {size[0]}x{size[1]} pixels")

    @classmethod
    def from_preview(
        cls, left: float, top: float, width: float, height: float, *, scale: float, size: tuple[int, int]
    ) -> Rectangle:
        """The rectangle drawn on a preview (``scale`` from ``preview``), in the image of
        ``size`` (``upright_size``): rounded outwards, so it covers at least what was drawn,
        and cut at the image's edges."""
        if width <= 0 or height <= 0:
            raise BadRectangle("a rectangle drawn on the preview must have a positive size")
        x0, y0 = max(0, math.floor(left * scale)), max(0, math.floor(top * scale))
        x1, y1 = min(size[0], math.ceil((left + width) * scale)), min(size[1], math.ceil((top + height) * scale))
        if x1 <= x0 or y1 <= y0:
            raise BadRectangle("the rectangle drawn on the preview is outside the image")
        return cls(x0, y0, x1 - x0, y1 - y0)


@dataclass(frozen=True)
class Upright:
    """A decoded image turned as a person sees it, possibly reduced (``image``), with the size
    of the full upright image and the options that re-encode it as the original was."""

    image: Image.Image
    full_size: tuple[int, int]
    icc_profile: bytes | None
    save_options: dict[str, object]


def redact_image(data: bytes, content_type: str, rectangles: list[Rectangle]) -> bytes:
    """A new file of the same kind with ``rectangles`` painted solid and no metadata."""
    upright = load_upright(data, content_type)
    for rectangle in rectangles:
        rectangle.check_inside(upright.full_size)
    image = _paintable(_in_srgb(upright.image, upright.icc_profile))
    colour = ImageColor.getcolor(PAINT, image.mode)
    for rectangle in rectangles:
        image.paste(colour, rectangle.box())
    image_format = REDACTABLE[content_type]
    options = upright.save_options
    if image_format == "JPEG" and image.mode != upright.image.mode:
        options = {"quality": JPEG_QUALITY}  # the original's tables were for other channels
    redacted = _encode(image, image_format, options)
    _check_bare(redacted, content_type)
    return redacted


def preview(data: bytes, content_type: str, max_side: int) -> tuple[bytes, float]:
    """A PNG of the upright image, no side longer than ``max_side``, and the scale that turns
    its coordinates into the image's (image = preview x scale)."""
    if max_side < 1:
        raise ValueError("max_side must be positive")
    upright = load_upright(data, content_type, fit=max_side)
    scale, size = fit_within(upright.full_size, max_side)
    image = _paintable(_in_srgb(upright.image, upright.icc_profile))
    small = image.resize(size, Image.Resampling.LANCZOS)
    return _encode(small, "PNG", {}), scale


def upright_size(data: bytes, content_type: str) -> tuple[int, int]:
    """Width and height of the image as a person sees it (EXIF orientation applied), read
    from its header only."""
    with _opened(data, content_type) as image:
        return _upright_size(image)


def fit_within(size: tuple[int, int], max_side: int) -> tuple[float, tuple[int, int]]:
    """The scale (never below 1: never enlarged) and the size of ``size`` reduced to fit."""
    scale = max(1.0, max(size) / max_side)
    return scale, (max(1, round(size[0] / scale)), max(1, round(size[1] / scale)))


def load_upright(data: bytes, content_type: str, *, fit: int | None = None) -> Upright:
    """The image decoded and turned upright; a JPEG only as large as needed to cover ``fit``
    pixels on each side when ``fit`` is given (a phone photo is decoded at 1/2 to 1/8)."""
    with _opened(data, content_type) as image:
        full_size = _upright_size(image)
        options = scrub._SAVE_OPTIONS[REDACTABLE[content_type]](image, data)
        icc = image.info.get("icc_profile") or None
        try:
            if fit is not None and image.format in ("JPEG", "MPO"):
                image.draft(None, (fit, fit))
            image.load()
            turned = _without_palette(ImageOps.exif_transpose(image))
        except Exception:  # a decoder fed anything a stranger sends may fail in any way
            raise CannotRedact(f"not a readable {image.format} image") from None
        turned.info = {}
        return Upright(turned, full_size, icc, options)


class _opened:
    """``Image.open`` for one format, with the pixel bound and animations refused, and any
    failure of the decoder's header parsing turned into CannotRedact."""

    def __init__(self, data: bytes, content_type: str) -> None:
        image_format = REDACTABLE.get(content_type)
        if image_format is None:
            raise CannotRedact(f"cannot redact {content_type}: only JPEG, PNG and WebP photos")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                self.image = Image.open(io.BytesIO(data), formats=[image_format])
        except Exception:  # as above: the file is a stranger's
            raise CannotRedact(f"not a readable {image_format} image") from None

    def __enter__(self) -> Image.Image:
        image = self.image
        # A JPEG's further pictures (MPO) are previews and depth maps: only the photo is decoded.
        frames = 1 if image.format in ("JPEG", "MPO") else getattr(image, "n_frames", 1)
        if frames > 1:
            image.close()
            raise CannotRedact("an animation cannot be redacted: redact a still taken from it")
        if image.width * image.height > scrub.MAX_PIXELS:
            image.close()
            raise CannotRedact("too many pixels to decode")
        if image.mode in _REFUSED_MODES:
            image.close()
            raise CannotRedact(f"{image.mode} images (16-bit or floating point) cannot be redacted")
        return image

    def __exit__(self, *exc: object) -> None:
        self.image.close()


def _upright_size(image: Image.Image) -> tuple[int, int]:
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    width, height = image.size
    return (height, width) if orientation in _QUARTER_TURNS else (width, height)


def _in_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """``image``'s colours in sRGB, so that it can be shown right without a profile."""
    if not icc_profile:
        return image
    source = image if image.mode in ("RGB", "RGBA", "L", "CMYK") else image.convert("RGBA")
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        srgb = ImageCms.createProfile("sRGB")
        output = "RGBA" if source.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(source, profile, srgb, outputMode=output)
    except (ImageCms.PyCMSError, OSError, ValueError):
        raise CannotRedact("the image's colour profile cannot be read") from None
    if converted is None:  # only when asked to work in place, which it was not
        raise CannotRedact("the image's colours cannot be converted")
    return converted


def _without_palette(image: Image.Image) -> Image.Image:
    """A palette image as RGB (RGBA when it has transparency), while its information still
    says which entry is transparent: it is painted and converted to sRGB as RGB."""
    if image.mode not in ("P", "PA"):
        return image
    transparent = image.mode == "PA" or "transparency" in image.info
    return image.convert("RGBA" if transparent else "RGB")


def _paintable(image: Image.Image) -> Image.Image:
    """``image`` in a mode a solid colour paints completely (CMYK and other modes become RGB)."""
    if image.mode in _PAINTED_MODES:
        return image
    if image.mode == "1":
        return image.convert("L")
    return image.convert("RGBA" if "A" in image.mode else "RGB")


def _encode(image: Image.Image, image_format: str, options: dict[str, object]) -> bytes:
    image.info = {}  # nothing but the pixels
    out = io.BytesIO()
    try:
        image.save(out, image_format, **options)
    except (OSError, ValueError):
        raise CannotRedact(f"the redacted image cannot be written as {image_format}") from None
    return out.getvalue()


def _check_bare(data: bytes, content_type: str) -> None:
    """Fail closed if the new file carries any metadata at all (scrub.report's reading)."""
    found = scrub.report.describe_here(data, content_type).kinds()
    if found:
        raise scrub.report.MetadataLeft(f"the redacted image still carries {', '.join(sorted(found))}")
