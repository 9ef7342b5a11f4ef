"""An upload handler that encrypts attachments while they stream in, and removes their
location and camera data.

Django's default handlers buffer uploads in memory or write them to a temporary file in
plaintext. This one checks the file type from its first bytes, counts its size, and pushes
every chunk through a secretstream into the blob store: the plaintext never touches the
disk. The file key stays in memory until the service records it, encrypted, with the
message; if the request fails the blob is removed. Files are refused while the store's disk
is nearly full (SP_MIN_FREE_BYTES), so a flood of uploads cannot fill the disk that the
database and the logs share.

Photos and PDF files say where, when and with what they were made (scrub). While a file of a
kind scrub cleans streams in, its plaintext is also kept in memory (up to CLEAN_MAX_BYTES,
the only memory that grows with the file); once it is complete, the cleaned copy is encrypted
into a second blob under a key of its own. Staff and the person get that copy; the blob
written while the file arrived is kept as the original, whose key is sealed to coordinators
only (casework/originals.py). A file that cannot be cleaned (damaged, password-protected, too
large to decode) is kept as it was sent, and staff see that its metadata was not removed.
Kinds of photo that nothing installed can clean (HEIC, HEIF) are refused, so the upload
form's promise that location data is removed holds for every photo it takes.
"""

from __future__ import annotations

import io
import logging
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

import scrub
import sealbox
from blobstore import BlobSink
from casework import keys
from casework.files import blob_store
from casework.originals import NewOriginal
from casework.services import NewAttachment

logger = logging.getLogger(__name__)

FIELD_NAME = "attachments"
MAX_NAME_CHARS = 120
# The most of one file held in memory to be cleaned: a phone's photos stay far below it. A
# larger file streams on into its blob as before and is kept as sent.
CLEAN_MAX_BYTES = 32 * 1024 * 1024

# Magic bytes of the accepted kinds: images a phone takes or saves, and PDF documents.
_SIGNATURES: list[tuple[bytes, int, str]] = [
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"WEBP", 8, "image/webp"),
    (b"ftypheic", 4, "image/heic"),
    (b"ftypheix", 4, "image/heic"),
    (b"ftypmif1", 4, "image/heif"),
]
SNIFF_BYTES = 16


def sniff_content_type(head: bytes) -> str | None:
    for signature, offset, content_type in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if content_type == "image/webp" and not head.startswith(b"RIFF"):
                continue
            return content_type
    return None


@dataclass
class UploadProblems:
    too_big: list[str] = field(default_factory=list)
    wrong_type: list[str] = field(default_factory=list)
    no_space: list[str] = field(default_factory=list)  # refused because the disk is nearly full
    cannot_clean: list[str] = field(default_factory=list)  # a kind of photo whose location data stays
    too_many: bool = False

    def __bool__(self) -> bool:
        return bool(self.too_big or self.wrong_type or self.no_space or self.cannot_clean or self.too_many)


def _no_content() -> io.BytesIO:
    empty = io.BytesIO()
    empty.close()
    return empty


class EncryptedUpload(UploadedFile):  # type: ignore[type-arg]  # generic only in the stubs: File[bytes] fails at run time
    """Stands in request.FILES for a file that is already ciphertext in the blob store.

    There is nothing here to read. Django still treats it as a file: its multipart parser
    closes every parsed file when a later part is malformed, and the request closes them at its
    end. So close() does nothing, and any read, seek or iteration finds a closed, empty buffer
    (ValueError) rather than a missing one (AttributeError, a 500)."""

    def __init__(self, attachment: NewAttachment) -> None:
        super().__init__(
            file=_no_content(), name=attachment.name, content_type=attachment.content_type, size=attachment.size
        )
        self.attachment = attachment

    def close(self) -> None:
        pass

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> EncryptedUpload:
        raise ValueError("an encrypted upload has no plaintext to open")


def _disk_nearly_full(incoming: int) -> bool:
    return blob_store().free_bytes() - incoming < settings.SP_MIN_FREE_BYTES


def clean_file_name(raw: str) -> str:
    name = "".join(ch for ch in raw.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable()).strip()
    return (name or "file")[:MAX_NAME_CHARS]


class EncryptingUploadHandler(FileUploadHandler):
    chunk_size = 256 * 1024

    def __init__(self, request: HttpRequest | None = None, *, files_allowed: bool = True) -> None:
        super().__init__(request)
        self.problems = UploadProblems()
        self.accepted: list[NewAttachment] = []
        # False when the upload budget has no room for this request: every file is skipped
        # unwritten and counted here, and the words are still sent (intake/throttle.py).
        self.files_allowed = files_allowed
        self.held_back = 0
        self.recorded = False  # set once a service has stored the accepted files with a message
        self.interrupted = False  # the body ended inside a file: the request did not arrive whole
        self._reset()

    def _reset(self) -> None:
        self._blob_cm: AbstractContextManager[BlobSink] | None = None
        self._writer: sealbox.StreamWriter | None = None
        self._head = bytearray()  # held back until the type is known
        self._plain: bytearray | None = None  # the file so far, to be cleaned once complete
        self._size = 0
        self._active = False

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name != FIELD_NAME or not file_name:
            raise SkipFile
        if not self.files_allowed:
            self.held_back += 1
            raise SkipFile
        if len(self.accepted) >= settings.SP_ATTACHMENTS_PER_MESSAGE:
            self.problems.too_many = True
            raise SkipFile
        self._reset()
        expected = self.content_length or 0  # browsers rarely say; checked again as data arrives
        if _disk_nearly_full(expected):
            self.problems.no_space.append(clean_file_name(file_name))
            raise SkipFile
        self._active = True
        self._attachment_id = uuid.uuid4()
        self._file_key = sealbox.random_key()
        self._blob_name = blob_store().new_name()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if not self._active:
            return None
        self._size += len(raw_data)
        if self._size > settings.SP_ATTACHMENT_MAX_BYTES:
            self._refuse(self.problems.too_big)
        if _disk_nearly_full(len(raw_data)):
            self._refuse(self.problems.no_space)
        if self._writer is not None:
            self._writer.write(raw_data)
            self._keep_for_cleaning(raw_data)
        else:
            self._head += raw_data
            if len(self._head) >= SNIFF_BYTES:
                self._start_writing()
        return None

    def _start_writing(self) -> None:
        self._content_type = sniff_content_type(bytes(self._head[:SNIFF_BYTES]))
        if self._content_type is None:
            self._refuse(self.problems.wrong_type)
        if self._content_type not in scrub.CLEANABLE:
            self._refuse(self.problems.cannot_clean)
        self._blob_cm = blob_store().writer(self._blob_name)
        sink = self._blob_cm.__enter__()
        ctx = keys.attachment_ctx("file", self._attachment_id)
        self._writer = sealbox.StreamWriter(sink, self._file_key, ctx=ctx)
        self._writer.write(bytes(self._head))
        self._plain = bytearray()
        self._keep_for_cleaning(self._head)
        self._head.clear()

    def _keep_for_cleaning(self, data: bytes | bytearray) -> None:
        if self._plain is None:
            return
        if len(self._plain) + len(data) > CLEAN_MAX_BYTES:
            self._plain = None  # too large to clean: kept as sent
            return
        self._plain += data

    def _refuse(self, reasons: list[str]) -> None:
        reasons.append(clean_file_name(self.file_name or ""))
        self.abandon()
        raise SkipFile

    def file_complete(self, file_size: int) -> UploadedFile[bytes] | None:
        if not self._active:
            return None
        if self._size == 0:
            self.abandon()
            return None
        if self._writer is None:
            try:
                self._start_writing()
            except SkipFile:
                return None
        if self._writer is None or self._blob_cm is None:
            raise RuntimeError("upload finished without an open encrypted stream")
        self._writer.close()
        self._blob_cm.__exit__(None, None, None)
        self._blob_cm = None  # complete: from here on only discard_all or _forget removes it
        try:
            attachment = self._attachment_cleaned()
        except BaseException:
            self._forget()
            raise
        if attachment is None:
            self._forget()
            self.problems.no_space.append(clean_file_name(self.file_name or ""))
            return None
        self.accepted.append(attachment)
        self._reset()
        return EncryptedUpload(attachment)

    def _forget(self) -> None:
        """Remove the blob of a file that was received whole but will not be recorded."""
        blob_store().delete(self._blob_name)
        self._reset()

    def _attachment_cleaned(self) -> NewAttachment | None:
        """The record of the file just received: its cleaned copy, written now into a blob of
        its own, with the received blob as the original; or the received blob alone if the
        file could not be cleaned. None if the disk has no room left for the cleaned copy."""
        as_sent = NewAttachment(
            attachment_id=self._attachment_id,
            blob_name=self._blob_name,
            file_key=self._file_key,
            size=self._size,
            name=clean_file_name(self.file_name or ""),
            content_type=self._content_type or "application/octet-stream",
        )
        plain, self._plain = self._plain, None
        if plain is None:
            logger.warning("an uploaded %s was too large to clean: kept as sent", as_sent.content_type)
            return as_sent
        try:
            cleaned = scrub.clean(bytes(plain), as_sent.content_type)
        except scrub.CannotClean as reason:  # says what failed, never what the file holds
            logger.warning("an uploaded %s could not be cleaned (%s): kept as sent", as_sent.content_type, reason)
            return as_sent
        if cleaned == plain:  # nothing to remove: no second copy to keep
            return replace(as_sent, metadata_removed=True)
        if _disk_nearly_full(len(cleaned)):
            return None
        name, key = blob_store().new_name(), sealbox.random_key()
        with blob_store().writer(name) as sink:
            sealbox.encrypt_stream([cleaned], sink, key, ctx=keys.attachment_ctx("file", self._attachment_id))
        original = NewOriginal(blob_name=self._blob_name, file_key=self._file_key, size=self._size)
        return replace(
            as_sent, blob_name=name, file_key=key, size=len(cleaned), metadata_removed=True, original=original
        )

    def abandon(self) -> None:
        """Give up the file being written, if any: its partial blob is removed."""
        if self._blob_cm is not None:
            try:
                self._blob_cm.__exit__(RuntimeError, RuntimeError("abandoned"), None)
            except RuntimeError:
                pass
        self._reset()

    def upload_interrupted(self) -> None:
        """Django calls this when the body ended before the last file part was complete (a cut
        connection, a truncated body), and also after the last file part was skipped. Only the
        first means the request is incomplete; whatever was accepted is discarded by the view
        that installed this handler, unless it records it."""
        if self._active:
            self.interrupted = True
        self.abandon()

    def stored_bytes(self) -> int:
        """What this request stored in the file store, cleaned copies and originals (nothing
        unless a service recorded them): the padded size of each blob on disk, never a file's
        exact size, which the budget's plaintext row would otherwise give a database reader."""
        if not self.recorded:
            return 0
        return sum(
            sealbox.stream_size(item.size) + (sealbox.stream_size(item.original.size) if item.original else 0)
            for item in self.accepted
        )

    def discard_all(self) -> None:
        """Remove every file this request encrypted (the request failed or was refused)."""
        store = blob_store()
        for attachment in self.accepted:
            store.delete(attachment.blob_name)
            if attachment.original is not None:
                store.delete(attachment.original.blob_name)
        self.accepted.clear()


class FileSkippingUploadHandler(FileUploadHandler):
    """Reads the form fields of a request that will not be stored, and skips every file
    unwritten, counting those the person attached so the page can ask for them again."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.skipped = 0

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        if field_name == FIELD_NAME and file_name:
            self.skipped += 1
        raise SkipFile

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        return None

    def file_complete(self, file_size: int) -> UploadedFile[bytes] | None:
        return None
