"""Metadata removal: what a photo or PDF says about where, when and with what it was made is
gone from the copy, and what it shows is kept."""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
import zlib
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat, IptcImagePlugin

import scrub
from tests import samples


def _assert_no_markers(data: bytes, sample: samples.Sample) -> None:
    found = [marker for marker in sample.markers if marker in data]
    assert not found, f"metadata left in the clean copy: {found}"


def _mean_difference(first: Image.Image, second: Image.Image) -> float:
    assert first.size == second.size
    difference = ImageChops.difference(first.convert("RGB"), second.convert("RGB"))
    return max(ImageStat.Stat(difference).mean)


def test_the_samples_carry_what_a_phone_writes() -> None:
    """Positive control: without it the tests below could pass on files that had nothing."""
    photo = samples.photo_with_location()
    assert all(marker in photo.data for marker in photo.markers)
    assert samples.exif_of(photo.data)[samples.GPS_IFD]
    with Image.open(io.BytesIO(photo.data)) as image:
        assert IptcImagePlugin.getiptcinfo(image)
    for sample in (samples.png_with_location(), samples.webp_with_location(), samples.pdf_with_author()):
        assert all(marker in sample.data for marker in sample.markers)


def test_a_jpeg_loses_exif_gps_xmp_iptc_and_comment_and_keeps_its_pixels() -> None:
    photo = samples.photo_with_location(width=640, height=480)
    clean = scrub.clean(photo.data, "image/jpeg")
    _assert_no_markers(clean, photo)
    assert samples.exif_of(clean) == {}
    assert b"Exif\x00\x00" not in clean
    with Image.open(io.BytesIO(clean)) as image:
        assert image.format == "JPEG"
        assert "xmp" not in image.info and "comment" not in image.info and "photoshop" not in image.info
        assert IptcImagePlugin.getiptcinfo(image) is None
    assert _mean_difference(samples.pixels(photo.data), samples.pixels(clean)) < 1.5


def test_a_jpeg_keeps_its_quality_tables() -> None:
    photo = samples.photo_with_location(width=640, height=480)
    clean = scrub.clean(photo.data, "image/jpeg")
    with Image.open(io.BytesIO(photo.data)) as before, Image.open(io.BytesIO(clean)) as after:
        assert after.quantization == before.quantization  # type: ignore[attr-defined]


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_turned_photo_stays_upright_once_its_exif_is_gone(orientation: int) -> None:
    photo = samples.photo_with_location(orientation=orientation, width=320, height=160)
    clean = scrub.clean(photo.data, "image/jpeg")
    with Image.open(io.BytesIO(photo.data)) as original:
        shown = ImageOps.exif_transpose(original)  # what a viewer that reads EXIF displays
    after = samples.pixels(clean)
    assert after.size == shown.size
    assert _mean_difference(shown, after) < 1.5


def test_a_png_loses_its_text_and_exif_and_keeps_every_pixel() -> None:
    picture = samples.png_with_location()
    clean = scrub.clean(picture.data, "image/png")
    _assert_no_markers(clean, picture)
    assert samples.exif_of(clean) == {}
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
        assert chunk not in clean
    assert ImageChops.difference(samples.pixels(picture.data), samples.pixels(clean)).getbbox() is None


def test_a_palette_png_keeps_its_transparency() -> None:
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0])
    image.putpixel((0, 0), 2)
    out = io.BytesIO()
    image.save(out, "PNG", transparency=1)
    clean = scrub.clean(out.getvalue(), "image/png")
    with Image.open(io.BytesIO(clean)) as after:
        assert after.info.get("transparency") == 1
        assert after.getpixel((1, 1)) == 1 and after.getpixel((0, 0)) == 2


@pytest.mark.parametrize("lossless", [False, True])
def test_a_webp_loses_exif_and_xmp(lossless: bool) -> None:
    picture = samples.webp_with_location(lossless=lossless)
    clean = scrub.clean(picture.data, "image/webp")
    _assert_no_markers(clean, picture)
    assert b"EXIF" not in clean and b"XMP " not in clean
    assert (b"VP8L" in clean) is lossless
    limit = 0 if lossless else 6  # a small picture with sharp edges, encoded twice
    assert _mean_difference(samples.pixels(picture.data), samples.pixels(clean)) <= limit


def test_an_animated_gif_loses_its_comment_and_keeps_its_frames() -> None:
    animation = samples.gif_with_comment(frames=3)
    clean = scrub.clean(animation.data, "image/gif")
    _assert_no_markers(clean, animation)
    with Image.open(io.BytesIO(clean)) as after:
        assert after.n_frames == 3
        after.seek(2)
        assert after.info["duration"] == 120


def test_a_pdf_loses_author_producer_and_xmp_and_keeps_its_page() -> None:
    document = samples.pdf_with_author(text="Keep this text")
    clean = scrub.clean(document.data, "application/pdf")
    _assert_no_markers(clean, document)
    with pikepdf.open(io.BytesIO(clean)) as pdf:
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root
        assert len(pdf.pages) == 1
        assert "/Metadata" not in pdf.pages[0]
        assert b"(Keep this text) Tj" in pdf.pages[0].Contents.read_bytes()
    assert b"pikepdf" not in clean.lower() and b"qpdf" not in clean.lower()


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),  # the right first bytes, then nothing
        ("image/jpeg", b"\xff\xd8\xff" + b"\x11" * 64),
        ("image/jpeg", samples.photo_with_location().data[:300]),  # cut off inside the file
        ("image/gif", b"GIF89a" + b"\x00" * 10),
        ("application/pdf", b"%PDF-1.4\n" + b"0" * 64),
        ("image/heic", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64),  # no decoder installed
    ],
)
def test_a_file_that_cannot_be_read_as_its_kind_is_not_passed_off_as_clean(content_type: str, data: bytes) -> None:
    with pytest.raises(scrub.CannotClean):
        scrub.clean(data, content_type)


def test_a_png_claiming_more_pixels_than_allowed_is_not_decoded() -> None:
    image = Image.new("1", (9000, 8000))  # 72 million pixels in a few kilobytes
    out = io.BytesIO()
    image.save(out, "PNG")
    assert len(out.getvalue()) < 100_000
    with pytest.raises(scrub.CannotClean):
        scrub.clean(out.getvalue(), "image/png")


def test_a_pdf_that_needs_a_password_cannot_be_cleaned() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    with pytest.raises(scrub.CannotClean):
        scrub.clean(out.getvalue(), "application/pdf")


def _pdf_with_object_stream_bomb(inflated: int) -> bytes:
    """A PDF of a few hundred kilobytes whose one object stream inflates to ``inflated`` bytes
    (a string of zeros), written by hand: the cross-reference stream points into it."""
    squeeze = zlib.compressobj(9)
    header = b"5 0 "
    parts = [squeeze.compress(header + b"(")]
    chunk = b"0" * (1024 * 1024)
    for _ in range(inflated // len(chunk)):
        parts.append(squeeze.compress(chunk))
    parts.append(squeeze.compress(b")") + squeeze.flush())
    packed = b"".join(parts)
    out = bytearray(b"%PDF-1.5\n")
    offsets = {}

    def add(number: int, body: bytes) -> None:
        offsets[number] = len(out)
        out.extend(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    add(1, b"<< /Type /Catalog /Pages 2 0 R /Big 5 0 R >>")
    add(2, b"<< /Type /Pages /Kids [] /Count 0 >>")
    stream = b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (
        len(header),
        len(packed),
    )
    add(3, stream + packed + b"\nendstream")
    offsets[4] = len(out)
    rows = b"\x00\x00\x00\x00\x00\xff\xff"
    rows += b"".join(b"\x01" + offsets[n].to_bytes(4, "big") + b"\x00\x00" for n in (1, 2, 3, 4))
    rows += b"\x02" + (3).to_bytes(4, "big") + b"\x00\x00"
    xref = b"<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n" % len(rows)
    out.extend(b"4 0 obj\n" + xref + rows + b"\nendstream\nendobj\n")
    out.extend(b"startxref\n%d\n%%%%EOF\n" % offsets[4])
    return bytes(out)


def test_a_small_pdf_that_inflates_to_hundreds_of_megabytes_is_refused_within_bounds() -> None:
    """Attacker: anonymous, uploading with the request form (files are cleaned before the form
    is checked). A 400 KB PDF whose object stream inflates to 400 MB is refused, and the process
    that handles the request does not grow: the decoding happens in a bounded child."""
    bomb = _pdf_with_object_stream_bomb(400 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024
    probe = (
        "import resource, sys, time\n"
        "import scrub\n"
        "data = sys.stdin.buffer.read()\n"
        "start = time.monotonic()\n"
        "try:\n"
        "    scrub.clean(data, 'application/pdf')\n"
        "    print('cleaned')\n"
        "except scrub.CannotClean:\n"
        "    print('refused')\n"
        "own = resource.getrusage(resource.RUSAGE_SELF)\n"
        # ru_maxrss survives exec (it would be pytest's): this process's own peak is VmHWM.
        "peak = [line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM')][0]\n"
        "child = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(peak, own.ru_utime + own.ru_stime, child.ru_maxrss, child.ru_utime + child.ru_stime)\n"
    )
    project = Path(scrub.__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", probe], input=bomb, capture_output=True, cwd=project, check=True, timeout=120
    )
    outcome, figures = done.stdout.decode().split("\n")[:2]
    own_rss_kb, _own_cpu, child_rss_kb, child_cpu = (float(figure) for figure in figures.split())
    assert outcome == "refused"
    assert own_rss_kb < 200 * 1024, "the request's own process decoded the bomb"
    assert child_rss_kb * 1024 <= scrub.CHILD_MEMORY
    assert child_cpu <= scrub.CHILD_CPU_SECONDS + 1


def test_a_legitimate_pdf_with_an_object_stream_is_still_cleaned() -> None:
    """Control for the bound above: the same construction, small, is cleaned."""
    small = _pdf_with_object_stream_bomb(1024 * 1024)
    with pikepdf.open(io.BytesIO(scrub.clean(small, "application/pdf"))) as pdf:
        assert len(bytes(pdf.Root.Big)) == 1024 * 1024


def _pdf_with_photo_attachment_and_note(photo: bytes, attached: bytes, author: str) -> bytes:
    """A PDF showing a phone photo (its JPEG bytes as they are, EXIF and GPS included), with a
    file attached to the document, a file attached to the page and a note signed by its author."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    page = pdf.pages[0]
    with Image.open(io.BytesIO(photo)) as image:
        width, height = image.size
    picture = pdf.make_stream(
        photo,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=width,
        Height=height,
        ColorSpace=pikepdf.Name.DeviceRGB,
        BitsPerComponent=8,
        Filter=pikepdf.Name.DCTDecode,
    )
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=picture))
    page.Contents = pdf.make_stream(b"q 64 0 0 48 10 10 cm /Im0 Do Q")
    pdf.attachments["where-we-are.txt"] = pikepdf.AttachedFileSpec(pdf, attached)
    page_file = pikepdf.AttachedFileSpec(pdf, attached, filename="on-the-page.txt")
    note = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Text,
        Rect=[10, 10, 30, 30],
        Contents=pikepdf.String("look here"),
        T=pikepdf.String(author),
        M=pikepdf.String("D:20261207120000Z"),
        CreationDate=pikepdf.String("D:20261207120000Z"),
    )
    clip = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment, Rect=[40, 40, 60, 60], FS=page_file.obj
    )
    page.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(note), pdf.make_indirect(clip)]))
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


def _pdf_everything(data: bytes) -> bytes:
    """Every object of a PDF, with its streams' bytes (decoded where they can be)."""
    parts = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            parts.append(obj.unparse(resolved=True) if isinstance(obj, pikepdf.Object) else repr(obj).encode())
            if isinstance(obj, pikepdf.Stream):
                parts.append(obj.read_raw_bytes())
                try:
                    parts.append(obj.read_bytes())
                except pikepdf.PdfError:
                    pass
    return b"\n".join(parts)


def test_a_pdf_loses_its_photos_exif_its_attached_files_and_its_notes_authors() -> None:
    """Attacker: whoever reads the file where it ends up (staff, or a captor of the person's
    phone): a PDF said to be without location data must not carry a photo's GPS position, a file
    attached inside it, or who wrote a note in it and when."""
    photo = samples.photo_with_location(width=64, height=48)
    attached = b"SP-TEST-ATTACHED-" + uuid.uuid4().hex.encode()
    author = "SP-TEST-AUTHOR-" + uuid.uuid4().hex
    data = _pdf_with_photo_attachment_and_note(photo.data, attached, author)
    before = _pdf_everything(data)  # positive control
    assert all(marker in before for marker in photo.markers)
    assert attached in before and author.encode() in before and b"D:20261207120000Z" in before

    clean = scrub.clean(data, "application/pdf")

    after = _pdf_everything(clean)
    found = [marker for marker in (*photo.markers, attached, author.encode(), b"D:20261207120000Z") if marker in after]
    assert not found, f"left in the clean PDF: {found}"
    with pikepdf.open(io.BytesIO(clean)) as pdf:
        page = pdf.pages[0]
        assert not pdf.attachments
        assert [str(annot.Subtype) for annot in page.Annots] == ["/Text"]
        assert str(page.Annots[0].Contents) == "look here"
        picture = page.Resources.XObject.Im0.read_raw_bytes()
    with Image.open(io.BytesIO(picture)) as image, Image.open(io.BytesIO(photo.data)) as original:
        assert image.size == original.size
        assert not samples.exif_of(picture)
        assert image.tobytes() == original.tobytes()  # the same pixels: not encoded again


def test_a_jpeg_inside_a_pdf_loses_only_its_metadata_segments() -> None:
    photo = samples.photo_with_location(width=64, height=48)
    stripped = scrub.jpeg_without_metadata(photo.data + b"SP-TEST-AFTER-THE-END")
    _assert_no_markers(stripped, photo)
    assert b"SP-TEST-AFTER-THE-END" not in stripped
    assert stripped.endswith(b"\xff\xd9")
    with Image.open(io.BytesIO(stripped)) as image, Image.open(io.BytesIO(photo.data)) as original:
        assert image.tobytes() == original.tobytes()
