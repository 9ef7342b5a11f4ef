"""Photos and PDF files lose their location and camera data on the way in (scrub): the copy
staff and the person get back carries none of it, and the untouched original is sealed for
evidence, which only coordinators open, each time audited.

Attackers: a staff member of any other role (a caseworker holding the case key gets 403 and
none of the original's bytes), a captor holding the person's phone (the person's own download
carries no position), a database reader (the original is ciphertext like everything else, see
tests/test_canary.py)."""

from __future__ import annotations

import io
import re
import uuid

import pikepdf
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ImageChops, ImageStat

import sealbox
from accounts.models import RecoveryKey, Role, Team
from audit.models import Action, AuditEntry
from casework import keys, originals, services
from casework.models import Attachment, AttachmentOriginalKey
from tests import samples
from tests.personas import FaceClient, PersonAtRisk, Staff, make_staff

pytestmark = pytest.mark.django_db

INVALID_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200  # a PNG's first bytes, then nothing an image holds


def _send(person: PersonAtRisk, name: str, data: bytes, content_type: str) -> tuple[FaceClient, Attachment]:
    client = person.intake(language="en")
    upload = SimpleUploadedFile(name, data, content_type=content_type)
    response = client.post("/conversation/", {"message": "A file for you.", "attachments": upload})
    assert response.status_code == 302, response.content[:2000]
    return client, Attachment.objects.get(message__case=person.case)


def _download(console: FaceClient, url: str) -> bytes:
    response = console.get(url)
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def _staff_copy(staff: Staff, person: PersonAtRisk, attachment: Attachment) -> bytes:
    return _download(staff.console(), f"/cases/{person.case.public_id}/files/{attachment.id}/")


def _persons_copy(client: FaceClient, attachment: Attachment) -> bytes:
    response = client.post("/conversation/file/", {"attachment": str(attachment.id)})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _original_url(person: PersonAtRisk, attachment: Attachment) -> str:
    return f"/cases/{person.case.public_id}/files/{attachment.id}/original/"


def _assert_clean(data: bytes, sample: samples.Sample) -> None:
    assert [marker for marker in sample.markers if marker in data] == []
    assert b"Exif\x00\x00" not in data
    assert samples.exif_of(data) == {}


def test_a_photo_with_its_position_reaches_staff_and_the_person_without_it(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    photo = samples.photo_with_location(width=400, height=300)
    assert samples.exif_of(photo.data)[samples.GPS_IFD]  # the position is in what was sent
    client, attachment = _send(person, "IMG_0001.jpg", photo.data, "image/jpeg")

    for copy in (_staff_copy(caseworker, person, attachment), _persons_copy(client, attachment)):
        _assert_clean(copy, photo)
        difference = ImageChops.difference(samples.pixels(photo.data), samples.pixels(copy))
        assert max(ImageStat.Stat(difference).mean) < 1.5  # the same picture


def test_a_turned_photo_reaches_staff_upright(person: PersonAtRisk, caseworker: Staff) -> None:
    photo = samples.photo_with_location(orientation=6, width=120, height=60)
    _, attachment = _send(person, "turned.jpg", photo.data, "image/jpeg")
    assert samples.pixels(_staff_copy(caseworker, person, attachment)).size == (60, 120)


def test_a_pdf_reaches_staff_without_author_producer_or_xmp(person: PersonAtRisk, caseworker: Staff) -> None:
    document = samples.pdf_with_author(text="Statement of events")
    _, attachment = _send(person, "statement.pdf", document.data, "application/pdf")
    copy = _staff_copy(caseworker, person, attachment)
    assert [marker for marker in document.markers if marker in copy] == []
    with pikepdf.open(io.BytesIO(copy)) as pdf:
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        assert b"(Statement of events) Tj" in pdf.pages[0].Contents.read_bytes()


def test_a_coordinator_opens_the_original_as_sent_and_it_is_audited(person: PersonAtRisk, coordinator: Staff) -> None:
    photo = samples.photo_with_location()
    _, attachment = _send(person, "IMG_0002.jpg", photo.data, "image/jpeg")
    console = coordinator.console()
    page = console.get(f"/cases/{person.case.public_id}/").content.decode()
    assert _original_url(person, attachment) in page

    assert _download(console, _original_url(person, attachment)) == photo.data  # byte for byte
    opened = AuditEntry.objects.filter(action=Action.ATTACHMENT_ORIGINAL_DOWNLOAD)
    assert [(entry.actor_id, entry.details) for entry in opened] == [
        (coordinator.member.pk, {"attachment": str(attachment.id)})
    ]


def test_a_caseworker_holding_the_case_gets_403_and_nothing_of_the_original(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    photo = samples.photo_with_location()
    _, attachment = _send(person, "IMG_0003.jpg", photo.data, "image/jpeg")
    console = caseworker.console()
    page = console.get(f"/cases/{person.case.public_id}/").content.decode()
    assert f"/files/{attachment.id}/" in page  # she reads the case and its cleaned file
    assert "/original/" not in page

    response = console.get(_original_url(person, attachment))
    assert response.status_code == 403
    assert not any(marker in response.content for marker in photo.markers)
    assert not AuditEntry.objects.filter(action=Action.ATTACHMENT_ORIGINAL_DOWNLOAD).exists()
    # Nothing to open it with, either: its key is sealed to coordinators and the recovery key.
    holders = AttachmentOriginalKey.objects.filter(attachment=attachment)
    assert {(key.member_id, key.for_recovery) for key in holders} == {(coordinator.member.pk, False), (None, True)}


def test_the_original_is_stored_apart_from_the_cleaned_copy_and_only_as_ciphertext(person: PersonAtRisk) -> None:
    photo = samples.photo_with_location()
    _, attachment = _send(person, "IMG_0004.jpg", photo.data, "image/jpeg")
    assert attachment.original_blob_name and attachment.original_blob_name != attachment.blob_name
    assert attachment.original_size == sealbox.bucket(len(photo.data))  # the exact size is sealed in its meta
    stored = b"".join(path.read_bytes() for path in settings.SP_FILE_STORE.rglob("*") if path.is_file())
    assert not any(marker in stored for marker in photo.markers)


def test_a_file_that_cannot_be_cleaned_is_kept_as_sent_and_staff_are_warned(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    _, attachment = _send(person, "broken.png", INVALID_PNG, "image/png")
    assert attachment.original_blob_name is None
    assert _staff_copy(caseworker, person, attachment) == INVALID_PNG
    page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()
    assert "location and camera data not removed" in page


def test_a_cleaned_file_is_marked_so_on_the_case_page(person: PersonAtRisk, caseworker: Staff) -> None:
    _send(person, "IMG_0005.jpg", samples.photo_with_location().data, "image/jpeg")
    page = caseworker.console(language="en").get(f"/cases/{person.case.public_id}/").content.decode()
    assert "location and camera data removed" in page and "not removed" not in page


def test_a_heic_photo_is_refused_and_what_was_typed_stays(person: PersonAtRisk) -> None:
    client = person.intake(language="en")
    heic = b"\x00\x00\x00\x18ftypheic" + uuid.uuid4().bytes * 8
    upload = SimpleUploadedFile("IMG_0006.HEIC", heic, content_type="image/heic")
    response = client.post("/conversation/", {"message": "Typed words stay.", "attachments": upload})
    assert response.status_code == 400
    page = response.content.decode()
    assert "we cannot remove the place where it was taken" in page and "IMG_0006.HEIC" in page
    assert "Typed words stay." in page
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "we remove from them the place where they were taken"),
        ("ru", "мы удаляем из них место съёмки"),
    ],
)
def test_the_upload_forms_tell_the_person_that_the_place_is_removed(
    person: PersonAtRisk, intake_client: FaceClient, language: str, words: str
) -> None:
    conversation = person.intake(language=language).get("/conversation/").content.decode()
    intake_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    intake_client.get("/start/")
    request_form = intake_client.get("/request/").content.decode()
    for page in (conversation, request_form):
        assert re.sub(r"\s+", " ", words) in page


def test_a_recovery_key_put_in_by_a_database_writer_gets_no_original(person: PersonAtRisk, coordinator: Staff) -> None:
    attacker = sealbox.KeyPair.generate()
    RecoveryKey.objects.filter(slot=1).update(public_key=attacker.public_key)  # no certificate for it
    _, attachment = _send(person, "IMG_0007.jpg", samples.photo_with_location().data, "image/jpeg")
    holders = AttachmentOriginalKey.objects.filter(attachment=attachment)
    assert [(key.member_id, key.for_recovery) for key in holders] == [(coordinator.member.pk, False)]
    for key in holders:
        with pytest.raises(sealbox.CryptoError):
            sealbox.unseal(attacker.private_key, bytes(key.sealed_key), ctx=originals.key_ctx(attachment.id))


def _second_coordinator(coordinator: Staff) -> Staff:
    """A coordinator of another team, who has not been given the person's case."""
    elsewhere = Team.objects.create(name="Elsewhere")
    return make_staff("coordinator-elsewhere", role=Role.COORDINATOR, team=elsewhere, invited_by=coordinator)


def _original_key_holders(attachment: Attachment) -> set[tuple[int | None, bool]]:
    return {(key.member_id, key.for_recovery) for key in AttachmentOriginalKey.objects.filter(attachment=attachment)}


def test_a_coordinator_who_does_not_hold_the_case_gets_no_original_key(
    person: PersonAtRisk, coordinator: Staff
) -> None:
    """Attacker: a coordinator without need to know (invariant 3). The original is sealed to the
    coordinators who hold the case key, not to every coordinator of the organisation."""
    other = _second_coordinator(coordinator)
    person.case.refresh_from_db()
    assert other.member.pk not in keys.current_case_key(person.case).holder_ids  # she does not read the case

    _, attachment = _send(person, "IMG_0008.jpg", samples.photo_with_location().data, "image/jpeg")

    assert _original_key_holders(attachment) == {(coordinator.member.pk, False), (None, True)}


def test_a_coordinator_given_the_case_gets_the_next_original_and_loses_it_when_taken_off(
    person: PersonAtRisk, coordinator: Staff
) -> None:
    other = _second_coordinator(coordinator)
    services.case_member_add(
        case=person.case, actor=coordinator.member, actor_private_key=coordinator.private_key, member=other.member
    )
    _, attachment = _send(person, "IMG_0009.jpg", samples.photo_with_location().data, "image/jpeg")
    assert (other.member.pk, False) in _original_key_holders(attachment)

    services.case_member_remove(
        case=person.case, actor=coordinator.member, actor_private_key=coordinator.private_key, member=other.member
    )
    assert _original_key_holders(attachment) == {(coordinator.member.pk, False), (None, True)}


def test_a_disabled_coordinator_keeps_no_original_key(person: PersonAtRisk, coordinator: Staff) -> None:
    """Attacker: a coordinator whose account was disabled (or a database writer who turns it
    back on): nothing of the originals stays sealed to them."""
    other = _second_coordinator(coordinator)
    services.case_member_add(
        case=person.case, actor=coordinator.member, actor_private_key=coordinator.private_key, member=other.member
    )
    _, attachment = _send(person, "IMG_0010.jpg", samples.photo_with_location().data, "image/jpeg")
    assert (coordinator.member.pk, False) in _original_key_holders(attachment)

    services.staff_disable(actor=other.member, actor_private_key=other.private_key, member=coordinator.member)

    assert not AttachmentOriginalKey.objects.filter(member=coordinator.member).exists()
    assert _original_key_holders(attachment) == {(other.member.pk, False), (None, True)}
