"""Face proposals: a real face is proposed with its hair and chin, in the coordinates of the
photo as staff see it, at any size; a picture without a face gets none."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from scrub import faces, redact
from scrub.redact import Rectangle
from scrub.tests import phone_photos

# A public-domain NASA photograph (see fixtures/README.md), 256x256.
ASTRONAUT = (Path(__file__).parent / "fixtures" / "astronaut.jpg").read_bytes()
# Her head, hair to chin and ear to ear, marked by hand on the fixture.
HEAD = Rectangle(78, 10, 70, 76)


def _covers(outer: Rectangle, inner: Rectangle) -> bool:
    return (
        outer.left <= inner.left
        and outer.top <= inner.top
        and outer.right >= inner.right
        and outer.bottom >= inner.bottom
    )


def _astronaut() -> Image.Image:
    with Image.open(io.BytesIO(ASTRONAUT)) as image:
        return image.convert("RGB")


def _jpeg(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def test_a_face_is_proposed_with_its_hair_and_chin() -> None:
    proposals = faces.propose_faces(ASTRONAUT, "image/jpeg")
    assert len(proposals) == 1
    assert _covers(proposals[0], HEAD)
    # Not the whole photo either: the proposal stays around the head.
    assert proposals[0].width * proposals[0].height < 4 * HEAD.width * HEAD.height


def test_a_face_in_a_large_photo_is_found_at_reduced_size_and_mapped_back() -> None:
    """A 4000x3000 photo (12 million pixels, as a phone takes) is searched reduced: the face
    comes back in the full photo's pixels."""
    canvas = phone_photos.scene(400, 300).filter(ImageFilter.GaussianBlur(1)).resize((4000, 3000))
    canvas.paste(_astronaut().resize((1536, 1536), Image.Resampling.BICUBIC), (2000, 1000))
    proposals = faces.propose_faces(_jpeg(canvas), "image/jpeg")
    head = Rectangle(2000 + HEAD.left * 6, 1000 + HEAD.top * 6, HEAD.width * 6, HEAD.height * 6)
    assert any(_covers(proposal, head) for proposal in proposals)
    assert all(proposal.right <= 4000 and proposal.bottom <= 3000 for proposal in proposals)


def test_a_face_on_a_turned_photo_is_proposed_where_staff_see_it() -> None:
    """Stored sideways with EXIF orientation 6, as a phone held upright writes it: the cascades
    only find upright faces, and the rectangle must be in the upright photo's pixels."""
    stored = phone_photos.phone_photo(orientation=6, picture=_astronaut().transpose(Image.Transpose.ROTATE_90))
    proposals = faces.propose_faces(stored.data, "image/jpeg")
    assert len(proposals) == 1 and _covers(proposals[0], HEAD)


def test_a_photo_without_a_face_gets_no_proposal() -> None:
    blank = Image.new("RGB", (640, 480), (128, 128, 128))
    landscape = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    draw = ImageDraw.Draw(landscape)
    draw.polygon([(0, 300), (160, 200), (330, 280), (480, 180), (640, 260), (640, 480), (0, 480)], fill=(40, 90, 30))
    draw.ellipse((500, 40, 560, 100), fill=(250, 220, 120))
    rng = np.random.default_rng(3)
    grass = rng.integers(-20, 20, size=(180, 640, 3))
    pixels = np.asarray(landscape, dtype=np.int16)
    pixels[300:] += grass
    landscape = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    assert faces.propose_faces(_jpeg(blank), "image/jpeg") == []
    assert faces.propose_faces(_jpeg(landscape), "image/jpeg") == []


def test_once_the_proposals_are_painted_no_face_is_left_to_propose() -> None:
    redacted = redact.redact_image(ASTRONAUT, "image/jpeg", faces.propose_faces(ASTRONAUT, "image/jpeg"))
    assert faces.propose_faces(redacted, "image/jpeg") == []
