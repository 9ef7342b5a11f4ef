"""The padded stream (SPS2): a stored file's size tells a reader of the file store only the
Padmé bucket of the file's size; the file reads back exactly; tampering and a key holder's
malformed padding are refused; memory stays constant. Attackers: a reader of the file store
(sizes), and a writer to it (any byte of a blob)."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import nacl.bindings as sodium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sealbox import StreamError, StreamWriter, context, decrypt_stream, encrypt_stream
from sealbox.padding import bucket
from sealbox.stream import COUNT_BYTES, OVERHEAD, PADDED_MAGIC, stream_size
from sealbox.tests.test_stream import MEMORY_LIMIT, DiscardingSink, generated_plaintext

CHUNK = 64
KEY = bytes(range(32))
CTX = context("attachment.file", 23)
MiB = 1024 * 1024
PREFIX = PADDED_MAGIC + CHUNK.to_bytes(4, "big")


def encrypted(plaintext: bytes, *, chunk_size: int = CHUNK) -> bytes:
    sink = io.BytesIO()
    encrypt_stream([plaintext], sink, KEY, ctx=CTX, chunk_size=chunk_size)
    return sink.getvalue()


def decrypted(ciphertext: bytes) -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(ciphertext), KEY, ctx=CTX))


def plaintext_of(size: int) -> bytes:
    return bytes(i * 7 % 251 for i in range(size))


@pytest.mark.parametrize("size", [0, 1, 59, 60, 63, 64, 65, 127, 128, 129, 5 * CHUNK + 7, 40 * CHUNK + 1])
def test_it_reads_back_exactly_what_was_written_and_stores_the_buckets_size(size: int) -> None:
    plaintext = plaintext_of(size)
    ciphertext = encrypted(plaintext)
    assert ciphertext.startswith(PREFIX)
    assert len(ciphertext) == stream_size(size, chunk_size=CHUNK)
    assert decrypted(ciphertext) == plaintext


def test_files_of_1_000_000_and_1_010_000_bytes_are_stored_the_same_size() -> None:
    small, large = encrypted(plaintext_of(1_000_000), chunk_size=65536), encrypted(bytes(1_010_000), chunk_size=65536)
    assert len(small) == len(large) == stream_size(1_000_000) == stream_size(1_010_000)
    assert decrypted(small) == plaintext_of(1_000_000)
    assert len(small) - 1_000_000 < 0.02 * 1_000_000


@settings(max_examples=100)
@given(st.integers(0, 20_000), st.integers(0, 20_000))
def test_the_stored_size_depends_only_on_the_bucket(first: int, second: int) -> None:
    same_bucket = bucket(first) == bucket(second)
    assert (len(encrypted(bytes(first))) == len(encrypted(bytes(second)))) == same_bucket


@settings(max_examples=100)
@given(st.binary(max_size=6 * CHUNK), st.data())
def test_the_write_pattern_does_not_change_what_is_stored_or_read(plaintext: bytes, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(plaintext)), max_size=12), label="cuts"))
    sink = io.BytesIO()
    writer = StreamWriter(sink, KEY, ctx=CTX, chunk_size=CHUNK)
    for a, b in zip([0, *cuts], [*cuts, len(plaintext)], strict=True):
        writer.write(plaintext[a:b])
    writer.close()
    assert len(sink.getvalue()) == stream_size(len(plaintext), chunk_size=CHUNK)
    assert decrypted(sink.getvalue()) == plaintext


def test_it_yields_no_padding() -> None:
    pieces = list(decrypt_stream(io.BytesIO(encrypted(plaintext_of(3 * CHUNK + 5))), KEY, ctx=CTX))
    assert [len(piece) for piece in pieces] == [CHUNK, CHUNK, CHUNK, 5]


# --- a writer to the file store ----------------------------------------------------------------

PADDED_FILE = encrypted(plaintext_of(9 * CHUNK + 1))  # bucket 640: ten chunks, the last ones zeros


@settings(max_examples=200)
@given(st.data())
def test_every_byte_of_a_padded_file_is_authenticated(data: st.DataObject) -> None:
    ciphertext = bytearray(PADDED_FILE)
    position = data.draw(st.integers(0, len(ciphertext) - 1), label="position")
    ciphertext[position] ^= data.draw(st.integers(1, 255), label="xor")
    with pytest.raises(StreamError):
        decrypted(bytes(ciphertext))


def test_dropping_padding_chunks_is_detected() -> None:
    step = CHUNK + COUNT_BYTES + OVERHEAD
    for cut in range(1, 4):
        with pytest.raises(StreamError):
            decrypted(PADDED_FILE[: len(PADDED_FILE) - cut * step])


def test_a_padded_file_relabelled_as_an_old_one_does_not_open() -> None:
    with pytest.raises(StreamError, match="changed, reordered or belongs to another file"):
        decrypted(b"SPS1" + PADDED_FILE[4:])


def _forged(chunks: list[tuple[bytes, bool]]) -> bytes:
    """A stream written by a buggy or hostile key holder: every chunk authenticates."""
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    out = PREFIX + sodium.crypto_secretstream_xchacha20poly1305_init_push(state, KEY)
    final, message = sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL, 0
    for plain, last in chunks:
        out += sodium.crypto_secretstream_xchacha20poly1305_push(state, plain, PREFIX + CTX, final if last else message)
    return out


def chunk(count: int, content: bytes) -> bytes:
    return count.to_bytes(COUNT_BYTES, "big") + content


@pytest.mark.parametrize(
    "chunks",
    [
        [(chunk(65, bytes(64)), True)],  # more file bytes than the chunk holds
        [(chunk(3, b"abc" + bytes(60) + b"\x01"), True)],  # padding that is not zeros
        [(chunk(3, b"abc" + bytes(61)), False), (chunk(1, b"d" + bytes(63)), True)],  # file after padding
        [(chunk(3, b"abc" + bytes(29)), True)],  # 32 bytes: not the bucket of 3
        [(chunk(64, bytes(64)), False), (chunk(0, bytes(64)), True)],  # 128: not the bucket of 64
        [(chunk(0, b""), True)],  # an empty chunk
        [(b"\x00\x00", True)],  # no room for the count
    ],
    ids=[
        "count-too-large",
        "nonzero-padding",
        "data-after-padding",
        "short-bucket",
        "long-bucket",
        "empty",
        "no-count",
    ],
)
def test_a_key_holders_malformed_padding_is_refused(chunks: list[tuple[bytes, bool]]) -> None:
    with pytest.raises(StreamError):
        decrypted(_forged(chunks))


def test_a_well_formed_forged_stream_does_open_so_the_refusals_above_are_about_padding() -> None:
    assert decrypted(_forged([(chunk(3, b"abc" + bytes(61)), True)])) == b"abc"


# --- constant memory --------------------------------------------------------------------------

STREAM_BYTES = 64 * MiB + 12345  # not a bucket: padding chunks follow the file


def test_encrypting_a_padded_64_mib_file_keeps_memory_under_4_mib() -> None:
    sink = DiscardingSink()
    tracemalloc.start()
    try:
        written = encrypt_stream(generated_plaintext(STREAM_BYTES), sink, KEY, ctx=CTX)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == STREAM_BYTES
    assert sink.written == stream_size(STREAM_BYTES) > STREAM_BYTES + 1 * MiB
    assert peak < MEMORY_LIMIT, f"peak {peak / MiB:.1f} MiB"


def test_decrypting_a_padded_64_mib_file_keeps_memory_under_4_mib(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    with path.open("wb") as sink:
        encrypt_stream(generated_plaintext(STREAM_BYTES), sink, KEY, ctx=CTX)
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
