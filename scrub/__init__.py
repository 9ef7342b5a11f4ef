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
  the file identifier is derived from the new content; without attached files (embedded files,
  associated files, file-attachment annotations) and without the author and dates of its
  annotations. JPEG pictures inside it lose their EXIF, XMP, IPTC and comment segments, cut out
  of the compressed bytes: the pictures are not decoded nor encoded again, and the pages are
  otherwise kept as they are. (JPEG 2000 pictures, rare in PDFs, are kept as they are.)

Everything happens in memory: nothing is written to a temporary file (invariant 1). A file
that cannot be read as the kind it claims to be, or that is too large to decode safely, raises
CannotClean, whatever the decoder raised (a decoder fed anything a stranger sends may fail in
any way); the caller decides what to do with the file.

The files come from anyone, before the form they came with is checked (the upload handler
cleans each file as it completes), so the work one file can cost is bounded: the decoders run
in a child process of their own (scrub/confined.py, fed and read through pipes) that may use
at most CHILD_MEMORY bytes of address space and CHILD_CPU_SECONDS of processor time. A small
PDF whose object streams inflate to gigabytes, or a file that makes a decoder build millions of
objects, stops the child, never the server, and is refused like any file that cannot be read.
"""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pikepdf
from PIL import Image, ImageOps, ImageSequence, JpegImagePlugin

# Phone cameras take photos of 12-24 million pixels (a few sensors offer up to 50 million in a
# special mode); decoding costs 3-4 bytes per pixel, twice over when the photo is turned
# upright. Anything larger (summed over an animation's frames) is not decoded: a small file can
# claim a huge size (a decompression bomb). Image.open reads only the header: the size is
# checked before any pixel is decoded.
MAX_PIXELS = 40_000_000
# What the child process that decodes one file may use (see the module's docstring): enough for
# a MAX_PIXELS photo turned upright and encoded again, or a long PDF.
CHILD_MEMORY = 1024 * 1024 * 1024
CHILD_CPU_SECONDS = 20
# A child that waits on something instead of computing is stopped after this long.
CHILD_WALL_SECONDS = 60
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
    """A copy of ``data`` (of the sniffed ``content_type``) without metadata, made by a child
    process with bounded memory and processor time."""
    if content_type not in CLEANABLE:
        raise CannotClean(f"no cleaner for {content_type}")
    return run_confined(data, content_type, "clean")


def run_confined(data: bytes, content_type: str, task: str) -> bytes:
    """What ``task`` (one of confined.py's TASKS) makes of ``data`` in the bounded child process."""
    command = [sys.executable, "-I", "-S", str(Path(__file__).with_name("confined.py")), content_type, task]
    # -I -S: the child reads neither environment variables nor site directories; confined.py
    # puts this project's directory and the interpreter's own packages on its path.
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=CHILD_WALL_SECONDS, check=False)  # noqa: S603 (a fixed command: this interpreter, this file)
    except subprocess.TimeoutExpired:
        raise CannotClean("took too long to clean") from None
    if done.returncode == 0:
        return done.stdout
    if done.returncode == CANNOT_CLEAN_EXIT:
        raise CannotClean(done.stderr.decode("ascii", "replace")[:200])
    raise CannotClean("too costly to clean (stopped at its memory or time bound)")


# The exit status of a child that refused the file (its reason on stderr); any other failure is
# a child stopped at its bounds or crashed by the decoder.
CANNOT_CLEAN_EXIT = 3


def clean_here(data: bytes, content_type: str) -> bytes:
    """What the child process runs: ``clean`` without its bounds, in the calling process."""
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
    info = cast(dict[str, object], upright.info)  # _bare kept only _KEPT_INFO's keys, all strings
    upright.save(out, image_format, **{**info, **options})


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
    info = cast(dict[str, object], first.info)  # _bare kept only _KEPT_INFO's keys, all strings
    first.save(out, image_format, **{**info, **options})


def _jpeg_options(image: Image.Image, data: bytes) -> dict[str, object]:
    # The original's own tables: the new file has its quality, neither worse nor bloated.
    options: dict[str, object] = {"qtables": image.quantization}  # type: ignore[attr-defined]  # a JpegImageFile: only JPEGs come here
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

# Per object: XMP, application data, and associated files (PDF 2.0: files attached to the
# document, a page or any object).
_PDF_PRIVATE_KEYS = ("/Metadata", "/PieceInfo", "/AF")
# What an annotation says about who made or changed it, and when.
_ANNOTATION_PRIVATE_KEYS = ("/T", "/M", "/CreationDate")
# What a PDF's object streams (compressed dictionaries and arrays, which must be decoded to
# reach the metadata) may inflate to, in all: thousands of pages' worth of structure. The
# pictures and page contents are never decoded.
OBJECT_STREAMS_MAX = 16 * 1024 * 1024


def _clean_pdf(data: bytes) -> bytes:
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            _check_object_streams(pdf)
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            _drop_attachments_and_annotation_authors(pdf)
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                    for key in _PDF_PRIVATE_KEYS:
                        if key in obj:
                            del obj[key]
                if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == pikepdf.Name.Image:
                    _strip_jpeg_image(obj)
            out = io.BytesIO()
            # preserve_pdfa would write XMP back to keep a PDF/A claim; the claim goes with it.
            pdf.save(out, deterministic_id=True, preserve_pdfa=False, fix_metadata_version=False)
            return out.getvalue()
    except CannotClean:
        raise
    except pikepdf.PasswordError:
        raise CannotClean("the PDF needs a password to open") from None
    except Exception:  # as for images: the file is a stranger's
        raise CannotClean("not a readable PDF") from None


def _drop_attachments_and_annotation_authors(pdf: pikepdf.Pdf) -> None:
    """Files attached to the document or a page (they may be anything, photos included) go,
    and annotations no longer name their author or their dates. Objects nothing refers to any
    more are not written out."""
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/EmbeddedFiles" in names:
        del names["/EmbeddedFiles"]
    for page in pdf.pages:
        annotations = page.obj.get("/Annots")
        if not isinstance(annotations, pikepdf.Array):
            continue
        kept = [annot for annot in annotations if annot.get("/Subtype") != pikepdf.Name.FileAttachment]
        for annot in kept:
            if isinstance(annot, pikepdf.Dictionary):
                for key in _ANNOTATION_PRIVATE_KEYS:
                    if key in annot:
                        del annot[key]
        page.obj.Annots = pikepdf.Array(kept)


def _strip_jpeg_image(image: pikepdf.Stream) -> None:
    """A JPEG picture inside the PDF loses its EXIF, XMP, IPTC and comments, segment by segment,
    without being decoded: the pixels are the same bytes."""
    if image.get("/Filter") not in (pikepdf.Name.DCTDecode, pikepdf.Array([pikepdf.Name.DCTDecode])):
        return
    raw = image.read_raw_bytes()
    stripped = jpeg_without_metadata(raw)
    if stripped != raw:
        # A PDF's /DecodeParms is a dictionary, or an array of them (one per filter).
        parms = cast("pikepdf.Dictionary | pikepdf.Array | None", image.get("/DecodeParms"))
        image.write(stripped, filter=pikepdf.Name.DCTDecode, decode_parms=parms)


# The segments a JPEG keeps: JFIF (APP0, how its pixels are laid out), the colour profile
# (APP2 ICC_PROFILE) and Adobe's colour transform (APP14). Every other application segment
# (EXIF and XMP in APP1, MPF in APP2, IPTC in APP13...) and every comment (COM) goes.
_JPEG_KEPT_APP = ((0xE0, b"JFIF\x00"), (0xE2, b"ICC_PROFILE\x00"), (0xEE, b"Adobe"))


def jpeg_without_metadata(data: bytes) -> bytes:
    """``data`` (a JPEG) without its metadata segments and without anything after its end (the
    further pictures of an MPO, each with its own EXIF). The compressed pixels are copied."""
    if data[:2] != b"\xff\xd8":
        raise CannotClean("not a JPEG picture")
    out = bytearray(data[:2])
    position = 2
    while True:
        while position < len(data) and data[position] == 0xFF and data[position + 1 : position + 2] == b"\xff":
            position += 1  # fill bytes before a marker
        if data[position : position + 1] != b"\xff" or position + 2 > len(data):
            raise CannotClean("a JPEG picture that ends early")
        marker = data[position + 1]
        if marker == 0xD9:  # end of image: nothing after it is kept
            out += data[position : position + 2]
            return bytes(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out += data[position : position + 2]
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise CannotClean("a JPEG picture that ends early")
        segment = data[position:end]
        body = data[position + 4 : end]
        dropped = marker == 0xFE or (
            0xE0 <= marker <= 0xEF
            and not any(marker == kept and body.startswith(sign) for kept, sign in _JPEG_KEPT_APP)
        )
        if not dropped:
            out += segment
        position = end
        if marker == 0xDA:  # start of scan: compressed data up to the next marker
            scan_end = position
            while True:
                scan_end = data.find(b"\xff", scan_end)
                if scan_end < 0 or scan_end + 1 >= len(data):
                    raise CannotClean("a JPEG picture that ends early")
                following = data[scan_end + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    scan_end += 2
                    continue
                if following == 0xFF:
                    scan_end += 1
                    continue
                break
            out += data[position:scan_end]
            position = scan_end


def _check_object_streams(pdf: pikepdf.Pdf) -> None:
    """Refuse, before qpdf decodes any of them, object streams that would inflate beyond
    OBJECT_STREAMS_MAX: each is inflated here from its raw bytes, a bounded piece at a time."""
    numbers = {
        entry.obj_stream_number
        for entry in pdf.get_xref_table().values()
        if entry.type == 2 and entry.obj_stream_number is not None
    }
    budget = OBJECT_STREAMS_MAX
    for number in sorted(numbers):
        stream = pdf.get_object(number, 0)
        if not isinstance(stream, pikepdf.Stream):
            raise CannotClean("an object stream that is not a stream")
        found = stream.get("/Filter")
        if isinstance(found, pikepdf.Array):
            filters = list(found)
        else:
            filters = [] if found is None else [found]
        raw = stream.read_raw_bytes()
        if not filters:
            budget -= len(raw)
        elif filters == [pikepdf.Name.FlateDecode] and "/DecodeParms" not in stream:
            budget -= _inflated_size(raw, budget + 1)
        else:
            raise CannotClean("an object stream with filters that are not checked")
        if budget < 0:
            raise CannotClean("object streams that inflate too far")


def _inflated_size(raw: bytes, limit: int) -> int:
    """How many bytes ``raw`` inflates to, counting no further than ``limit``."""
    inflate = zlib.decompressobj()
    size, pending = 0, raw
    while size < limit:
        piece = inflate.decompress(pending, 1024 * 1024)
        pending = inflate.unconsumed_tail
        if not piece and not pending:
            break
        size += len(piece)
    return size
