"""The worker removes the encrypted files that killed requests left behind, and nothing else."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from blobstore import LocalBlobStore
from casework.files import blob_name_fields, blob_store
from casework.models import Attachment
from tests.personas import FaceClient, Staff
from tests.test_canary import codename_from_start_page, png_with_text


def _age(store: LocalBlobStore, name: str, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(store.root / name[:2] / name, (past, past))


def _left_by_a_killed_request(store: LocalBlobStore) -> str:
    """A finished file whose request died before the row naming it was committed."""
    with store.writer(name := store.new_name()) as handle:
        handle.write(os.urandom(64))
    return name


@pytest.mark.django_db
def test_the_worker_removes_old_files_no_row_names_and_keeps_the_rest(
    caseworker: Staff, intake_client: FaceClient, settings: Any, all_logs: pytest.LogCaptureFixture
) -> None:
    codename_from_start_page(intake_client)
    photo = SimpleUploadedFile("photo.png", png_with_text("photo", "фото"), content_type="image/png")
    request = {"urgency": "in_hiding", "region": "not_said", "message": "Please help.", "attachments": photo}
    assert intake_client.post("/request/", request).status_code == 302
    store = blob_store()
    named = Attachment.objects.get().blob_name
    old_orphan = _left_by_a_killed_request(store)
    fresh_orphan = _left_by_a_killed_request(store)
    longest = settings.SP_LONGEST_REQUEST_SECONDS
    for name in (named, old_orphan):
        _age(store, name, longest + 60)
    _age(store, fresh_orphan, longest - 60)  # its request may still be running

    all_logs.set_level(logging.INFO)
    call_command("worker", "--once")

    assert sorted(store.names()) == sorted([named, fresh_orphan])
    lines = [record.getMessage() for record in all_logs.records if record.name == "casework.files"]
    assert lines == ["files left by interrupted requests removed: 0 unfinished, 1 finished"]


def test_every_field_that_names_a_stored_file_is_looked_in() -> None:
    """A new kind of stored file must be named by a field the sweep finds, or it is swept away."""
    found = {(model._meta.label, field) for model, field in blob_name_fields()}
    assert ("casework.Attachment", "blob_name") in found
    blobish = {
        (model._meta.label, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if "blob" in field.name.lower()
    }
    assert blobish <= found, f"name these fields blob_name or *_blob_name: {sorted(blobish - found)}"
