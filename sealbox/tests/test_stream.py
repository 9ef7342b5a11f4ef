"""Streaming file encryption in the SPS1 format (unpadded, what files were written in before
padding; still read): round trips in any write pattern, every kind of tampering, memory.
The padded SPS2 format, the default, is tested in test_stream_padding.py."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import nacl.bindings as sodium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sealbox import (
    CryptoError,
    StreamError,
    StreamReader,
    StreamWriter,
    context,
    decrypt_stream,
    encrypt_stream,
    random_key,
)
from sealbox.stream import DEFAULT_CHUNK, HEADER_BYTES, MAGIC, OVERHEAD

CHUNK = 64
PREFIX_BYTES = len(MAGIC) + 4  # magic and chunk size field
FILE_HEADER_BYTES = PREFIX_BYTES + HEADER_BYTES
KEY = bytes(range(32))
CTX = context("attachment.file", 17)
MiB = 1024 * 1024


def encrypted(plaintext: bytes, *, key: bytes = KEY, ctx: bytes = CTX, chunk_size: int = CHUNK) -> bytes:
    sink = io.BytesIO()
    encrypt_stream([plaintext], sink, key, ctx=ctx, chunk_size=chunk_size, pad=False)
    return sink.getvalue()


def decrypted(ciphertext: bytes, *, key: bytes = KEY, ctx: bytes = CTX) -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(ciphertext), key, ctx=ctx))


def chunk_count(size: int, chunk_size: int = CHUNK) -> int:
    # Every chunk but the last is full; the last carries TAG_FINAL and may be short or empty.
    return max(1, -(-size // chunk_size))


def chunks_of(ciphertext: bytes, chunk_size: int = CHUNK) -> tuple[bytes, list[bytes]]:
    step = chunk_size + OVERHEAD
    body = ciphertext[FILE_HEADER_BYTES:]
    return ciphertext[:FILE_HEADER_BYTES], [body[i : i + step] for i in range(0, len(body), step)]


def plaintext_of(size: int) -> bytes:
    return bytes(i * 7 % 251 for i in range(size))


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 5 * CHUNK, 5 * CHUNK + 7])
def test_it_decrypts_what_it_encrypted_around_chunk_boundaries(size: int) -> None:
    plaintext = plaintext_of(size)
    ciphertext = encrypted(plaintext)
    assert ciphertext.startswith(MAGIC + CHUNK.to_bytes(4, "big"))
    assert len(ciphertext) == FILE_HEADER_BYTES + size + chunk_count(size) * OVERHEAD
    assert decrypted(ciphertext) == plaintext


def test_it_yields_the_plaintext_chunk_by_chunk() -> None:
    pieces = list(decrypt_stream(io.BytesIO(encrypted(plaintext_of(3 * CHUNK + 5))), KEY, ctx=CTX))
    assert [len(piece) for piece in pieces] == [CHUNK, CHUNK, CHUNK, 5]


def test_it_round_trips_with_the_default_chunk_size() -> None:
    plaintext = plaintext_of(2 * DEFAULT_CHUNK + 5)
    sink = io.BytesIO()
    assert encrypt_stream([plaintext[:1000], plaintext[1000:]], sink, KEY, ctx=CTX, pad=False) == len(plaintext)
    assert len(sink.getvalue()) == FILE_HEADER_BYTES + len(plaintext) + 3 * OVERHEAD
    assert decrypted(sink.getvalue()) == plaintext


@settings(max_examples=100)
@given(st.binary(max_size=6 * CHUNK), st.data())
def test_the_write_pattern_does_not_change_what_decrypts(plaintext: bytes, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(plaintext)), max_size=12), label="cuts"))
    pieces = [plaintext[a:b] for a, b in zip([0, *cuts], [*cuts, len(plaintext)], strict=True)]
    sink = io.BytesIO()
    writer = StreamWriter(sink, KEY, ctx=CTX, chunk_size=CHUNK, pad=False)
    for piece in pieces:
        writer.write(piece)
    writer.close()
    assert writer.plaintext_bytes == len(plaintext)
    assert len(sink.getvalue()) == FILE_HEADER_BYTES + len(plaintext) + chunk_count(len(plaintext)) * OVERHEAD
    assert decrypted(sink.getvalue()) == plaintext


def test_closing_twice_is_harmless_and_writing_after_close_is_refused() -> None:
    sink = io.BytesIO()
    writer = StreamWriter(sink, KEY, ctx=CTX, chunk_size=CHUNK, pad=False)
    writer.write(b"abc")
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"more")
    assert decrypted(sink.getvalue()) == b"abc"


def test_the_same_file_encrypts_differently_each_time() -> None:
    assert encrypted(b"same photo") != encrypted(b"same photo")


@pytest.mark.parametrize("chunk_size", [0, -1, 16 * MiB + 1])
def test_it_refuses_a_chunk_size_out_of_range(chunk_size: int) -> None:
    with pytest.raises(ValueError, match="chunk size"):
        StreamWriter(io.BytesIO(), KEY, ctx=CTX, chunk_size=chunk_size)


# --- tampering --------------------------------------------------------------------------------

SEVERAL_CHUNKS = plaintext_of(4 * CHUNK + 9)  # five chunks, the last one short


@settings(max_examples=200)
@given(st.data())
def test_it_detects_a_byte_changed_anywhere_in_the_file(data: st.DataObject) -> None:
    ciphertext = bytearray(encrypted(SEVERAL_CHUNKS))
    position = data.draw(st.integers(0, len(ciphertext) - 1), label="position")
    ciphertext[position] ^= data.draw(st.integers(1, 255), label="xor")
    with pytest.raises(StreamError):
        decrypted(bytes(ciphertext))


@pytest.mark.parametrize("index", range(5))
def test_it_detects_a_flipped_byte_in_each_chunk(index: int) -> None:
    header, chunks = chunks_of(encrypted(SEVERAL_CHUNKS))
    tampered = bytearray(chunks[index])
    tampered[len(tampered) // 2] ^= 0x01
    chunks[index] = bytes(tampered)
    with pytest.raises(StreamError, match="changed, reordered"):
        decrypted(header + b"".join(chunks))


def test_it_detects_a_dropped_last_chunk() -> None:
    header, chunks = chunks_of(encrypted(SEVERAL_CHUNKS))
    with pytest.raises(StreamError, match="truncated"):
        decrypted(header + b"".join(chunks[:-1]))


def test_it_detects_a_dropped_final_chunk_that_was_full() -> None:
    header, chunks = chunks_of(encrypted(plaintext_of(3 * CHUNK)))
    assert len(chunks) == 3
    with pytest.raises(StreamError, match="truncated"):
        decrypted(header + b"".join(chunks[:-1]))


def test_it_detects_a_file_cut_at_every_possible_length() -> None:
    ciphertext = encrypted(plaintext_of(2 * CHUNK + 3))
    for length in range(len(ciphertext)):
        with pytest.raises(StreamError):
            decrypted(ciphertext[:length])


def test_it_detects_two_chunks_swapped() -> None:
    header, chunks = chunks_of(encrypted(SEVERAL_CHUNKS))
    chunks[1], chunks[2] = chunks[2], chunks[1]
    with pytest.raises(StreamError):
        decrypted(header + b"".join(chunks))


def test_it_detects_a_duplicated_chunk() -> None:
    header, chunks = chunks_of(encrypted(SEVERAL_CHUNKS))
    with pytest.raises(StreamError):
        decrypted(header + b"".join([chunks[0], *chunks[:-1]]))
    with pytest.raises(StreamError):
        decrypted(header + b"".join([*chunks[:2], chunks[1], *chunks[2:]]))


def test_it_detects_a_chunk_spliced_in_from_another_file_under_the_same_key() -> None:
    header, chunks = chunks_of(encrypted(SEVERAL_CHUNKS))
    _, foreign = chunks_of(encrypted(SEVERAL_CHUNKS))
    chunks[2] = foreign[2]
    with pytest.raises(StreamError):
        decrypted(header + b"".join(chunks))


@pytest.mark.parametrize("size", [4 * CHUNK + 9, 4 * CHUNK, 0])
@pytest.mark.parametrize("extra", [b"\x00", b"trailing data", bytes(CHUNK + OVERHEAD)], ids=["1", "13", "chunk"])
def test_it_detects_bytes_appended_after_the_last_chunk(size: int, extra: bytes) -> None:
    # After a short final chunk the extra bytes are read as part of it and fail to authenticate;
    # after a full one they are found by the explicit end-of-file check.
    with pytest.raises(StreamError):
        decrypted(encrypted(plaintext_of(size)) + extra)


def test_data_after_a_full_final_chunk_is_reported_as_trailing() -> None:
    with pytest.raises(StreamError, match="after the last chunk"):
        decrypted(encrypted(plaintext_of(2 * CHUNK)) + b"x")


def test_it_detects_a_final_chunk_appended_from_another_file() -> None:
    header, chunks = chunks_of(encrypted(SEVERAL_CHUNKS))
    _, other = chunks_of(encrypted(b"x"))
    with pytest.raises(StreamError):
        decrypted(header + b"".join(chunks + other))


def test_it_refuses_a_file_moved_to_another_record() -> None:
    with pytest.raises(StreamError):
        decrypted(encrypted(SEVERAL_CHUNKS), ctx=context("attachment.file", 18))


@pytest.mark.parametrize("size", [0, 5 * CHUNK])
def test_it_refuses_the_wrong_key(size: int) -> None:
    with pytest.raises(StreamError):
        decrypted(encrypted(plaintext_of(size)), key=random_key())


@pytest.mark.parametrize("magic", [b"SPS3", b"sps1", b"\x00\x00\x00\x00"])
def test_it_refuses_a_changed_header_magic(magic: bytes) -> None:
    ciphertext = encrypted(SEVERAL_CHUNKS)
    with pytest.raises(StreamError, match="not an encrypted file"):
        decrypted(magic + ciphertext[len(MAGIC) :])


def test_an_old_file_relabelled_as_padded_does_not_open() -> None:
    # Attacker: a database writer with the file store, who turns an SPS1 file into an SPS2 one
    # hoping it reads differently. The magic is in every chunk's associated data.
    ciphertext = encrypted(SEVERAL_CHUNKS)
    with pytest.raises(StreamError, match="changed, reordered or belongs to another file"):
        decrypted(b"SPS2" + ciphertext[len(MAGIC) :])


@pytest.mark.parametrize("chunk_size", [0, 1, CHUNK - 1, CHUNK + 1, 2 * CHUNK, DEFAULT_CHUNK, 16 * MiB, 2**32 - 1])
def test_it_refuses_a_changed_chunk_size_field(chunk_size: int) -> None:
    ciphertext = encrypted(SEVERAL_CHUNKS)
    forged = MAGIC + chunk_size.to_bytes(4, "big") + ciphertext[PREFIX_BYTES:]
    with pytest.raises(StreamError):
        decrypted(forged)


def test_it_refuses_an_empty_file_and_a_bare_header() -> None:
    ciphertext = encrypted(b"")
    for cut in (0, PREFIX_BYTES, FILE_HEADER_BYTES):
        with pytest.raises(StreamError):
            decrypted(ciphertext[:cut])


def test_it_refuses_keys_that_are_not_32_bytes() -> None:
    with pytest.raises(CryptoError):
        StreamWriter(io.BytesIO(), bytes(31), ctx=CTX)
    with pytest.raises(CryptoError):
        StreamReader(io.BytesIO(encrypted(b"x")), bytes(31), ctx=CTX)


# --- constant memory --------------------------------------------------------------------------

STREAM_BYTES = 64 * MiB
MEMORY_LIMIT = 4 * MiB


class DiscardingSink(io.RawIOBase):
    def __init__(self) -> None:
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.written += len(data)
        return len(data)


def generated_plaintext(total: int, piece: int = 100_003) -> Iterator[bytes]:
    # Odd-sized pieces, each freshly allocated, as an upload arrives from the network.
    sent = 0
    while sent < total:
        size = min(piece, total - sent)
        yield bytes([sent % 251]) * size
        sent += size


def test_encrypting_64_mib_keeps_memory_under_4_mib() -> None:
    sink = DiscardingSink()
    tracemalloc.start()
    try:
        written = encrypt_stream(generated_plaintext(STREAM_BYTES), sink, KEY, ctx=CTX, pad=False)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == STREAM_BYTES
    assert sink.written == FILE_HEADER_BYTES + STREAM_BYTES + chunk_count(STREAM_BYTES, DEFAULT_CHUNK) * OVERHEAD
    assert peak < MEMORY_LIMIT, f"peak {peak / MiB:.1f} MiB"


def test_decrypting_64_mib_keeps_memory_under_4_mib(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    with path.open("wb") as sink:
        encrypt_stream(generated_plaintext(STREAM_BYTES), sink, KEY, ctx=CTX, pad=False)
    received = 0
    with path.open("rb") as source:
        tracemalloc.start()
        try:
            for piece in decrypt_stream(source, KEY, ctx=CTX):
                received += len(piece)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert received == STREAM_BYTES
    assert peak < MEMORY_LIMIT, f"peak {peak / MiB:.1f} MiB"


@pytest.mark.parametrize("last", [b"short", bytes(CHUNK)], ids=["short", "full"])
def test_it_refuses_a_stream_that_ends_without_the_final_tag_even_from_a_key_holder(last: bytes) -> None:
    # A buggy or hostile writer holding the key: every chunk authenticates, but the layout is wrong.
    prefix = MAGIC + CHUNK.to_bytes(4, "big")
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, KEY)
    first = sodium.crypto_secretstream_xchacha20poly1305_push(
        state, bytes(CHUNK), prefix + CTX, sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
    )
    unfinished = sodium.crypto_secretstream_xchacha20poly1305_push(
        state, last, prefix + CTX, sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
    )
    with pytest.raises(StreamError):
        decrypted(prefix + header + first + unfinished)


class _Trickle(io.RawIOBase):
    """A source that hands out at most 7 bytes a read, as a socket or object store may."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size, 7) if size >= 0 else 7)


def test_it_decrypts_from_a_source_that_returns_short_reads() -> None:
    key, ctx = random_key(), context("attachment.file", b"trickle")
    plaintext = bytes(range(256)) * 40
    sink = io.BytesIO()
    encrypt_stream([plaintext], sink, key, ctx=ctx, chunk_size=100, pad=False)
    assert b"".join(decrypt_stream(_Trickle(sink.getvalue()), key, ctx=ctx)) == plaintext  # type: ignore[arg-type]
