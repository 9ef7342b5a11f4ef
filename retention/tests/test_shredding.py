"""Shredding a case (retention.shred): every row of it in every app and every stored file go,
and only the tombstone and the audit entries stay. Attacker: whoever seizes the server (or a
database dump) after a case was shredded; they must find nothing of it, not even ciphertext
that a key taken later could open."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyrage
import pytest
from django.apps import apps
from django.db import models

from accounts.models import RecoveryKey, StaffMember
from audit.models import Action, AuditEntry
from backups.archive import backup_write
from blobstore import LocalBlobStore
from casework import keys
from casework.files import blob_store
from casework.models import AttachmentOriginalKey, Case, CaseKeyWrap, Message
from core.certificates import certified
from evacuation.checkins.tests.helpers import Clock
from jobs.models import Job
from retention import policies, shred
from retention.models import ShredBasis, ShredFile, Tombstone
from retention.tests.world import World, build_world
from tests.personas import Staff
from tests.plaintext_search import (
    Needle,
    backup_places,
    database_places,
    file_places,
    log_record_places,
    needles_for,
    search_places,
)

pytestmark = pytest.mark.django_db

# Models a case can own that this world does not build, each with the reason. Adding a model
# with a key to a case (or to anything of a case) makes test_the_world_fills_every_model_of_a_case
# fail until it is built in retention/tests/world.py or named here.
NOT_BUILT: dict[str, str] = {
    "casework.PendingWrap": "a key owed to a team member; deleted through its key to the case like the rest",
    "handoff.HandoffImport": "made only by opening a partner's packet, which makes a case of its own",
    "retention.DeletionRequest": "made by the person's deletion (test_self_deletion.py), shredded there too",
    "recovery.Ceremony": "made only while trustees give the case's key (recovery/tests); a shredding in the middle deletes"
    " it, and its sealed shares, through its key to the case like the rest",
    "recovery.CeremonyShare": "a share sealed to a ceremony above, deleted with it",
}


def paths_to_case(model: type[models.Model], depth: int = 0) -> Iterator[str]:
    """Lookups from ``model`` to Case through its forward keys (independent of retention.shred)."""
    if depth > 4:
        return
    for forward in model._meta.concrete_fields:
        if not forward.is_relation or forward.related_model is None:
            continue
        target = forward.related_model
        if target is Case:
            yield forward.name
        elif isinstance(target, type) and target not in (StaffMember,):
            for rest in paths_to_case(target, depth + 1):
                yield f"{forward.name}__{rest}"


def rows_of(case: Case) -> dict[str, int]:
    """How many rows of each model reach ``case`` through a chain of keys."""
    counts: dict[str, int] = {}
    for model in apps.get_models():
        if model in (Case, Tombstone, ShredFile):
            continue
        found = 0
        for path in paths_to_case(model):
            found += model._default_manager.filter(**{path: case.pk}).count()
        if found:
            counts[model._meta.label] = found
    return counts


@pytest.fixture
def world(
    coordinator: Staff,
    caseworker: Staff,
    outsider: Staff,
    verifiers: tuple[Staff, Staff],
    clock: Clock,
    two_orgs: Any,
) -> World:
    return build_world(coordinator, caseworker, outsider, verifiers, clock)


def _ciphertexts(case: Case) -> list[bytes]:
    """Every sealed value of the case's rows (at least 24 bytes), to look for afterwards."""
    found: list[bytes] = [bytes(case.details_ct)]
    for model in shred.case_owned_models():
        binary = [f.attname for f in model._meta.concrete_fields if isinstance(f, models.BinaryField)]
        if not binary:
            continue
        for path in paths_to_case(model):
            for row in model._default_manager.filter(**{path: case.pk}).values_list(*binary):
                found += [bytes(value) for value in row if value is not None and len(value) >= 24]
    return found


def test_the_world_fills_every_model_of_a_case(world: World) -> None:
    owned = {model._meta.label for model in shred.case_owned_models()}
    built = set(rows_of(world.case))
    assert owned - built - set(NOT_BUILT) == set(), "a model of a case that the shredding test does not fill"
    assert set(NOT_BUILT) <= owned, "NOT_BUILT names a model that is no longer a case's"


def test_shredding_leaves_only_the_tombstone(
    world: World,
    coordinator: Staff,
    django_capture_on_commit_callbacks: Callable[..., Any],
    all_logs: pytest.LogCaptureFixture,
) -> None:
    case = world.case
    store = blob_store()
    assert set(store.names()), "the world stores files"
    assert Job.objects.filter(payload__case=case.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        tombstone = shred.case_shred(case, basis=ShredBasis.COORDINATOR, actor=coordinator.member)

    assert rows_of(case) == {}
    assert not Job.objects.filter(payload__case=case.pk).exists()
    assert set(store.names()) == set(), "the case's files and their originals are gone"
    tombstone.refresh_from_db()
    assert tombstone.state == Tombstone.State.SHREDDED
    assert tombstone.closing_reason == "" and tombstone.closed_at is None  # shredded while open
    left = Case.objects.get(pk=case.pk)
    assert bytes(left.details_ct) == b"" and left.status == case.status
    assert left.public_id == case.public_id
    assert certified(left), "the tombstone's case row is certified as it now is (no false alarm)"
    entry = AuditEntry.objects.filter(action=Action.CASE_SHRED, case_public_id=case.public_id).get()
    assert entry.details["basis"] == "coordinator"
    # The words never reached a log, at DEBUG with SQL (ciphertext does, in the SQL statements
    # the test logs at DEBUG, so only the words are looked for there).
    words = [needle for text in world.canaries for needle in needles_for(text, text)]
    assert search_places(log_record_places(all_logs.records), words) == []


def _needles(world: World, sealed: list[bytes]) -> list[Needle]:
    needles = [needle for text in world.canaries for needle in needles_for(text, text)]
    for number, value in enumerate(sealed):
        needles.append(Needle(f"ciphertext {number}", "raw", value))
        needles.append(Needle(f"ciphertext {number}", "hex", value.hex().encode()))  # pg_dump writes bytea as hex
    return needles


@pytest.mark.django_db(transaction=True)
def test_nothing_of_a_shredded_case_is_left_in_the_database_files_or_the_store(
    world: World, coordinator: Staff
) -> None:
    """With every row committed (SQLite's file and write-ahead log, or a pg_dump): before
    shredding, the case's ciphertext is found there (the search works); afterwards, neither
    the words nor any of the ciphertext that a key taken later could open."""
    case = world.case
    store = blob_store()
    sealed = _ciphertexts(case)
    assert len(sealed) > 20
    needles = _needles(world, sealed)
    before = {finding.needle.label for finding in search_places(database_places() + file_places(store.root), needles)}
    assert len(before) > 20, "the control: committed ciphertext is found in the database"

    shred.case_shred(case, basis=ShredBasis.COORDINATOR, actor=coordinator.member)  # files go on commit
    policies.vacuum_after_shredding()

    assert set(store.names()) == set()
    assert search_places(database_places() + file_places(store.root), needles) == []


@pytest.mark.django_db(transaction=True)
def test_a_backup_made_after_shredding_holds_nothing_of_the_case(
    world: World, coordinator: Staff, tmp_path: Path
) -> None:
    """Attacker: whoever later holds a backup and its offline identity (a seized operator's
    machine). A backup made before the shredding holds the case's ciphertext (the control: the
    search reaches the backup's members); one made after it holds neither its words nor any of
    that ciphertext, decrypted or not."""
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    needles = _needles(world, _ciphertexts(world.case))

    def found_in_a_new_backup(name: str) -> set[str]:
        archive = tmp_path / name
        backup_write(archive, recipient=recipient)
        as_written, decrypted = backup_places(archive, identity)
        return {finding.needle.label for finding in search_places(as_written + decrypted, needles)}

    assert len(found_in_a_new_backup("before.age")) > 20, "the control: the backup holds the case's ciphertext"
    shred.case_shred(world.case, basis=ShredBasis.COORDINATOR, actor=coordinator.member)
    policies.vacuum_after_shredding()
    assert found_in_a_new_backup("after.age") == set()


def test_no_key_opens_anything_of_a_shredded_case(
    world: World, coordinator: Staff, caseworker: Staff, verifiers: tuple[Staff, Staff]
) -> None:
    case = world.case
    assert CaseKeyWrap.objects.filter(case_key__case=case, for_recovery=True).exists()
    assert RecoveryKey.objects.exists()
    shred.case_shred(case, basis=ShredBasis.COORDINATOR)
    case.refresh_from_db()
    for staff in (coordinator, caseworker, *verifiers):
        with pytest.raises(keys.NoAccess):
            keys.case_private_keys(case, staff.member, staff.private_key)
    # The recovery key's holders have nothing to try either: no wrap of any version is left,
    # and nothing sealed to a case key (messages, files' originals, notes) to open with one.
    assert not CaseKeyWrap.objects.filter(case_key__case=case).exists()
    assert not Message.objects.filter(case=case).exists()
    assert not AttachmentOriginalKey.objects.filter(attachment__message__case=case).exists()


def test_shredding_twice_is_harmless(
    world: World, coordinator: Staff, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    case = world.case
    with django_capture_on_commit_callbacks(execute=True):
        first = shred.case_shred(case, basis=ShredBasis.COORDINATOR, actor=coordinator.member)
    entries = AuditEntry.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        second = shred.case_shred(Case.objects.get(pk=case.pk), basis=ShredBasis.POLICY)
    assert second.pk == first.pk and second.basis == ShredBasis.COORDINATOR
    assert AuditEntry.objects.count() == entries
    assert Tombstone.objects.get().state == Tombstone.State.SHREDDED


def test_a_worker_killed_between_rows_and_files_finishes_on_its_next_run(
    world: World, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    """Killed after the rows were deleted, before the files: the tombstone says "shredding",
    the file names are noted, and the worker's next sweep deletes them. Killed again after the
    first file: the next run deletes the rest."""
    case = world.case
    store = blob_store()
    names = set(store.names())
    assert len(names) >= 2  # the cleaned copy and the original
    with django_capture_on_commit_callbacks(execute=False):  # the process dies before the commit hooks
        shred.case_shred(case, basis=ShredBasis.COORDINATOR)
    assert rows_of(case) == {}
    assert set(store.names()) == names
    assert Tombstone.objects.get().state == Tombstone.State.SHREDDING

    real_delete = LocalBlobStore.delete
    deleted: list[str] = []

    def dies_after_one(self: LocalBlobStore, name: str) -> None:
        if deleted:
            raise SystemExit("killed")
        real_delete(self, name)
        deleted.append(name)

    monkeypatch.setattr(LocalBlobStore, "delete", dies_after_one)
    with pytest.raises(SystemExit):
        shred.unfinished_shreddings_finish()
    monkeypatch.setattr(LocalBlobStore, "delete", real_delete)
    assert len(set(store.names())) == len(names) - 1
    assert Tombstone.objects.get().state == Tombstone.State.SHREDDING

    assert shred.unfinished_shreddings_finish() == 1
    assert set(store.names()) == set()
    assert Tombstone.objects.get().state == Tombstone.State.SHREDDED
    assert not ShredFile.objects.exists()
    assert shred.unfinished_shreddings_finish() == 0


def test_a_failure_inside_the_rows_step_leaves_the_case_whole(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    case = world.case
    before = rows_of(case)

    def fails(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("killed while deleting")

    monkeypatch.setattr(shred, "_jobs_delete", fails)
    with pytest.raises(RuntimeError):
        shred.case_shred(case, basis=ShredBasis.COORDINATOR)
    assert rows_of(case) == before
    assert not Tombstone.objects.exists()
