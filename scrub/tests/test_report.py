"""The record kept beside a stripped copy: what the file carried, by name and count, and proof
that the copy carries none of it; never the values themselves."""

from __future__ import annotations

import io
import re
import uuid

import pikepdf
import pytest

import scrub
from scrub import report
from scrub.tests import phone_photos
from scrub.tests.test_scrub import _pdf_with_photo_attachment_and_note
from tests import samples

PHOTO_KINDS = {"gps", "camera", "dates", "software", "authorship", "exif_thumbnail", "xmp", "iptc", "icc_profile"}


def test_a_phone_photo_is_described_by_what_it_carries() -> None:
    photo = phone_photos.phone_photo(orientation=6)
    described = report.describe_metadata(photo.data, "image/jpeg")
    assert PHOTO_KINDS | {"comment"} <= described.kinds()
    gps = described.get("gps")
    assert gps is not None and {"GPSLatitude", "GPSLongitude", "GPSMapDatum"} <= set(gps.names)
    assert set(described.get("camera").names) == {"Make", "Model"}  # type: ignore[union-attr]
    assert set(described.get("dates").names) == {"DateTime", "DateTimeOriginal"}  # type: ignore[union-attr]
    assert described.get("software").names == ("Software",)  # type: ignore[union-attr]
    assert described.get("authorship").names == ("Artist",)  # type: ignore[union-attr]
    assert described.technical == {"format": "JPEG", "width": 96, "height": 64, "frames": 1, "orientation": 6}


@pytest.mark.parametrize(("image_format", "content_type"), [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_photos_are_described_too(image_format: str, content_type: str) -> None:
    photo = phone_photos.phone_photo(image_format=image_format)
    assert PHOTO_KINDS - {"iptc"} <= report.describe_metadata(photo.data, content_type).kinds()


def test_the_record_holds_names_never_the_values_that_identify() -> None:
    """Attacker: whoever reads the record (it is sealed, but it must not become a second copy
    of what the stripping removed)."""
    photo = phone_photos.phone_photo()
    assert all(marker in photo.data for marker in photo.markers)  # positive control
    _, stripped = report.strip_with_report(photo.data, "image/jpeg")
    records = (stripped.before.to_json() + stripped.after.to_json()).encode()
    assert [marker for marker in photo.markers if marker in records] == []
    assert b"55" not in records and b"37" not in records  # the GPS degrees
    assert b"TEST" not in records


def test_stripping_reports_what_went_and_shows_it_is_gone_from_the_copy() -> None:
    photo = phone_photos.phone_photo()
    clean, stripped = report.strip_with_report(photo.data, "image/jpeg")
    assert PHOTO_KINDS - {"icc_profile"} <= set(stripped.removed)
    assert stripped.kept == ("icc_profile",)  # scrub.clean keeps the colour profile on purpose
    assert report.describe_metadata(clean, "image/jpeg") == stripped.after
    assert [marker for marker in photo.markers if marker in clean] == []


@pytest.mark.parametrize(
    ("sample", "content_type"),
    [
        (samples.png_with_location, "image/png"),
        (samples.webp_with_location, "image/webp"),
        (lambda: samples.gif_with_comment(frames=3), "image/gif"),
        (samples.pdf_with_author, "application/pdf"),
    ],
)
def test_every_kind_of_file_is_left_with_nothing_to_report(sample: object, content_type: str) -> None:
    data = sample().data  # type: ignore[operator]
    _, stripped = report.strip_with_report(data, content_type)
    assert stripped.before.findings  # positive control
    assert stripped.after.findings == ()


def test_a_pdf_is_described_by_its_information_xmp_attachments_notes_and_pictures() -> None:
    photo = samples.photo_with_location(width=64, height=48)
    author = "SP-TEST-AUTHOR-" + uuid.uuid4().hex
    with pikepdf.open(io.BytesIO(_pdf_with_photo_attachment_and_note(photo.data, b"attached", author))) as pdf:
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:creator"] = [author]
        # After the XMP, which pikepdf mirrors into the information dictionary when it is written.
        pdf.docinfo["/Author"] = author
        pdf.docinfo["/CreationDate"] = "D:20261207120000Z"
        out = io.BytesIO()
        pdf.save(out)
    described = report.describe_metadata(out.getvalue(), "application/pdf")
    assert set(described.get("document_info").names) >= {"Author", "CreationDate"}  # type: ignore[union-attr]
    assert described.get("xmp") == report.Finding("xmp", 1, ("document",))
    assert described.get("embedded_files") == report.Finding("embedded_files", 2, ("associated", "document", "pages"))
    assert described.get("annotation_authors") == report.Finding("annotation_authors", 1)
    assert described.get("annotation_dates") == report.Finding("annotation_dates", 1)
    pictures = described.get("picture_metadata")
    assert pictures == report.Finding("picture_metadata", 1, ("comment", "exif", "iptc", "xmp"))
    assert described.technical["pages"] == 1
    assert author not in described.to_json() and "where-we-are" not in described.to_json()
    _, stripped = report.strip_with_report(out.getvalue(), "application/pdf")
    assert stripped.after.findings == ()


def test_a_pdf_information_key_its_maker_chose_is_counted_not_named() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Producer"] = "SP-TEST-PRODUCER"
    pdf.docinfo[pikepdf.Name("/SafeHouseOnLeninStreet")] = "yes"
    out = io.BytesIO()
    pdf.save(out)
    described = report.describe_metadata(out.getvalue(), "application/pdf")
    assert described.get("document_info") == report.Finding("document_info", 2, ("Producer",))
    assert "Lenin" not in described.to_json()


def _with_an_earlier_revision(text: bytes) -> bytes:
    """A PDF whose page said ``text`` before an update appended to the file replaced it (as
    editors save): the earlier text is still in the file."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.pages[0].Contents = pdf.make_stream(b"BT (" + text + b") Tj ET")
    out = io.BytesIO()
    pdf.save(out, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    original = out.getvalue()
    with pikepdf.open(io.BytesIO(original)) as opened:
        contents = opened.pages[0].Contents.objgen[0]
        size = int(opened.trailer.Size)
        root = opened.Root.objgen[0]
    previous = int(re.findall(rb"startxref\s+(\d+)", original)[-1])
    replacement = b"BT (Nothing to see) Tj ET"
    body = b"%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (contents, len(replacement), replacement)
    at = len(original)
    xref = b"xref\n%d 1\n%010d 00000 n \n" % (contents, at)
    trailer = b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\n" % (size, root, previous)
    return original + body + xref + trailer + b"startxref\n%d\n%%%%EOF\n" % (at + len(body))


def test_an_earlier_revision_of_a_pdf_is_reported_and_gone_from_the_copy() -> None:
    data = _with_an_earlier_revision(b"SP-TEST-EARLIER-TEXT")
    with pikepdf.open(io.BytesIO(data)) as pdf:  # positive control: the update is read
        assert b"Nothing to see" in pdf.pages[0].Contents.read_bytes()
    assert b"SP-TEST-EARLIER-TEXT" in data
    clean, stripped = report.strip_with_report(data, "application/pdf")
    assert stripped.before.get("earlier_revisions") == report.Finding("earlier_revisions", 1)
    assert b"SP-TEST-EARLIER-TEXT" not in clean
    assert stripped.after.findings == ()


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/jpeg", b"\xff\xd8\xff" + b"\x11" * 64),
        ("application/pdf", b"%PDF-1.4\n" + b"0" * 64),
        ("image/heic", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64),
    ],
)
def test_a_file_that_cannot_be_read_is_not_described(content_type: str, data: bytes) -> None:
    with pytest.raises(scrub.CannotClean):
        report.describe_metadata(data, content_type)


def test_the_record_reads_back_as_it_was_written() -> None:
    described = report.describe_metadata(phone_photos.phone_photo().data, "image/jpeg")
    assert report.MetadataReport.from_json(described.to_json()) == described
