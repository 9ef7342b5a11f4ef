"""Rectangles that probably hold a face, proposed to staff before they redact a photo. Plain
Python: no Django import.

``propose_faces`` runs OpenCV's Haar cascades (the frontal ones "default" and "alt2", and the
profile one on the photo and its mirror image, since it finds faces turned one way only); the
cascades are files shipped inside the OpenCV package, nothing is fetched from anywhere. Each
face found is widened (hair above, ears at the sides, chin below) and overlapping ones are
merged, in the coordinates of the upright photo that scrub.redact takes.

These are suggestions, not a redaction. Haar cascades miss faces that are small, turned more
than about a quarter, tilted, partly hidden, in poor light or blurred, and they sometimes take a
pattern for a face. Staff must look at every photo and mark what the proposals missed: a face
that stays visible can cost a person their safety, a needless black box costs nothing.

The work is bounded: the photo is decoded reduced (a JPEG at 1/2 to 1/8 of its size) and
searched at DETECTION_SIDE pixels on its long side, so a face narrower than about
MIN_FACE / DETECTION_SIDE of the photo's long side is not found.
"""

from __future__ import annotations

import functools
from pathlib import Path

import cv2
import cv2.data
import numpy as np
from PIL import Image

from scrub.redact import Rectangle, fit_within, load_upright

DETECTION_SIDE = 1024
MIN_FACE = 20  # pixels, at DETECTION_SIDE
# The cascades whose findings are merged, and whether to also search the mirror image.
CASCADES = (
    ("haarcascade_frontalface_default.xml", False),
    ("haarcascade_frontalface_alt2.xml", False),
    ("haarcascade_profileface.xml", True),
)
# How far a proposal reaches beyond the box a cascade finds (eyebrows to mouth, roughly), as a
# share of that box's size: hair above, ears at the sides, chin and jaw below.
MARGIN_SIDES, MARGIN_ABOVE, MARGIN_BELOW = 0.3, 0.5, 0.25
# Neighbouring detections a face needs: fewer finds more faces and more patterns taken for one.
MIN_NEIGHBOURS = 4

Box = tuple[float, float, float, float]  # left, top, right, bottom


def propose_faces(data: bytes, content_type: str) -> list[Rectangle]:
    """Rectangles of the upright image that probably hold a face, top to bottom: suggestions
    for staff to check, never a complete list (see the module's docstring)."""
    upright = load_upright(data, content_type, fit=DETECTION_SIDE)
    scale, size = fit_within(upright.full_size, DETECTION_SIDE)
    grey = np.asarray(upright.image.convert("L").resize(size, Image.Resampling.BILINEAR))
    found = _detect(cv2.equalizeHist(grey))
    boxes = _merge_overlapping([_widened(box) for box in found])
    rectangles = [_in_image(box, scale, upright.full_size) for box in boxes]
    return sorted(rectangles, key=lambda rectangle: (rectangle.top, rectangle.left))


def _detect(grey: np.ndarray) -> list[Box]:
    width = grey.shape[1]
    found: list[Box] = []
    for name, mirrored in CASCADES:
        found += _run(_cascade(name), grey)
        if mirrored:
            found += [
                (width - right, top, width - left, bottom)
                for left, top, right, bottom in _run(_cascade(name), cv2.flip(grey, 1))
            ]
    return found


def _run(cascade: cv2.CascadeClassifier, grey: np.ndarray) -> list[Box]:
    hits = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=MIN_NEIGHBOURS, minSize=(MIN_FACE, MIN_FACE))
    return [(float(x), float(y), float(x + w), float(y + h)) for x, y, w, h in hits]


@functools.cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    path = Path(cv2.data.haarcascades) / name
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(f"OpenCV's face cascade {name} is missing from {path.parent}")
    return cascade


def _widened(box: Box) -> Box:
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    return (
        left - MARGIN_SIDES * width,
        top - MARGIN_ABOVE * height,
        right + MARGIN_SIDES * width,
        bottom + MARGIN_BELOW * height,
    )


def _merge_overlapping(boxes: list[Box]) -> list[Box]:
    """Overlapping boxes replaced by the box around them, until none overlap: the cascades
    find the same face several times, and two faces side by side are covered together."""
    merged: list[Box] = []
    for box in boxes:
        while (hit := next((kept for kept in merged if _overlap(kept, box)), None)) is not None:
            merged.remove(hit)
            box = _around(hit, box)
        merged.append(box)
    return merged


def _overlap(first: Box, second: Box) -> bool:
    return first[0] < second[2] and second[0] < first[2] and first[1] < second[3] and second[1] < first[3]


def _around(first: Box, second: Box) -> Box:
    return (min(first[0], second[0]), min(first[1], second[1]), max(first[2], second[2]), max(first[3], second[3]))


def _in_image(box: Box, scale: float, size: tuple[int, int]) -> Rectangle:
    """``box`` (at detection size) in the image's pixels, rounded outwards and cut at its edges."""
    left, top, right, bottom = box
    return Rectangle.from_preview(left, top, right - left, bottom - top, scale=scale, size=size)
