"""What a photo or PDF says about itself, by name and count only: the record kept beside a
metadata-stripped copy of a piece of evidence. Plain Python: no Django import.

``describe_metadata`` lists what stripping removes (EXIF by tag name, with the GPS position,
the camera, the dates and the software apart; XMP, IPTC, the colour profile, an EXIF thumbnail,
comments; for a PDF the document information keys, XMP, attached files, who annotated it, and
JPEG pictures inside it that carry their own EXIF). ``strip_with_report`` cleans a file with
scrub.clean and describes the copy again, so the record says what was there and shows it is no
longer there; a copy that still carries something refuses to be passed off as clean.

The record never holds a metadata VALUE that could say who, where, when or with what: only
field names, counts, and a few technical facts (``technical``) that the stripped copy shows to
anyone anyway: its format, its size in pixels, its number of frames or pages, how the camera
was held (EXIF orientation, 1-8) and the PDF version. A name that the file's author chose (a
custom PDF information key, a PNG text keyword) is counted, not named: it could be anything.

A file is described in the same bounded child process that cleans it (scrub/confined.py): a
stranger's file is read by a decoder, and a PDF's object streams must be inflated to be read.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

import pikepdf
from PIL import ExifTags, Image

import scrub

# EXIF tags sorted into what they reveal; any other tag lands in "exif_other" by its name.
_CAMERA_TAGS = frozenset(
    {"Make", "Model", "LensMake", "LensModel", "LensSerialNumber", "BodySerialNumber", "MakerNote"}
    | {"ImageUniqueID", "UniqueCameraModel", "CameraSerialNumber", "LensSpecification"}
)
_DATE_TAGS = frozenset(
    {"DateTime", "DateTimeOriginal", "DateTimeDigitized", "PreviewDateTime"}
    | {"OffsetTime", "OffsetTimeOriginal", "OffsetTimeDigitized"}
    | {"SubsecTime", "SubsecTimeOriginal", "SubsecTimeDigitized"}
)
_SOFTWARE_TAGS = frozenset({"Software", "ProcessingSoftware", "HostComputer"})
_AUTHOR_TAGS = frozenset(
    {"Artist", "Copyright", "CameraOwnerName", "ImageDescription", "UserComment", "DocumentName"}
    | {"XPAuthor", "XPComment", "XPTitle", "XPSubject", "XPKeywords"}
)
# Pointers to the sub-directories, not information of their own.
_POINTER_TAGS = frozenset({ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo, ExifTags.IFD.Interop})
# The keywords the PNG specification defines: safe to name. Any other keyword is counted.
_PNG_KEYWORDS = frozenset(
    {"Title", "Author", "Description", "Copyright", "Creation Time", "Software", "Disclaimer", "Warning"}
    | {"Source", "Comment"}
)
_PNG_METADATA_KEYWORDS = frozenset({"XML:com.adobe.xmp", "Raw profile type exif", "Raw profile type APP1"})
# JPEG application segments reported on their own (or harmless: JFIF, Adobe colour transform).
_JPEG_KNOWN_SEGMENTS = (
    ("APP0", b"JFIF\x00"),
    ("APP1", b"Exif\x00"),
    ("APP1", b"http://ns.adobe.com/"),
    ("APP2", b"ICC_PROFILE\x00"),
    ("APP13", b"Photoshop 3.0\x00"),
    ("APP14", b"Adobe"),
    ("COM", b""),
)
_PDF_INFO_KEYS = frozenset(
    {"/Title", "/Author", "/Subject", "/Keywords", "/Creator", "/Producer", "/CreationDate", "/ModDate", "/Trapped"}
)
IPTC_RESOURCE = 0x0404
# What scrub.clean keeps on purpose: the colour profile, without which colours are shown wrong.
KEPT_BY_DESIGN = frozenset({"icc_profile"})


@dataclass(frozen=True)
class Finding:
    """One kind of metadata found: ``what`` (see the module's docstring), how many fields or
    objects carry it, and the fields' names where names are safe to keep."""

    what: str
    count: int
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetadataReport:
    content_type: str
    findings: tuple[Finding, ...]
    technical: dict[str, str | int] = field(default_factory=dict)

    def kinds(self) -> frozenset[str]:
        return frozenset(finding.what for finding in self.findings)

    def get(self, what: str) -> Finding | None:
        return next((finding for finding in self.findings if finding.what == what), None)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> MetadataReport:
        raw = json.loads(text)
        findings = tuple(Finding(item["what"], int(item["count"]), tuple(item["names"])) for item in raw["findings"])
        return cls(str(raw["content_type"]), findings, dict(raw["technical"]))


@dataclass(frozen=True)
class StripReport:
    """What a file carried (``before``), what its clean copy carries (``after``: nothing but
    KEPT_BY_DESIGN), and the kinds that went."""

    before: MetadataReport
    after: MetadataReport

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(sorted(self.before.kinds() - self.after.kinds()))

    @property
    def kept(self) -> tuple[str, ...]:
        return tuple(sorted(self.after.kinds()))


class MetadataLeft(scrub.CannotClean):
    """The cleaned copy still carries metadata that cleaning should have removed."""


def describe_metadata(data: bytes, content_type: str) -> MetadataReport:
    """The report on ``data``, made in scrub's bounded child process."""
    if content_type not in scrub.CLEANABLE:
        raise scrub.CannotClean(f"no reader for {content_type}")
    return MetadataReport.from_json(scrub.run_confined(data, content_type, "describe").decode())


def strip_with_report(data: bytes, content_type: str) -> tuple[bytes, StripReport]:
    """A clean copy of ``data`` and the record of what it lost; MetadataLeft if the copy still
    carries anything but KEPT_BY_DESIGN."""
    before = describe_metadata(data, content_type)
    cleaned = scrub.clean(data, content_type)
    after = describe_metadata(cleaned, content_type)
    left = after.kinds() - KEPT_BY_DESIGN
    if left:
        raise MetadataLeft(f"the clean copy still carries {', '.join(sorted(left))}")
    return cleaned, StripReport(before, after)


def describe_here(data: bytes, content_type: str) -> MetadataReport:
    """What the child process runs: ``describe_metadata`` in the calling process."""
    if content_type == "application/pdf":
        return _describe_pdf(data)
    image_format = scrub._IMAGE_FORMATS.get(content_type)
    if image_format is None:
        raise scrub.CannotClean(f"no reader for {content_type}")
    try:
        with Image.open(io.BytesIO(data), formats=[image_format]) as image:
            return MetadataReport(content_type, tuple(_image_findings(image, data)), _image_technical(image))
    except scrub.CannotClean:
        raise
    except Exception:  # a decoder fed anything a stranger sends may fail in any way
        raise scrub.CannotClean(f"not a readable {image_format} image") from None


def _finding(what: str, names: Iterable[str], count: int | None = None) -> Iterator[Finding]:
    """A finding when there is anything to report (``count`` defaults to the names')."""
    listed = tuple(sorted(set(names)))
    total = len(listed) if count is None else count
    if total:
        yield Finding(what, total, listed)


# --- images ------------------------------------------------------------------------------------


def _image_technical(image: Image.Image) -> dict[str, str | int]:
    technical: dict[str, str | int] = {"format": str(image.format), "width": image.width, "height": image.height}
    technical["frames"] = getattr(image, "n_frames", 1)
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    if isinstance(orientation, int) and 1 <= orientation <= 8:
        technical["orientation"] = orientation
    return technical


def _image_findings(image: Image.Image, data: bytes) -> Iterator[Finding]:
    yield from _exif_findings(image.getexif())
    info = image.info
    yield from _finding("xmp", [], int("xmp" in info or _gif_xmp(image, data)))
    photoshop = info.get("photoshop")
    yield from _finding("iptc", [], int(isinstance(photoshop, dict) and IPTC_RESOURCE in photoshop))
    yield from _finding("icc_profile", [], int(bool(info.get("icc_profile"))))
    yield from _finding("comment", [], int(bool(info.get("comment"))))
    if image.format == "PNG":
        yield from _png_text_findings(getattr(image, "text", {}))
    if image.format in ("JPEG", "MPO"):
        yield from _jpeg_segment_findings(getattr(image, "applist", []))


def _gif_xmp(image: Image.Image, data: bytes) -> bool:
    # Pillow does not read a GIF's XMP application extension: look for its identifier.
    return image.format == "GIF" and b"XMP DataXMP" in data


def _exif_findings(exif: Image.Exif) -> Iterator[Finding]:
    main = {tag: value for tag, value in exif.items() if tag not in _POINTER_TAGS}
    main.update(exif.get_ifd(ExifTags.IFD.Exif))
    names = [ExifTags.TAGS.get(tag, f"0x{tag:04x}") for tag in main if tag not in _POINTER_TAGS]
    for what, group in (
        ("camera", _CAMERA_TAGS),
        ("dates", _DATE_TAGS),
        ("software", _SOFTWARE_TAGS),
        ("authorship", _AUTHOR_TAGS),
    ):
        yield from _finding(what, [name for name in names if name in group])
    grouped = _CAMERA_TAGS | _DATE_TAGS | _SOFTWARE_TAGS | _AUTHOR_TAGS
    yield from _finding("exif_other", [name for name in names if name not in grouped])
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    yield from _finding("gps", [ExifTags.GPSTAGS.get(tag, f"0x{tag:04x}") for tag in gps])
    thumbnail = exif.get_ifd(ExifTags.IFD.IFD1)
    has_thumbnail = ExifTags.Base.JpegIFOffset in thumbnail or ExifTags.Base.StripOffsets in thumbnail
    yield from _finding("exif_thumbnail", [], int(has_thumbnail))


def _png_text_findings(text: dict[str, str]) -> Iterator[Finding]:
    keywords = [keyword for keyword in text if keyword not in _PNG_METADATA_KEYWORDS]
    if any(keyword.startswith("Raw profile type iptc") for keyword in text):
        yield Finding("iptc", 1)
    # Only the specification's own keywords are named: any other was chosen by the file's maker.
    yield from _finding("text", [keyword for keyword in keywords if keyword in _PNG_KEYWORDS], len(keywords))


def _jpeg_segment_findings(applist: list[tuple[str, bytes]]) -> Iterator[Finding]:
    other = [
        marker
        for marker, body in applist
        if not any(marker == known and body.startswith(sign) for known, sign in _JPEG_KNOWN_SEGMENTS)
    ]
    further = sum(1 for marker, body in applist if marker == "APP2" and body.startswith(b"MPF\x00"))
    yield from _finding("further_pictures", [], further)
    yield from _finding("other_segments", other, len(other) - further)


# --- PDF ---------------------------------------------------------------------------------------


def _describe_pdf(data: bytes) -> MetadataReport:
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            scrub._check_object_streams(pdf)
            technical: dict[str, str | int] = {"pdf_version": str(pdf.pdf_version), "pages": len(pdf.pages)}
            return MetadataReport("application/pdf", tuple(_pdf_findings(pdf, data)), technical)
    except scrub.CannotClean:
        raise
    except pikepdf.PasswordError:
        raise scrub.CannotClean("the PDF needs a password to open") from None
    except Exception:  # as for images: the file is a stranger's
        raise scrub.CannotClean("not a readable PDF") from None


def _pdf_findings(pdf: pikepdf.Pdf, data: bytes) -> Iterator[Finding]:
    info = pdf.trailer.get("/Info")
    keys = list(info.keys()) if isinstance(info, pikepdf.Dictionary) else []
    named = [key.lstrip("/") for key in keys if key in _PDF_INFO_KEYS]
    yield from _finding("document_info", named, len(keys))
    yield from _finding("xmp", ["document"] if "/Metadata" in pdf.Root else [], _count_objects_with(pdf, "/Metadata"))
    yield from _finding("application_data", [], _count_objects_with(pdf, "/PieceInfo"))
    yield from _pdf_attachment_findings(pdf)
    yield from _pdf_annotation_findings(pdf)
    yield from _pdf_picture_findings(pdf)
    # Each update appended to a PDF ends with its own startxref: earlier versions of the text.
    updates = data.count(b"startxref") - (2 if pdf.is_linearized else 1)
    yield from _finding("earlier_revisions", [], max(updates, 0))


def _dictionaries(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary | pikepdf.Stream]:
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            yield obj


def _count_objects_with(pdf: pikepdf.Pdf, key: str) -> int:
    return sum(1 for obj in _dictionaries(pdf) if key in obj)


def _annotations(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    for page in pdf.pages:
        annotations = page.obj.get("/Annots")
        if isinstance(annotations, pikepdf.Array):
            yield from (annot for annot in annotations if isinstance(annot, pikepdf.Dictionary))


def _pdf_attachment_findings(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    """Attached files by where they are attached, counted once each (a document's attachment is
    often both in its names tree and among its associated files); never named: a file's name
    ("where-we-are.txt") may say as much as its content."""
    places: dict[str, list[object]] = {
        "document": [spec.obj for spec in pdf.attachments.values()],
        "pages": [
            annot.get("/FS") for annot in _annotations(pdf) if annot.get("/Subtype") == pikepdf.Name.FileAttachment
        ],
        "associated": [spec for obj in _dictionaries(pdf) if "/AF" in obj for spec in _as_list(obj.get("/AF"))],
    }
    files = {stream for specs in places.values() for stream in _embedded_streams(specs)}
    yield from _finding("embedded_files", [place for place, specs in places.items() if specs], len(files))


def _as_list(found: object) -> list[object]:
    return list(found) if isinstance(found, pikepdf.Array) else [found]


def _embedded_streams(specs: Iterable[object]) -> Iterator[tuple[int, int]]:
    """Which file streams (by object number: a stream is never direct) ``specs`` carry."""
    for spec in specs:
        embedded = spec.get("/EF") if isinstance(spec, pikepdf.Dictionary) else None
        if not isinstance(embedded, pikepdf.Dictionary):
            continue
        for stream in embedded.values():
            if isinstance(stream, pikepdf.Stream):
                yield stream.objgen


def _pdf_annotation_findings(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    annotations = list(_annotations(pdf))
    yield from _finding("annotation_authors", [], sum(1 for annot in annotations if "/T" in annot))
    dated = sum(1 for annot in annotations if "/M" in annot or "/CreationDate" in annot)
    yield from _finding("annotation_dates", [], dated)


def _pdf_picture_findings(pdf: pikepdf.Pdf) -> Iterator[Finding]:
    kinds: list[str] = []
    pictures = 0
    for obj in _dictionaries(pdf):
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == pikepdf.Name.Image:
            found = _jpeg_metadata_kinds(obj)
            pictures += bool(found)
            kinds.extend(found)
    yield from _finding("picture_metadata", kinds, pictures)


def _jpeg_metadata_kinds(image: pikepdf.Stream) -> list[str]:
    """The metadata a JPEG picture inside a PDF carries, read from its segments as stored."""
    if image.get("/Filter") not in (pikepdf.Name.DCTDecode, pikepdf.Array([pikepdf.Name.DCTDecode])):
        return []
    raw = image.read_raw_bytes()
    if scrub.jpeg_without_metadata(raw) == raw:
        return []
    found = [name for marker, sign, name in _PICTURE_SEGMENTS if _has_segment(raw, marker, sign)]
    return found or ["other"]


# The segments of a JPEG picture in a PDF that are reported by kind: marker, signature, kind.
_PICTURE_SEGMENTS = (
    (b"\xff\xe1", b"Exif\x00", "exif"),
    (b"\xff\xe1", b"http://ns.adobe.com/", "xmp"),
    (b"\xff\xed", b"Photoshop 3.0\x00", "iptc"),
    (b"\xff\xfe", b"", "comment"),
)


def _has_segment(raw: bytes, marker: bytes, sign: bytes) -> bool:
    position = raw.find(marker)
    while position >= 0:
        if raw[position + 4 : position + 4 + len(sign)] == sign:
            return True
        position = raw.find(marker, position + 2)
    return False
