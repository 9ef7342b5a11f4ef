"""Removing location and camera data from the photos and PDF files people send. Plain Python:
no Django import.

A photo from a phone carries where it was taken (GPS), when, and with which device (EXIF),
often an embedded thumbnail, and sometimes editing history (XMP) or press captions (IPTC). A
PDF names its author, the program that made it and the document's own history (the document
information dictionary and XMP). For a person in hiding, the GPS position of a photo is the
address of the hiding place. ``clean`` returns a copy with all of that removed:

- Images are decoded and encoded again by Pillow with nothing but their pixels, their colour
  profile and (for palette images) their transparency, so no metadata block of any kind
  survives. The EXIF orientation is applied to the pixels first, so a photo stays upright
  once its EXIF is gone. JPEG keeps its own quantisation tables and chroma subsampling: the
  new file has the quality of the old one. Lossless WebP stays lossless; lossy WebP is
  encoded at quality 90. Animations keep their frames and timings.
- PDF files are rewritten by pikepdf (qpdf) without the document information dictionary
  (Author, Creator, Producer, Title, dates...), without any XMP stream (the document's, a
  page's or an image's), without application data (PieceInfo) and without earlier revisions;
  the file identifier is derived from the new content. The pages are kept as they are:
  pictures embedded inside a PDF are not decoded.

Everything happens in memory: nothing is written to a temporary file (invariant 1). A file
that cannot be read as the kind it claims to be, or that is too large to decode safely, raises
CannotClean, whatever the decoder raised (a decoder fed anything a stranger sends may fail in
any way); the caller decides what to do with the file.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import pikepdf
from PIL import Image, ImageOps, ImageSequence, JpegImagePlugin

# Phones take photos of up to 50 million pixels at full resolution; decoding costs 3-4 bytes
# per pixel. Anything larger (summed over an animation's frames) is not decoded: a small file
# can claim a huge size (a decompression bomb).
MAX_PIXELS = 64_000_000
LOSSY_WEBP_QUALITY = 90

# The kinds clean() knows, by the content type intake/uploads.py sniffs from the first bytes,
# with the Pillow format that must open them (never another decoder than the one named).
_IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
CLEANABLE = frozenset({*_IMAGE_FORMATS, "application/pdf"})

# What an image keeps besides its pixels: how to show its colours, and which palette entry is
# transparent. Nothing here says anything about where, when or with what it was made.
_KEPT_INFO = ("icc_profile", "transparency")


class CannotClean(Exception):
    """The file could not be cleaned; the message says why, without any of its content."""


def clean(data: bytes, content_type: str) -> bytes:
    """A copy of ``data`` (of the sniffed ``content_type``) without metadata."""
    if content_type == "application/pdf":
        return _clean_pdf(data)
    image_format = _IMAGE_FORMATS.get(content_type)
    if image_format is None:
        raise CannotClean(f"no cleaner for {content_type}")
    return _clean_image(data, image_format)


# --- images ------------------------------------------------------------------------------------


def _clean_image(data: bytes, image_format: str) -> bytes:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                # A JPEG's further "frames" (MPO) are previews and depth maps: only the photo stays.
                frames = 1 if image_format == "JPEG" else getattr(image, "n_frames", 1)
                if image.width * image.height * frames > MAX_PIXELS:
                    raise CannotClean("too many pixels to decode")
                out = io.BytesIO()
                if frames > 1:
                    _save_animation(image, image_format, out)
                else:
                    _save_still(image, image_format, data, out)
                return out.getvalue()
    except CannotClean:
        raise
    except Exception:  # a decoder fed anything a stranger sends may fail in any way
        raise CannotClean(f"not a readable {image_format} image") from None


def _bare(image: Image.Image, source: Image.Image) -> Image.Image:
    """``image`` with no information attached but what _KEPT_INFO allows (from ``source``)."""
    image.info = {key: source.info[key] for key in _KEPT_INFO if key in source.info}
    return image


def _save_still(image: Image.Image, image_format: str, data: bytes, out: io.BytesIO) -> None:
    image.load()
    upright = _bare(ImageOps.exif_transpose(image), image)
    options = _SAVE_OPTIONS[image_format](image, data)
    upright.save(out, image_format, **{**upright.info, **options})


def _save_animation(image: Image.Image, image_format: str, out: io.BytesIO) -> None:
    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        durations.append(frame.info.get("duration", 0))
        frames.append(_bare(frame.copy(), frame))
    first = frames[0]
    options: dict[str, object] = {"save_all": True, "append_images": frames[1:], "duration": durations}
    options["loop"] = image.info.get("loop", 0)
    if image_format == "WEBP":
        options["lossless"] = True  # the frames are decoded already: keep them exactly
    first.save(out, image_format, **{**first.info, **options})


def _jpeg_options(image: Image.Image, data: bytes) -> dict[str, object]:
    # The original's own tables: the new file has its quality, neither worse nor bloated.
    options: dict[str, object] = {"qtables": image.quantization}  # type: ignore[attr-defined]
    sampling = JpegImagePlugin.get_sampling(image)
    if sampling != -1:
        options["subsampling"] = sampling
    return options


def _webp_options(image: Image.Image, data: bytes) -> dict[str, object]:
    if _webp_lossless(data):
        return {"lossless": True}
    return {"quality": LOSSY_WEBP_QUALITY}


def _webp_lossless(data: bytes) -> bool:
    """Whether the WebP file's image chunk is VP8L (lossless): RIFF chunks from byte 12 on."""
    offset = 12
    while offset + 8 <= len(data):
        kind = data[offset : offset + 4]
        if kind in (b"VP8 ", b"VP8L"):
            return kind == b"VP8L"
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        offset += 8 + size + (size & 1)
    return False


def _no_options(image: Image.Image, data: bytes) -> dict[str, object]:
    return {}


_SAVE_OPTIONS: dict[str, Callable[[Image.Image, bytes], dict[str, object]]] = {
    "JPEG": _jpeg_options,
    "PNG": _no_options,
    "GIF": _no_options,
    "WEBP": _webp_options,
}


# --- PDF ---------------------------------------------------------------------------------------

_PDF_PRIVATE_KEYS = ("/Metadata", "/PieceInfo")


def _clean_pdf(data: bytes) -> bytes:
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                    for key in _PDF_PRIVATE_KEYS:
                        if key in obj:
                            del obj[key]
            out = io.BytesIO()
            # preserve_pdfa would write XMP back to keep a PDF/A claim; the claim goes with it.
            pdf.save(out, deterministic_id=True, preserve_pdfa=False, fix_metadata_version=False)
            return out.getvalue()
    except pikepdf.PasswordError:
        raise CannotClean("the PDF needs a password to open") from None
    except Exception:  # as for images: the file is a stranger's
        raise CannotClean("not a readable PDF") from None
