"""Baselines measured in this process with the project's own crypto core (no Django, no HTTP):
what the server cannot do faster than, measured in the same run as the load it explains."""

from __future__ import annotations

import os
import secrets
import statistics
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sealbox

MIB = 1024 * 1024


@dataclass
class Timing:
    median: float  # wall seconds
    samples: list[float]
    cpu_median: float = float("nan")  # CPU seconds of this process over the same work


def argon2_derivation(samples: int = 7) -> Timing:
    """One codename login's Argon2id, with the production parameters (never lowered here)."""
    pepper = secrets.token_bytes(32)
    times, cpu = [], []
    for _ in range(samples):
        codename = sealbox.normalise_codename(sealbox.generate_codename("ru"))
        began, began_cpu = time.perf_counter(), time.process_time()
        sealbox.derive_codename_secrets(codename, pepper=pepper, params=sealbox.PRODUCTION_ARGON2)
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return Timing(statistics.median(times), times, statistics.median(cpu))


def message_crypto(body: str, *, rounds: int = 2000) -> Timing:
    """The crypto of one submitted message as casework.services does it: a fresh data key,
    the body encrypted under it, and the key sealed twice (to the person's credential and to
    the case key). Median of per-batch averages (batches of 100), in seconds per message."""
    person = sealbox.KeyPair.generate()
    case = sealbox.KeyPair.generate()
    raw = body.encode()
    batch = 100
    per_message = []
    began_cpu = time.process_time()
    for _ in range(max(1, rounds // batch)):
        began = time.perf_counter()
        for _ in range(batch):
            message_id = uuid.uuid4()
            key = sealbox.random_key()
            sealbox.encrypt(key, raw, ctx=sealbox.context("message.body", message_id.bytes))
            key_ctx = sealbox.context("message.key", message_id.bytes)
            sealbox.seal(person.public_key, key, ctx=key_ctx)
            sealbox.seal(case.public_key, key, ctx=key_ctx)
        per_message.append((time.perf_counter() - began) / batch)
    cpu = (time.process_time() - began_cpu) / (len(per_message) * batch)
    return Timing(statistics.median(per_message), per_message, cpu)


class _Discard:
    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return len(data)


def _plaintext(total: int, piece: int) -> Iterator[bytes]:
    block = os.urandom(piece)
    sent = 0
    while sent < total:
        take = min(piece, total - sent)
        yield block if take == piece else block[:take]
        sent += take


def secretstream(total: int, *, piece: int, sink_path: Path | None = None) -> Timing:
    """sealbox.StreamWriter over ``total`` bytes written in ``piece``-sized writes (the upload
    handler's chunk size) into a discarding sink, or into a real file that is then fsynced as
    the blob store does. Returns the elapsed seconds (one sample: 200 MiB is long enough)."""
    key = sealbox.random_key()
    ctx = sealbox.context("attachment", "file", uuid.uuid4().bytes)
    began_cpu = time.process_time()
    if sink_path is None:
        sink = _Discard()
        began = time.perf_counter()
        writer = sealbox.StreamWriter(sink, key, ctx=ctx)
        for chunk in _plaintext(total, piece):
            writer.write(chunk)
        writer.close()
        took = time.perf_counter() - began
    else:
        began = time.perf_counter()
        with sink_path.open("xb") as handle:
            writer = sealbox.StreamWriter(handle, key, ctx=ctx)
            for chunk in _plaintext(total, piece):
                writer.write(chunk)
            writer.close()
            handle.flush()
            os.fsync(handle.fileno())
        took = time.perf_counter() - began
        sink_path.unlink()
    return Timing(took, [took], time.process_time() - began_cpu)
