"""Photos as phones and editors write them, with everything scrub.report names: EXIF with the
GPS position, camera, dates, software and author, an EXIF thumbnail, XMP, IPTC, a colour
profile and a comment. Built on tests/samples (same markers), with the parts it lacks."""

from __future__ import annotations

import io
import struct
import uuid

import numpy as np
from PIL import Image, ImageCms, PngImagePlugin

from tests import samples

SOFTWARE, ARTIST, DATETIME = 0x0131, 0x013B, 0x0132
DATETIME_ORIGINAL = 0x9003
TAKEN_AT = "2026:12:07 10:11:12"


def scene(width: int, height: int, seed: int = 7) -> Image.Image:
    """Noise over a gradient: every pixel differs from its neighbours, so a painted rectangle
    cannot pass for the original by chance."""
    rng = np.random.default_rng(seed)
    gradient = np.linspace(0, 160, width, dtype=np.float64)[None, :, None]
    noise = rng.integers(0, 96, size=(height, width, 3))
    return Image.fromarray((gradient + noise).clip(0, 255).astype(np.uint8), "RGB")


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def full_exif(tag: str, *, orientation: int = 1) -> Image.Exif:
    exif = samples._exif(tag, orientation=orientation)
    exif[SOFTWARE] = f"SP-TEST-SOFTWARE-{tag}"
    exif[ARTIST] = f"SP-TEST-ARTIST-{tag}"
    exif[DATETIME] = TAKEN_AT
    exif[samples.DATETIME_ORIGINAL_IFD] = {DATETIME_ORIGINAL: TAKEN_AT}
    return exif


def exif_with_thumbnail(exif: Image.Exif, thumbnail: bytes) -> bytes:
    """``exif`` as a camera writes it, with a second directory (IFD1) pointing at a JPEG
    thumbnail stored after it: Pillow writes only the first directory."""
    tiff = bytearray(exif.tobytes()[6:])  # without "Exif\0\0": offsets count from here
    order = "<" if tiff[:2] == b"II" else ">"
    first = struct.unpack(order + "I", tiff[4:8])[0]
    entries = struct.unpack(order + "H", tiff[first : first + 2])[0]
    next_pointer = first + 2 + 12 * entries
    assert tiff[next_pointer : next_pointer + 4] == b"\0\0\0\0"
    tiff += b"\0" * (len(tiff) & 1)
    ifd1 = len(tiff)
    picture_at = ifd1 + 2 + 2 * 12 + 4
    tiff[next_pointer : next_pointer + 4] = struct.pack(order + "I", ifd1)
    tiff += struct.pack(order + "H", 2)
    tiff += struct.pack(order + "HHII", 0x0201, 4, 1, picture_at)  # JPEGInterchangeFormat
    tiff += struct.pack(order + "HHII", 0x0202, 4, 1, len(thumbnail))  # ...Length
    tiff += struct.pack(order + "I", 0)
    return b"Exif\x00\x00" + bytes(tiff) + thumbnail


def phone_photo(
    *, orientation: int = 1, picture: Image.Image | None = None, image_format: str = "JPEG"
) -> samples.Sample:
    """A photo carrying everything a phone and a photo editor add (see the module's docstring);
    its markers include the software, the author and the time it was taken."""
    tag = uuid.uuid4().hex[:12]
    picture = picture if picture is not None else scene(96, 64)
    small = io.BytesIO()
    picture.resize((24, 16)).save(small, "JPEG", quality=80)
    out = io.BytesIO()
    options: dict[str, object] = {"icc_profile": srgb_profile(), "xmp": samples._xmp(tag)}
    options["exif"] = exif_with_thumbnail(full_exif(tag, orientation=orientation), small.getvalue())
    if image_format == "PNG":  # Pillow writes a PNG's XMP only as a text chunk
        text = PngImagePlugin.PngInfo()
        text.add_itxt("XML:com.adobe.xmp", samples._xmp(tag).decode())
        options["pnginfo"] = text
    if image_format == "JPEG":
        options.update(quality=92, comment=f"SP-TEST-COMMENT-{tag}".encode())
    picture.save(out, image_format, **options)
    data = out.getvalue()
    markers = [*samples._markers(tag), f"SP-TEST-SOFTWARE-{tag}".encode(), f"SP-TEST-ARTIST-{tag}".encode()]
    if image_format == "JPEG":
        data = data[:2] + samples._iptc_segment(tag) + data[2:]
        markers.append(f"SP-TEST-IPTC-{tag}".encode())
    else:
        markers.remove(f"SP-TEST-COMMENT-{tag}".encode())
    return samples.Sample(data, (*markers, TAKEN_AT.encode()))
