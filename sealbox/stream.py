"""Streaming file encryption in constant memory with libsodium's secretstream.

A file is cut into fixed-size plaintext chunks; each is pushed through
crypto_secretstream_xchacha20poly1305, whose per-chunk state makes a dropped, repeated or
reordered chunk fail to open, and whose FINAL tag on the last chunk makes truncation visible.

File formats:

    "SPS2" | chunk_size(4, big-endian) | secretstream header(24) | chunk ciphertexts...   (padded)
    "SPS1" | chunk_size(4, big-endian) | secretstream header(24) | chunk ciphertexts...   (before padding)

SPS2 (what StreamWriter writes by default) pads the file to its Padmé bucket
(sealbox.padding.bucket: the stored size tells a reader only that bucket, never the exact size).
Each chunk's plaintext is ``n(4, big-endian) | content``: ``content`` is chunk_size bytes in every
chunk but the last (which holds the rest of the bucket, at least one byte), its first ``n`` bytes
are the file's and the rest zeros. Chunks are all file bytes, then at most one part-filled chunk,
then only zeros; the content of all chunks adds up to exactly bucket(file size), and the reader
refuses anything else. The true size is thus authenticated chunk by chunk, and a reader learns
where the file ends only as it gets there, in constant memory.

SPS1 (still read, written only with ``pad=False``): every chunk holds exactly chunk_size plaintext
bytes (chunk_size + 17 on disk) but the last, which may be shorter, even empty.

In both, the last chunk carries TAG_FINAL, and each chunk's associated data is the file prefix
(magic and chunk size) plus the caller's context, so a file cannot be moved to another record, nor
its magic changed to read it the other way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from hmac import compare_digest
from typing import BinaryIO, Protocol

import nacl.bindings as sodium
import nacl.exceptions

from sealbox.boxes import KEY_BYTES, CryptoError
from sealbox.padding import bucket

MAGIC = b"SPS1"
PADDED_MAGIC = b"SPS2"
COUNT_BYTES = 4  # SPS2: how many of a chunk's content bytes are the file's
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
    """Encrypts whatever is written into ``sink`` chunk by chunk; call ``close`` to finish.
    Padded (SPS2) unless ``pad`` is False (SPS1, the format before padding)."""

    def __init__(
        self, sink: Sink, key: bytes, *, ctx: bytes, chunk_size: int = DEFAULT_CHUNK, pad: bool = True
    ) -> None:
        if len(key) != KEY_BYTES:
            raise CryptoError("keys are 32 bytes")
        if not 0 < chunk_size <= _MAX_CHUNK:
            raise ValueError("chunk size out of range")
        self._sink = sink
        self._chunk_size = chunk_size
        self._pad = pad
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        prefix = (PADDED_MAGIC if pad else MAGIC) + chunk_size.to_bytes(4, "big")
        self._ad = prefix + ctx
        self._buffer = bytearray()
        self._closed = False
        self.plaintext_bytes = 0
        self._content_bytes = 0  # SPS2: file and padding bytes pushed so far
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
            self._push(view[start : start + size], size, _TAG_MESSAGE)
        view.release()
        del self._buffer[:cut]

    def close(self) -> None:
        if self._closed:
            return
        if not self._pad:
            self._push(bytes(self._buffer), len(self._buffer), _TAG_FINAL)
        else:
            # The rest of the bucket: what is left of the file in one chunk, then zeros.
            left = bucket(self.plaintext_bytes) - self._content_bytes
            data = bytes(self._buffer)
            while left:
                content = min(self._chunk_size, left)
                left -= content
                self._push(data, content, _TAG_FINAL if not left else _TAG_MESSAGE)
                data = b""
        self._buffer.clear()
        self._closed = True

    def _push(self, data: bytes | memoryview, content: int, tag: int) -> None:
        """One chunk: ``data`` (SPS1), or ``data`` counted and padded with zeros to ``content`` bytes (SPS2)."""
        if self._pad:
            plain = len(data).to_bytes(COUNT_BYTES, "big") + bytes(data) + bytes(content - len(data))
            self._content_bytes += content
        else:
            plain = bytes(data)
        self._sink.write(sodium.crypto_secretstream_xchacha20poly1305_push(self._state, plain, self._ad, tag))


class StreamReader:
    """Iterates over the plaintext chunks of an encrypted stream (SPS2 or SPS1), verifying each one."""

    def __init__(self, source: BinaryIO, key: bytes, *, ctx: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise CryptoError("keys are 32 bytes")
        self._source = source
        prefix = self._read(8)
        if len(prefix) != 8 or prefix[:4] not in (MAGIC, PADDED_MAGIC):
            raise StreamError("not an encrypted file")
        self._padded = prefix[:4] == PADDED_MAGIC
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

    def _pull(self) -> tuple[bytes, bool]:
        """The next chunk's plaintext, and whether it is the last one (nothing may follow it)."""
        step = self._chunk_size + OVERHEAD + (COUNT_BYTES if self._padded else 0)
        chunk = self._read(step)
        if not chunk:
            raise StreamError("the file ends before its last chunk: truncated")
        try:
            plain, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(self._state, chunk, self._ad)
        except nacl.exceptions.CryptoError as exc:
            raise StreamError("a chunk was changed, reordered or belongs to another file") from exc
        if tag == _TAG_FINAL:
            if self._read(1):
                raise StreamError("data after the last chunk")
            return plain, True
        if len(chunk) != step:
            raise StreamError("short chunk before the end")
        return plain, False

    def __iter__(self) -> Iterator[bytes]:
        return self._padded_chunks() if self._padded else self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        while True:
            plain, last = self._pull()
            yield plain
            if last:
                return

    def _padded_chunks(self) -> Iterator[bytes]:
        file_bytes = content_bytes = 0
        padding = False  # once a chunk is not all file bytes, every later one is all zeros
        while True:
            plain, last = self._pull()
            count, content = int.from_bytes(plain[:COUNT_BYTES], "big"), plain[COUNT_BYTES:]
            if len(plain) <= COUNT_BYTES or count > len(content) or (padding and count):
                raise StreamError("a padded chunk does not say how much of it is the file")
            if not compare_digest(content[count:], bytes(len(content) - count)):
                raise StreamError("the padding is not all zeros")
            padding = padding or count < len(content)
            file_bytes, content_bytes = file_bytes + count, content_bytes + len(content)
            if last and content_bytes != bucket(file_bytes):
                raise StreamError("the padded size does not match the size of the file")
            if count:
                yield content[:count]
            if last:
                return


def encrypt_stream(
    chunks: Iterable[bytes],
    sink: Sink,
    key: bytes,
    *,
    ctx: bytes,
    chunk_size: int = DEFAULT_CHUNK,
    pad: bool = True,
) -> int:
    """Encrypt an iterable of byte strings into ``sink``; returns the plaintext length."""
    writer = StreamWriter(sink, key, ctx=ctx, chunk_size=chunk_size, pad=pad)
    for chunk in chunks:
        writer.write(chunk)
    writer.close()
    return writer.plaintext_bytes


def decrypt_stream(source: BinaryIO, key: bytes, *, ctx: bytes) -> Iterator[bytes]:
    return iter(StreamReader(source, key, ctx=ctx))


def stream_size(plaintext_bytes: int, *, chunk_size: int = DEFAULT_CHUNK, pad: bool = True) -> int:
    """The size on disk of a ``plaintext_bytes`` file encrypted by StreamWriter."""
    content = bucket(plaintext_bytes) if pad else plaintext_bytes
    chunks = max(1, -(-content // chunk_size))
    per_chunk = OVERHEAD + (COUNT_BYTES if pad else 0)
    return len(MAGIC) + 4 + HEADER_BYTES + content + chunks * per_chunk
