"""Keep glibc from handing memory back to the kernel after every large request buffer.

Streaming an upload allocates and frees buffers of a few hundred KiB to a few MiB for every
chunk (gunicorn's body reader, Django's multipart parser, the encrypting upload handler).
With glibc's defaults each freed buffer is unmapped or trimmed off the heap at once, so every
chunk is paid for again in page faults: about 48,000 minor faults, and a third of the worker's
CPU, for a 64 MiB upload (see bench/RESULTS.md). Fixed thresholds keep blocks under 2 MiB on
the heap and let up to 8 MiB of free heap stay mapped; larger blocks (Argon2id's 64 MiB) still
come from, and go back to, mmap. An operator's own MALLOC_* variables win.

The cost: a worker keeps up to 8 MiB of freed heap mapped, and a freed buffer (which may have
held a plaintext chunk) is reused inside the process rather than handed back to the kernel at
once. Nothing leaves the process either way; a worker that has been read from memory while it
handled a request has given that request away regardless.
"""

from __future__ import annotations

import ctypes
import os

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 2 * 1024 * 1024
TRIM_THRESHOLD = 8 * 1024 * 1024


def keep_freed_buffers() -> bool:
    """Returns True when the thresholds were set (glibc), False elsewhere (musl, macOS)."""
    if any(name.startswith("MALLOC_") for name in os.environ):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
