"""Streaming file encryption in constant memory with libsodium's secretstream.

A file is cut into fixed-size plaintext chunks; each is pushed through
crypto_secretstream_xchacha20poly1305, whose per-chunk state makes a dropped, repeated or
reordered chunk fail to open, and whose FINAL tag on the last chunk makes truncation visible.

File format:

    "SPS1" | chunk_size(4, big-endian) | secretstream header(24) | chunk ciphertexts...

Every chunk but the last holds exactly chunk_size plaintext bytes (chunk_size + 17 on disk);
the last one carries TAG_FINAL and may be shorter, even empty. Each chunk's associated data is
the file header plus the caller's context, so a file cannot be moved to another record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO, Protocol

import nacl.bindings as sodium
import nacl.exceptions

from sealbox.boxes import KEY_BYTES, CryptoError

MAGIC = b"SPS1"
DEFAULT_CHUNK = 64 * 1024
HEADER_BYTES = sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
OVERHEAD = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
_TAG_MESSAGE = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_MAX_CHUNK = 16 * 1024 * 1024


class Sink(Protocol):
    """Where encrypted chunks go: an open binary file or anything else with ``write``."""

    def write(self, data: bytes, /) -> int: ...


class StreamError(CryptoError):
    """An encrypted stream was tampered with, truncated, reordered or has trailing data."""


class StreamWriter:
    """Encrypts whatever is written into ``sink`` chunk by chunk; call ``close`` to finish."""

    def __init__(self, sink: Sink, key: bytes, *, ctx: bytes, chunk_size: int = DEFAULT_CHUNK) -> None:
        if len(key) != KEY_BYTES:
            raise CryptoError("keys are 32 bytes")
        if not 0 < chunk_size <= _MAX_CHUNK:
            raise ValueError("chunk size out of range")
        self._sink = sink
        self._chunk_size = chunk_size
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        prefix = MAGIC + chunk_size.to_bytes(4, "big")
        self._ad = prefix + ctx
        self._buffer = bytearray()
        self._closed = False
        self.plaintext_bytes = 0
        sink.write(prefix + header)

    def write(self, data: bytes) -> None:
        if self._closed:
            raise ValueError("stream already closed")
        self.plaintext_bytes += len(data)
        self._buffer += data
        size = self._chunk_size
        if len(self._buffer) <= size:
            return
        # Keep at least one byte back so the last full chunk can still carry TAG_FINAL.
        cut = (len(self._buffer) - 1) // size * size
        view = memoryview(self._buffer)
        for start in range(0, cut, size):
            self._push(view[start : start + size], _TAG_MESSAGE)
        view.release()
        del self._buffer[:cut]

    def close(self) -> None:
        if not self._closed:
            self._push(bytes(self._buffer), _TAG_FINAL)
            self._buffer.clear()
            self._closed = True

    def _push(self, chunk: bytes | memoryview, tag: int) -> None:
        self._sink.write(sodium.crypto_secretstream_xchacha20poly1305_push(self._state, bytes(chunk), self._ad, tag))


class StreamReader:
    """Iterates over the plaintext chunks of an encrypted stream, verifying each one."""

    def __init__(self, source: BinaryIO, key: bytes, *, ctx: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise CryptoError("keys are 32 bytes")
        self._source = source
        prefix = self._read(8)
        if len(prefix) != 8 or prefix[:4] != MAGIC:
            raise StreamError("not an encrypted file")
        self._chunk_size = int.from_bytes(prefix[4:], "big")
        if not 0 < self._chunk_size <= _MAX_CHUNK:
            raise StreamError("bad chunk size")
        header = self._read(HEADER_BYTES)
        if len(header) != HEADER_BYTES:
            raise StreamError("truncated header")
        self._ad = prefix + ctx
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        try:
            sodium.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, key)
        except nacl.exceptions.CryptoError as exc:
            raise StreamError("bad stream header") from exc

    def _read(self, size: int) -> bytes:
        """Read ``size`` bytes, or fewer only at the end: sockets and object stores may return less."""
        parts = []
        while size:
            part = self._source.read(size)
            if not part:
                break
            parts.append(part)
            size -= len(part)
        return b"".join(parts)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            chunk = self._read(self._chunk_size + OVERHEAD)
            if not chunk:
                raise StreamError("the file ends before its last chunk: truncated")
            try:
                plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(self._state, chunk, self._ad)
            except nacl.exceptions.CryptoError as exc:
                raise StreamError("a chunk was changed, reordered or belongs to another file") from exc
            if tag == _TAG_FINAL:
                if self._read(1):
                    raise StreamError("data after the last chunk")
                yield plain
                return
            if len(chunk) != self._chunk_size + OVERHEAD:
                raise StreamError("short chunk before the end")
            yield plain


def encrypt_stream(
    chunks: Iterable[bytes], sink: Sink, key: bytes, *, ctx: bytes, chunk_size: int = DEFAULT_CHUNK
) -> int:
    """Encrypt an iterable of byte strings into ``sink``; returns the plaintext length."""
    writer = StreamWriter(sink, key, ctx=ctx, chunk_size=chunk_size)
    for chunk in chunks:
        writer.write(chunk)
    writer.close()
    return writer.plaintext_bytes


def decrypt_stream(source: BinaryIO, key: bytes, *, ctx: bytes) -> Iterator[bytes]:
    return iter(StreamReader(source, key, ctx=ctx))
