"""Shredding a case: every row of it in every app, and its stored files, leaving the tombstone.

What belongs to a case is found from Django's model meta, not from a list: every model with a
foreign key (or one-to-one key) to Case, every model with a key to one of those, and so on,
whatever the app. A new model that points at a case, or at anything of a case, is shredded with
it without anyone remembering to add it (test_the_world_fills_every_model_of_a_case in
retention/tests/test_shredding.py fails when such a model appears that the shredding test does
not fill). Jobs carry a case by id in their payload, or are
pointed at by a row of the case (a check-in alert's job): both are deleted too.

Two steps, each safe to repeat:

1. In one transaction: the tombstone is written (state "shredding"), the names of the case's
   stored files are noted (ShredFile), every row of the case is deleted and the Case row is
   reduced to its public id, creation time and closed state; the audit log gets "case shredded"
   with the basis and policy, nothing else. A worker killed in here leaves nothing done.
2. After that commits (transaction.on_commit, and again by the worker's periodic job for any
   tombstone still "shredding"): each noted file is deleted from the store, then its note;
   the tombstone becomes "shredded". A worker killed in here finishes on its next run.

The keys are gone with the rows: no case key wrap is left for any staff key or the recovery
key, so nothing of the case opens with any key (there is nothing left to open).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, models, transaction
from django.db.models.fields.related import ForeignObjectRel

from accounts.models import StaffMember
from audit.models import Action, AuditEntry
from audit.services import audit_record
from casework import keys
from casework.files import blob_name_fields, blob_store
from casework.models import Case
from casework.sealed import lock_case
from jobs.models import Job
from retention import hooks
from retention.models import ShredBasis, ShredFile, Tombstone

logger = logging.getLogger(__name__)

# What a shredding leaves: the tombstone (the Case row itself, and its Tombstone with the
# notes of files still to delete) and the audit log, which holds no content.
KEPT: frozenset[type[models.Model]] = frozenset({Case, Tombstone, ShredFile, AuditEntry})
_MAX_DEPTH = 8


@dataclass
class Shredding:
    case: Case
    files: set[str] = field(default_factory=set)
    jobs: set[int] = field(default_factory=set)
    deleted: dict[str, int] = field(default_factory=dict)


def case_relations(model: type[models.Model] = Case) -> Iterator[ForeignObjectRel]:
    """The keys other models hold to ``model`` (reverse foreign and one-to-one keys)."""
    # include_hidden: a key declared with related_name="+" has no reverse accessor, and
    # _meta.related_objects leaves it out; its rows belong to the case all the same.
    for relation in model._meta.get_fields(include_hidden=True):
        if not isinstance(relation, ForeignObjectRel):
            continue
        if relation.related_model in KEPT or relation.related_model is model:
            continue
        if relation.many_to_many:
            # Nothing points at a case this way today; a new one needs a decision here.
            raise NotImplementedError(f"many-to-many key to {model.__name__} from {relation.related_model}")
        yield relation


def _model_of(relation: ForeignObjectRel) -> type[models.Model]:
    child = relation.related_model
    if not (isinstance(child, type) and issubclass(child, models.Model)):
        raise TypeError(f"a key to a case from something that is not a model: {child!r}")
    return child


def case_owned_models(model: type[models.Model] = Case, depth: int = 0) -> set[type[models.Model]]:
    """Every model whose rows belong to a case, through a chain of keys (for the coverage test)."""
    found: set[type[models.Model]] = set()
    if depth > _MAX_DEPTH:
        return found
    for relation in case_relations(model):
        child = _model_of(relation)
        found.add(child)
        found |= case_owned_models(child, depth + 1)
    return found


def _note_files_and_jobs(rows: models.QuerySet[models.Model], shredding: Shredding) -> None:
    model = rows.model
    for blob_model, name in blob_name_fields():
        if blob_model is model:
            shredding.files |= {value for value in rows.values_list(name, flat=True) if value}
    for forward in model._meta.concrete_fields:
        if forward.is_relation and forward.related_model is Job:
            shredding.jobs |= {value for value in rows.values_list(forward.attname, flat=True) if value}


def delete_tree(rows: models.QuerySet[models.Model], shredding: Shredding, depth: int = 0) -> None:
    """Delete ``rows`` and, first, every row with a key to one of them, however deep."""
    if depth > _MAX_DEPTH:
        raise RuntimeError(f"keys to a case nest deeper than {_MAX_DEPTH} models")
    model = rows.model
    for relation in case_relations(model):
        child = _model_of(relation)
        pks = list(rows.values_list("pk", flat=True))
        if pks:
            delete_tree(child._default_manager.filter(**{f"{relation.field.name}__in": pks}), shredding, depth + 1)
    _note_files_and_jobs(rows, shredding)
    count, _per_model = rows.delete()
    if count:
        label = model._meta.label
        shredding.deleted[label] = shredding.deleted.get(label, 0) + count


def _jobs_delete(shredding: Shredding) -> None:
    """Jobs about the case: by id in the payload, or pointed at by one of its rows."""
    ids = set(Job.objects.filter(payload__case=shredding.case.pk).values_list("pk", flat=True)) | shredding.jobs
    if ids:
        delete_tree(Job.objects.filter(pk__in=ids), shredding)


@dataclass(frozen=True)
class Closing:
    at: datetime
    reason: str


def closing_on_record(case: Case) -> Closing | None:
    """When and why ``case`` was last closed, from the hash-chained audit log (not the state-history rows a database writer
    could plant); None unless its last state
    change closed it (a reopened case has no due date)."""
    entry = (
        AuditEntry.objects.filter(action=Action.CASE_TRANSITION, case_public_id=case.public_id)
        .order_by("-sequence")
        .first()
    )
    if entry is None or entry.details.get("to") != Case.Status.CLOSED:
        return None
    return Closing(at=entry.at, reason=str(entry.details.get("reason", "")))


def _rows_delete(locked: Case, shredding: Shredding) -> None:
    # The case row's own keys first: its reply credential is one of the rows deleted below.
    keys.case_recertify(locked, reply_credential_id=None, under_duress_since=None, team=None)
    for relation in case_relations(Case):
        child = _model_of(relation)
        delete_tree(child._default_manager.filter(**{relation.field.name: locked}), shredding)
    _jobs_delete(shredding)
    Case.objects.filter(pk=locked.pk).update(details_ct=b"", last_person_message_at=None, revision=locked.revision + 1)


def case_shred(
    case: Case,
    *,
    basis: str,
    policy_days: int | None = None,
    actor: StaffMember | None = None,
) -> Tombstone:
    """Shred ``case`` (see the module's docstring). Running it again on a shredded case does
    nothing; on one whose files are still being deleted, it deletes them."""
    with transaction.atomic():
        locked = lock_case(case)
        tombstone = Tombstone.objects.filter(case=locked).first()
        if tombstone is not None and not shredded_on_record().filter(case_public_id=locked.public_id).exists():
            # Planted by a database writer (to keep the case past its time, or to make a
            # shredding look done): it counts for nothing; the case is shredded as asked.
            logger.warning("case %s: a tombstone without its audit entry; shredding it now", locked.pk)
            tombstone.delete()
            tombstone = None
        if tombstone is None:
            tombstone = _shred_rows(locked, basis=basis, policy_days=policy_days, actor=actor)
    if tombstone.state != Tombstone.State.SHREDDED:
        transaction.on_commit(lambda: case_shred_files(tombstone.pk))
    return tombstone


def _shred_rows(locked: Case, *, basis: str, policy_days: int | None, actor: StaffMember | None) -> Tombstone:
    if basis not in ShredBasis.values:
        raise ValueError(f"unknown shredding basis {basis!r}")
    closing = closing_on_record(locked)
    closed_at, reason = (closing.at, closing.reason) if closing else (None, "")
    tombstone = Tombstone.objects.create(
        case=locked, closed_at=closed_at, closing_reason=reason, basis=basis, policy_days=policy_days
    )
    hooks.case_shredding.run(hooks.CaseShredding(locked))
    shredding = Shredding(case=locked)
    _rows_delete(locked, shredding)
    ShredFile.objects.bulk_create([ShredFile(tombstone=tombstone, blob_name=name) for name in sorted(shredding.files)])
    details: dict[str, str | int | None] = {"basis": basis, "files": len(shredding.files)}
    if policy_days is not None:
        details.update(reason=reason, keep_days=policy_days)
    audit_record(actor=actor, action=Action.CASE_SHRED, case=locked, details=details)
    logger.info("case %s shredded (%s): %d rows", locked.pk, basis, sum(shredding.deleted.values()))
    return tombstone


def case_shred_files(tombstone_pk: int) -> None:
    """Delete the noted files of a shredding from the store, one by one (each note goes once
    its file is gone), then mark the tombstone shredded. Safe to run any number of times."""
    store = blob_store()
    for note in ShredFile.objects.filter(tombstone_id=tombstone_pk).order_by("pk"):
        store.delete(note.blob_name)
        note.delete()
    Tombstone.objects.filter(pk=tombstone_pk).update(state=Tombstone.State.SHREDDED)
    _free_pages_clear()


def files_delete(names: list[str]) -> None:
    """Delete files whose rows are gone (the person's own deletion). A process killed before
    this leaves files no row names: the store's orphan sweep (casework.files) removes them."""
    store = blob_store()
    for name in names:
        store.delete(name)
    _free_pages_clear()


def shredded_on_record() -> models.QuerySet[AuditEntry, str | None]:
    """The public ids of the cases the hash-chained audit log says were shredded: a tombstone
    counts only with its entry (a database writer cannot add one without breaking the chain)."""
    entries = AuditEntry.objects.filter(action=Action.CASE_SHRED, case_public_id__isnull=False)
    return entries.values_list("case_public_id", flat=True)


def unfinished_shreddings_finish() -> int:
    """Finish every shredding a killed worker left with files still stored."""
    pending = list(
        Tombstone.objects.filter(state=Tombstone.State.SHREDDING, case__public_id__in=shredded_on_record()).values_list(
            "pk", flat=True
        )
    )
    for pk in pending:
        case_shred_files(pk)
    return len(pending)


def _free_pages_clear() -> None:
    """Deleted rows must not linger in the database file. SQLite overwrites freed pages
    (secure_delete, config/settings.py) but the write-ahead log keeps the old pages until a
    checkpoint: run one. PostgreSQL keeps dead tuples until VACUUM, which cannot run inside a
    transaction: the worker runs it on the touched tables (see retention.policies)."""
    if connection.in_atomic_block:
        return
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
