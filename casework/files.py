"""The encrypted file store as configured for this instance."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings

from blobstore import LocalBlobStore


@cache
def _store_for(root: str) -> LocalBlobStore:
    return LocalBlobStore(Path(root))


def blob_store() -> LocalBlobStore:
    return _store_for(str(settings.SP_FILE_STORE))
