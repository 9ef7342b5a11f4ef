"""Real files with real metadata, made by the same libraries cameras' files are read with, for
the tests of metadata removal (scrub, intake uploads, the console's sealed originals)."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import pikepdf
from PIL import Image, ImageDraw, PngImagePlugin

GPS_IFD = 0x8825
MAKE, MODEL, ORIENTATION, DATETIME_ORIGINAL_IFD = 0x010F, 0x0110, 0x0112, 0x8769
GPS_MAP_DATUM = 0x0012


@dataclass(frozen=True)
class Sample:
    data: bytes
    markers: tuple[bytes, ...]  # strings of the metadata that no clean copy may contain


def _picture(width: int = 64, height: int = 48, mode: str = "RGB") -> Image.Image:
    """Something photo-like: a gradient with shapes, so a re-encoding has real work to do."""
    image = Image.linear_gradient("L").resize((width, height)).convert(mode)
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 8, height // 8, width // 2, height // 2), fill="red" if mode == "RGB" else 80)
    draw.ellipse((width // 2, height // 3, width - 4, height - 4), fill="blue" if mode == "RGB" else 200)
    return image


def _exif(tag: str, *, orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = f"SP-TEST-MAKER-{tag}"
    exif[MODEL] = f"SP-TEST-CAMERA-{tag}"
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {
        1: "N",
        2: (55.0, 45.0, 21.0),
        3: "E",
        4: (37.0, 37.0, 4.0),
        GPS_MAP_DATUM: f"SP-TEST-GPS-{tag}",
    }
    return exif


def _xmp(tag: str) -> bytes:
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>SP-TEST-XMP-'
        + tag.encode()
        + b"</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def _markers(tag: str) -> tuple[bytes, ...]:
    return tuple(f"SP-TEST-{kind}-{tag}".encode() for kind in ("MAKER", "CAMERA", "GPS", "XMP", "COMMENT"))


def _iptc_segment(tag: str) -> bytes:
    """An APP13 segment as photo editors write it: IPTC-NAA (resource 0x0404) naming the author."""
    text = f"SP-TEST-IPTC-{tag}".encode()
    dataset = b"\x1c\x02\x50" + len(text).to_bytes(2, "big") + text  # 2:80 By-line
    dataset += b"\x00" * (len(dataset) % 2)
    resource = b"8BIM\x04\x04\x00\x00" + len(dataset).to_bytes(4, "big") + dataset
    body = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + (len(body) + 2).to_bytes(2, "big") + body


def photo_with_location(*, orientation: int = 1, width: int = 64, height: int = 48) -> Sample:
    """A JPEG as a phone writes it: EXIF with maker, model and GPS position, XMP and a comment;
    and the IPTC caption a photo editor adds."""
    tag = uuid.uuid4().hex[:12]
    out = io.BytesIO()
    _picture(width, height).save(
        out,
        "JPEG",
        quality=92,
        exif=_exif(tag, orientation=orientation),
        xmp=_xmp(tag),
        comment=f"SP-TEST-COMMENT-{tag}".encode(),
    )
    data = out.getvalue()
    with_iptc = data[:2] + _iptc_segment(tag) + data[2:]  # right after the start-of-image marker
    return Sample(with_iptc, (*_markers(tag), f"SP-TEST-IPTC-{tag}".encode()))


def png_with_location() -> Sample:
    tag = uuid.uuid4().hex[:12]
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", f"SP-TEST-COMMENT-{tag}")
    text.add_itxt("XML:com.adobe.xmp", _xmp(tag).decode())
    out = io.BytesIO()
    _picture().save(out, "PNG", pnginfo=text, exif=_exif(tag))
    return Sample(out.getvalue(), _markers(tag))


def webp_with_location(*, lossless: bool = False) -> Sample:
    tag = uuid.uuid4().hex[:12]
    out = io.BytesIO()
    _picture().save(out, "WEBP", exif=_exif(tag), xmp=_xmp(tag), lossless=lossless, quality=90)
    return Sample(out.getvalue(), _markers(tag)[:4])


def gif_with_comment(*, frames: int = 1) -> Sample:
    tag = uuid.uuid4().hex[:12]
    pictures = [_picture().rotate(10 * n).convert("P") for n in range(frames)]
    out = io.BytesIO()
    pictures[0].save(
        out,
        "GIF",
        save_all=frames > 1,
        append_images=pictures[1:],
        duration=[100 + 10 * n for n in range(frames)],
        loop=0,
        comment=f"SP-TEST-COMMENT-{tag}".encode(),
    )
    return Sample(out.getvalue(), (f"SP-TEST-COMMENT-{tag}".encode(),))


def pdf_with_author(text: str = "Page text") -> Sample:
    """A one-page PDF naming its author, producer and creator in both places a PDF can: the
    document information dictionary and XMP, and with XMP on the page too."""
    tag = uuid.uuid4().hex[:12]
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    page = pdf.pages[0]
    font = pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont="/Helvetica")
    )
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [f"SP-TEST-XMP-{tag}"]
        meta["xmp:CreatorTool"] = f"SP-TEST-CAMERA-{tag}"
    # After the XMP, which pikepdf mirrors into the information dictionary when it is written.
    pdf.docinfo["/Author"] = f"SP-TEST-MAKER-{tag}"
    pdf.docinfo["/Producer"] = f"SP-TEST-CAMERA-{tag}"
    pdf.docinfo["/Title"] = f"SP-TEST-COMMENT-{tag}"
    page.Metadata = pdf.make_stream(_xmp(tag), Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return Sample(out.getvalue(), (*_markers(tag)[:2], *_markers(tag)[3:]))


def exif_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        found: dict[int, object] = dict(exif)
        if exif.get_ifd(GPS_IFD):
            found[GPS_IFD] = dict(exif.get_ifd(GPS_IFD))
        return found


def pixels(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.copy()
