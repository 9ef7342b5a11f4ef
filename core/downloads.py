"""Streaming a decrypted attachment to the browser, as a download and never inline."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from django.http import StreamingHttpResponse


def attachment_response(name: str, content_type: str, size: int, chunks: Iterator[bytes]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Length"] = str(size)
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in name)
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return response
