"""Length padding through the real faces: what a database reader learns of sizes is a bucket.

Attacker: a database reader (a copy of the database and the file store, no keys). They read
every ciphertext column and every blob's size; with padding those tell only the Padmé bucket of
each text's or file's size (docs/crypto.md "Length padding"). Records and files written before
padding, written here the way the code wrote them then, still open for staff and the person.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

import sealbox
from casenotes.models import CaseNote
from casework import authenticity, keys
from casework.files import blob_store
from casework.models import Attachment, Case, Message, MessageKey
from tests import samples
from tests.personas import PersonAtRisk, Staff

pytestmark = pytest.mark.django_db

# 1 to 60 bytes (UTF-8) all share the smallest bucket; the last one does not.
SHORT = ["y", "no", "yes", "help", "Они рядом", "I am at the bus station now, the police are here"]
LONGER = "I am at the bus station now, the police are here, please call me back."


def _body_lengths(case: Case) -> list[int]:
    """The stored lengths of the person's messages and staff replies, read with SQL as a
    database reader reads them (automatic messages and the cover conversation are the
    server's own texts)."""
    query = (
        "SELECT body_ct FROM casework_message WHERE case_id = %s AND sender IN ('person', 'staff') AND is_decoy = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [case.pk, False])
        return [len(bytes(row[0])) for row in cursor.fetchall()]


def _send(person: PersonAtRisk, body: str, **files: SimpleUploadedFile) -> None:
    client = person.intake(language="en")
    response = client.post("/conversation/", {"message": body, **files})
    assert response.status_code == 302, response.content[:2000]


def test_a_database_reader_sees_one_length_for_every_short_message(person: PersonAtRisk, caseworker: Staff) -> None:
    assert max(len(text.encode()) for text in SHORT) <= 60 < len(LONGER.encode())
    for text in SHORT:
        _send(person, text)
    console = caseworker.console()
    for text in SHORT:
        assert console.post(f"/cases/{person.case.public_id}/reply/", {"body": text + "!"}).status_code == 302
    lengths = _body_lengths(person.case)
    assert len(lengths) == 1 + 2 * len(SHORT)  # the opening message, the person's and the replies
    assert len(set(lengths)) == 1
    _send(person, LONGER)
    assert len(set(_body_lengths(person.case))) == 2
    page = console.get(f"/cases/{person.case.public_id}/").content.decode()
    assert all(text in page for text in [*SHORT, LONGER])


def test_notes_of_different_short_lengths_are_stored_alike(person: PersonAtRisk, caseworker: Staff) -> None:
    console = caseworker.console()
    for text in ("ok", "Called her sister, she will take her in on Friday."):
        assert console.post(f"/cases/{person.case.public_id}/notes/", {"body": text}).status_code == 302
    lengths = {len(bytes(note.body_ct)) for note in CaseNote.objects.filter(case=person.case)}
    assert lengths == {1 + 32 + 24 + 16 + sealbox.padded_record_size(0)}


def test_case_details_are_sealed_padded(person: PersonAtRisk) -> None:
    details = bytes(Case.objects.get(pk=person.case.pk).details_ct)
    assert details[:1] == b"\x04"


def _photo_upload(name: str) -> tuple[bytes, SimpleUploadedFile]:
    photo = samples.photo_with_location(width=200, height=150).data
    return photo, SimpleUploadedFile(name, photo, content_type="image/jpeg")


def _blob_size(name: str) -> int:
    return sum(path.stat().st_size for path in settings.SP_FILE_STORE.rglob(name))


def _download(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]  # a streaming response


def test_files_and_their_names_are_stored_as_buckets_and_read_back_exactly(
    person: PersonAtRisk, caseworker: Staff, coordinator: Staff
) -> None:
    photo, upload = _photo_upload("IMG_20240101_123456.jpg")
    _send(person, "Photo.", attachments=upload)
    _, second = _photo_upload("a.jpg")
    _send(person, "Another.", attachments=second)
    first, other = Attachment.objects.filter(message__case=person.case).order_by("message__created_at")
    # The names' lengths show only as buckets; the sizes in the columns and on disk are buckets.
    for meta in (bytes(first.meta_ct), bytes(other.meta_ct)):
        assert meta[:1] == b"\x03" and sealbox.bucket(len(meta) - 41) == len(meta) - 41
    assert first.original_size == sealbox.bucket(len(photo)) != len(photo)
    assert _blob_size(str(first.original_blob_name)) == sealbox.stream_size(len(photo))
    assert _blob_size(first.blob_name) == sealbox.stream_size(first.size) == sealbox.stream_size(first.size - 1)
    # Staff, the coordinator (the original) and the person get the exact bytes and size.
    console = caseworker.console()
    cleaned = console.get(f"/cases/{person.case.public_id}/files/{first.id}/")
    body = _download(cleaned)
    assert int(cleaned["Content-Length"]) == len(body) and sealbox.bucket(len(body)) == first.size
    original = coordinator.console().get(f"/cases/{person.case.public_id}/files/{first.id}/original/")
    assert _download(original) == photo and int(original["Content-Length"]) == len(photo)
    mine = person.intake(language="en").post("/conversation/file/", {"attachment": str(first.id)})
    assert _download(mine) == body


def _old_seal(public_key: bytes, data: bytes, ctx: bytes) -> bytes:
    return sealbox.seal(public_key, data, ctx=ctx, pad=False)


def _legacy_message(case: Case, body: str) -> tuple[Message, bytes]:
    """A message from the person, written the way every message was before padding."""
    data_key = sealbox.random_key()
    message = Message(id=uuid.uuid4(), case=case, sender=Message.Sender.PERSON)
    message.body_ct = sealbox.encrypt(data_key, body.encode(), ctx=keys.message_body_ctx(message), pad=False)
    authenticity.message_tag(message)
    message.save(force_insert=True)
    ctx = keys.message_key_ctx(message.id)
    credential = case.reply_credential
    case_key = keys.current_case_key(case)
    public_keys = {"credential": bytes(credential.public_key), "case_key": bytes(case_key.public_key)}
    MessageKey.objects.bulk_create(
        [
            MessageKey(
                message=message, credential=credential, sealed_key=_old_seal(public_keys["credential"], data_key, ctx)
            ),
            MessageKey(
                message=message, case_key=case_key, sealed_key=_old_seal(public_keys["case_key"], data_key, ctx)
            ),
        ]
    )
    return message, data_key


def _legacy_attachment(message: Message, data_key: bytes, data: bytes) -> Attachment:
    """A file recorded before padding: an SPS1 blob, an exact size column, no size in its meta."""
    attachment_id, file_key, name = uuid.uuid4(), sealbox.random_key(), blob_store().new_name()
    with blob_store().writer(name) as sink:
        sealbox.encrypt_stream([data], sink, file_key, ctx=keys.attachment_ctx("file", attachment_id), pad=False)
    meta = json.dumps({"name": "old.pdf", "type": "application/pdf"}).encode()
    return Attachment.objects.create(
        id=attachment_id,
        message=message,
        blob_name=name,
        size=len(data),
        meta_ct=sealbox.encrypt(data_key, meta, ctx=keys.attachment_ctx("meta", attachment_id), pad=False),
        file_key_ct=sealbox.encrypt(data_key, file_key, ctx=keys.attachment_ctx("key", attachment_id), pad=False),
    )


def test_messages_and_files_written_before_padding_still_open(person: PersonAtRisk, caseworker: Staff) -> None:
    person.case.refresh_from_db()
    message, data_key = _legacy_message(person.case, "Written before padding.")
    old_file = bytes(range(256)) * 41 + b"end"
    attachment = _legacy_attachment(message, data_key, old_file)
    assert bytes(message.body_ct)[:1] == b"\x01" and _blob_size(attachment.blob_name) == sealbox.stream_size(
        len(old_file), pad=False
    )
    console = caseworker.console(language="en")
    page = console.get(f"/cases/{person.case.public_id}/").content.decode()
    assert "Written before padding." in page and "old.pdf" in page
    download = console.get(f"/cases/{person.case.public_id}/files/{attachment.id}/")
    assert _download(download) == old_file and int(download["Content-Length"]) == len(old_file)
    client = person.intake(language="en")
    assert "Written before padding." in client.get("/conversation/").content.decode()
    assert _download(client.post("/conversation/file/", {"attachment": str(attachment.id)})) == old_file


def test_a_database_writer_who_marks_a_padded_note_as_unpadded_gets_the_409_page(
    person: PersonAtRisk, caseworker: Staff
) -> None:
    # Attacker: a database writer who rewrites a note's format tag from padded (0x04) to
    # unpadded (0x02), to have it opened with its padding, and its true length, in the text.
    # The tag is in the associated data: the note does not open, and the console says so.
    console = caseworker.console(language="en")
    assert console.post(f"/cases/{person.case.public_id}/notes/", {"body": "ok"}).status_code == 302
    notes = f"/cases/{person.case.public_id}/?section=notes"
    assert console.get(notes).status_code == 200
    note = CaseNote.objects.get(case=person.case)
    CaseNote.objects.filter(pk=note.pk).update(body_ct=b"\x02" + bytes(note.body_ct)[1:])
    assert console.get(notes).status_code == 409
