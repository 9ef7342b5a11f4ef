"""Photos in the locker: the hash of the file as it arrived, the original left where it is
(sealed to coordinators), faces proposed, rectangles painted, and only a clean copy exported."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from accounts.keyring import staff_private_key_unlock
from casework import keys
from casework.models import Attachment
from casework.sealed import Refused
from evidence import exports, files, selectors, services
from evidence.models import EvidenceItem
from evidence.tests.test_locker import TERMS
from redaction.package import verify_package
from scrub.report import describe_metadata
from tests.personas import PASSWORD, PersonAtRisk, Staff
from tests.samples import photo_with_location

FACE = Path(__file__).resolve().parents[2] / "scrub" / "tests" / "fixtures" / "astronaut.jpg"


def key(staff: Staff) -> bytes:
    return staff_private_key_unlock(staff.member, PASSWORD)


def send_photo(person: PersonAtRisk, data: bytes) -> Attachment:
    upload = SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")
    response = person.intake().post("/conversation/", {"message": "The photo", "attachments": upload})
    assert response.status_code == 302
    return Attachment.objects.filter(message__case=person.case).latest("message__created_at")


def keep(staff: Staff, person: PersonAtRisk, attachment: Attachment) -> EvidenceItem:
    consent = services.consent_record(case=person.case, actor=staff.member, actor_private_key=key(staff), terms=TERMS)
    item = services.item_promote_attachment(
        case=person.case, actor=staff.member, actor_private_key=key(staff), attachment=attachment, consent=consent,
        title="Photo of the base",
    )  # fmt: skip
    return EvidenceItem.objects.select_related("case", "consent", "attachment").get(pk=item.pk)


def test_the_locker_keeps_the_hash_of_the_file_as_it_arrived(coordinator: Staff, person: PersonAtRisk) -> None:
    photo = photo_with_location()
    item = keep(coordinator, person, send_photo(person, photo.data))
    view = selectors.open_item(item, keys.case_private_keys(person.case, coordinator.member, key(coordinator)))
    assert view.original_sha256 == hashlib.sha256(photo.data).digest()
    assert view.original is None and bytes(item.original_ct) == b""  # the original stays in the file store
    entries = selectors.custody_entries(item, keys.case_private_keys(person.case, coordinator.member, key(coordinator)))
    assert entries[0][1].action == "promoted" and entries[0][1].subject == hashlib.sha256(photo.data).digest()


def test_only_a_coordinator_keeps_a_file(caseworker: Staff, person: PersonAtRisk) -> None:
    """The original carries the location: it is sealed to coordinators, so nobody else may hash it."""
    attachment = send_photo(person, photo_with_location().data)
    consent = services.consent_record(
        case=person.case, actor=caseworker.member, actor_private_key=key(caseworker), terms=TERMS
    )
    with translation.override("en"), pytest.raises(Refused, match="coordinator"):  # the intake's request set Russian
        services.item_promote_attachment(
            case=person.case, actor=caseworker.member, actor_private_key=key(caseworker), attachment=attachment,
            consent=consent, title="x",
        )  # fmt: skip


def test_faces_are_proposed_painted_and_the_export_is_clean(coordinator: Staff, person: PersonAtRisk) -> None:
    photo = FACE.read_bytes()
    item = keep(coordinator, person, send_photo(person, photo))
    opened = keys.case_private_keys(person.case, coordinator.member, key(coordinator))
    derivative = files.file_derivative_propose(item=item, actor=coordinator.member, actor_private_key=key(coordinator))
    plan = files.open_file_plan(derivative, opened)
    assert plan is not None and plan.proposed, "the astronaut's face is proposed"
    extra = (0, 0, 20, 20)
    files.file_derivative_review(
        derivative=derivative, actor=coordinator.member, actor_private_key=key(coordinator), opened=opened,
        rectangles=[*plan.rectangles, extra], revision=1, approve=True,
    )  # fmt: skip
    request = exports.ExportRequest("prosecutors", "Prosecutor", [item])
    zipped, _ = exports.export_build(
        case=person.case, actor=coordinator.member, actor_private_key=key(coordinator), opened=opened, request=request
    )
    assert verify_package(zipped, public_key=exports.export_signing_key().public_key).ok
    painted = zipfile.ZipFile(io.BytesIO(zipped)).read(f"items/{item.id.hex}/file.jpg")
    assert not describe_metadata(painted, "image/jpeg").findings
    image = Image.open(io.BytesIO(painted)).convert("L")
    left, top, width, height = plan.rectangles[0]
    centre = image.getpixel((left + width // 2, top + height // 2))
    assert isinstance(centre, int) and centre < 20  # painted black over the face


def test_a_rectangle_outside_the_image_is_refused(coordinator: Staff, person: PersonAtRisk) -> None:
    item = keep(coordinator, person, send_photo(person, photo_with_location().data))
    opened = keys.case_private_keys(person.case, coordinator.member, key(coordinator))
    derivative = files.file_derivative_propose(item=item, actor=coordinator.member, actor_private_key=key(coordinator))
    with pytest.raises(Refused):
        files.file_derivative_review(
            derivative=derivative, actor=coordinator.member, actor_private_key=key(coordinator), opened=opened,
            rectangles=[(0, 0, 10_000, 10)], revision=1, approve=True,
        )  # fmt: skip
