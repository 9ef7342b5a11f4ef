"""The upload handler for a hand-off packet sent through the import page.

The console's default handler keeps uploads in memory only up to 64 KiB and silently drops
anything larger, so a packet of a few hundred messages could not be imported from the page.
This handler streams the one packet file into memory, counting as it goes, and stops at the
documented maximum (sealbox.handoff.MAX_PACKET_BYTES): larger files are skipped unread and the
page says so. Nothing is written to disk.

Why memory and not a temporary file: the packet must be held whole to check that it is
byte for byte canonical and to verify its signature, so a temporary file would only add a copy
on disk. The packet is ciphertext, but its envelope is not: a leftover file would tell whoever
reads the disk that a case was handed over, between which two organisations (both
fingerprints), when, under which packet id, and roughly how much it held. Memory per request
is bounded by the maximum, and only coordinators reach this page.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

import sealbox.handoff as packets

FIELD_NAME = "packet"


class PacketUploadHandler(FileUploadHandler):
    chunk_size = 64 * 1024

    def __init__(self, request: HttpRequest | None = None, *, limit: int = packets.MAX_PACKET_BYTES) -> None:
        super().__init__(request)
        self.limit = limit
        self.too_big = False
        self._buffer: io.BytesIO | None = None
        self._seen = False

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self._buffer = None
        # One packet per import: any other file, or a second one, is skipped unread.
        if field_name != FIELD_NAME or self._seen:
            raise SkipFile
        self._seen = True
        if self.content_length is not None and self.content_length > self.limit:
            self.too_big = True
            raise SkipFile
        self._buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self._buffer is None:
            return None
        if start + len(raw_data) > self.limit:
            self.too_big = True
            self._buffer = None  # what was read so far is dropped with it
            raise SkipFile
        self._buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile[bytes] | None:
        if self._buffer is None:
            return None
        self._buffer.seek(0)
        upload = InMemoryUploadedFile(
            file=self._buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
        self._buffer = None
        return upload

    def upload_interrupted(self) -> None:
        self._buffer = None
