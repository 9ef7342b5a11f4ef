"""The encrypted file store as configured for this instance, and the sweep of files no row names."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import models

from blobstore import LocalBlobStore
from jobs.models import Job
from jobs.services import periodic_job

logger = logging.getLogger(__name__)
ORPHAN_SWEEP_JOB = "blobs.remove_orphans"
ORPHAN_SWEEP_SECONDS = 3600


@cache
def _store_for(root: str) -> LocalBlobStore:
    return LocalBlobStore(Path(root))


def blob_store() -> LocalBlobStore:
    return _store_for(str(settings.SP_FILE_STORE))


def blob_name_fields() -> list[tuple[type[models.Model], str]]:
    """Every model field that names a file in the store. By convention such a field is called
    ``blob_name`` or ends in ``_blob_name``; a test refuses any other field with "blob" in its
    name, so a new kind of stored file cannot be missed here and swept away."""
    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.name == "blob_name" or field.name.endswith("_blob_name")
    ]


def blobs_named_by_rows(names: list[str]) -> set[str]:
    """Which of ``names`` some row names."""
    fields = blob_name_fields()
    if not fields:  # fail closed: with nothing to look in, every file would look unreferenced
        raise RuntimeError("no model field names a stored file")
    named: set[str] = set()
    for model, field in fields:
        named |= set(model._default_manager.filter(**{f"{field}__in": names}).values_list(field, flat=True))
    return named


def blobs_remove_orphans() -> tuple[int, int]:
    """Remove the files killed requests left behind: unfinished ones, and finished ones no row
    names, each only once older than the longest request. Returns how many of each."""
    store = blob_store()
    age = settings.SP_LONGEST_REQUEST_SECONDS
    partial = store.remove_stale_partials(older_than_seconds=age)
    finished = store.remove_unreferenced(age, blobs_named_by_rows)
    if partial or finished:
        # Counts only: a file's name is random, but nothing about a file need be in the log.
        logger.info("files left by interrupted requests removed: %d unfinished, %d finished", partial, finished)
    return partial, finished


@periodic_job(ORPHAN_SWEEP_JOB, every_seconds=lambda: ORPHAN_SWEEP_SECONDS)
def blobs_remove_orphans_job(job: Job) -> None:
    blobs_remove_orphans()
