"""An upload handler that encrypts attachments while they stream in.

Django's default handlers buffer uploads in memory or write them to a temporary file in
plaintext. This one checks the file type from its first bytes, counts its size, and pushes
every chunk through a secretstream into the blob store: the plaintext never touches the
disk, and memory stays constant whatever the file size. The file key stays in memory until
the service records it, encrypted, with the message; if the request fails the blob is removed.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

import sealbox
from casework import keys
from casework.files import blob_store
from casework.services import NewAttachment

FIELD_NAME = "attachments"
MAX_NAME_CHARS = 120

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
    too_many: bool = False

    def __bool__(self) -> bool:
        return bool(self.too_big or self.wrong_type or self.too_many)


class EncryptedUpload(UploadedFile):
    def __init__(self, attachment: NewAttachment) -> None:
        super().__init__(file=None, name=attachment.name, content_type=attachment.content_type, size=attachment.size)
        self.attachment = attachment


def clean_file_name(raw: str) -> str:
    name = "".join(ch for ch in raw.replace("\\", "/").rsplit("/", 1)[-1] if ch.isprintable()).strip()
    return (name or "file")[:MAX_NAME_CHARS]


class EncryptingUploadHandler(FileUploadHandler):
    chunk_size = 256 * 1024

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.problems = UploadProblems()
        self.accepted: list[NewAttachment] = []
        self.recorded = False  # set once a service has stored the accepted files with a message
        self._reset()

    def _reset(self) -> None:
        self._blob_cm: AbstractContextManager[BinaryIO] | None = None
        self._writer: sealbox.StreamWriter | None = None
        self._head = bytearray()  # held back until the type is known
        self._size = 0
        self._active = False

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name != FIELD_NAME or not file_name:
            raise SkipFile
        if len(self.accepted) >= settings.SP_ATTACHMENTS_PER_MESSAGE:
            self.problems.too_many = True
            raise SkipFile
        self._reset()
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
        if self._writer is not None:
            self._writer.write(raw_data)
        else:
            self._head += raw_data
            if len(self._head) >= SNIFF_BYTES:
                self._start_writing()
        return None

    def _start_writing(self) -> None:
        self._content_type = sniff_content_type(bytes(self._head[:SNIFF_BYTES]))
        if self._content_type is None:
            self._refuse(self.problems.wrong_type)
        self._blob_cm = blob_store().writer(self._blob_name)
        sink = self._blob_cm.__enter__()
        ctx = keys.attachment_ctx("file", self._attachment_id)
        self._writer = sealbox.StreamWriter(sink, self._file_key, ctx=ctx)
        self._writer.write(bytes(self._head))
        self._head.clear()

    def _refuse(self, reasons: list[str]) -> None:
        reasons.append(clean_file_name(self.file_name or ""))
        self._abandon()
        raise SkipFile

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self._active:
            return None
        if self._size == 0:
            self._abandon()
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
        attachment = NewAttachment(
            attachment_id=self._attachment_id,
            blob_name=self._blob_name,
            file_key=self._file_key,
            size=self._size,
            name=clean_file_name(self.file_name or ""),
            content_type=self._content_type or "application/octet-stream",
        )
        self.accepted.append(attachment)
        self._reset()
        return EncryptedUpload(attachment)

    def _abandon(self) -> None:
        if self._blob_cm is not None:
            try:
                self._blob_cm.__exit__(RuntimeError, RuntimeError("abandoned"), None)
            except RuntimeError:
                pass
        self._reset()

    def upload_interrupted(self) -> None:
        self._abandon()
        self.discard_all()

    def discard_all(self) -> None:
        """Remove every file this request encrypted (the request failed or was refused)."""
        store = blob_store()
        for attachment in self.accepted:
            store.delete(attachment.blob_name)
        self.accepted.clear()
