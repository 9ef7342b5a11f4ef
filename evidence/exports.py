"""Export packages: chosen items and events of a case for one recipient, only as consent allows.

Each item goes as its approved redacted copy, rendered under a key made for this export alone
(pseudonyms cannot be joined with another export's), with custody proofs of its receipt and of
the copy; the chosen events go as HURIDOCS-shaped JSON and CSV with their free text through the
same redaction; a PDF summary for a reader on paper. The package (redaction.package) is signed
with the organisation's export key and verified before it is handed out; the custody entries,
the Export row and the audit entry are written in the same transaction, so a package that could
not be made leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import sealbox
from accounts import permissions
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework.models import Case, CaseKey
from casework.sealed import Refused, current_key_for, lock_case, require, seal_text
from evidence import crypto, custody, esf, files, summary
from evidence.derivatives import open_plan
from evidence.events import open_event
from evidence.models import Consent, Derivative, EvidenceItem, Export
from evidence.models import Event as EventRow
from evidence.selectors import approval_in_log, custody_entries, open_consent, open_item
from evidence.services import USES, actor_code
from evidence.timestamps import tsa_certificate
from redaction import package
from redaction.pipeline import Document, propose, render
from sealbox.signing import SigningKeyPair

EXPORT_KEY_PURPOSE = b"sp.export-k.v1"  # BLAKE2b personalisation: at most 16 bytes
EXPORT_KEY_BYTES = 32


def export_signing_key() -> SigningKeyPair:
    return SigningKeyPair.from_seed(sealbox.server_subkey(settings.SP_PEPPER, EXPORT_KEY_PURPOSE))


@dataclass(frozen=True)
class ExportRequest:
    recipient_kind: str  # one of services.USES
    recipient_name: str
    items: Sequence[EvidenceItem]
    events: Sequence[EventRow] = ()


@dataclass(frozen=True)
class _Ready:
    item: EvidenceItem
    derivative: Derivative
    text: bytes  # the derivative's bytes: a redacted text, or a cleaned or painted file
    original_sha256: bytes
    consent: package.Consent
    removed: tuple[str, ...]
    kind: str = "text"
    method: str = "redacted"
    file_name: str = "text.txt"


def export_build(
    *, case: Case, actor: StaffMember, actor_private_key: bytes, opened: Mapping[int, bytes], request: ExportRequest
) -> tuple[bytes, Export]:
    require(permissions.can_keep_evidence(actor), _("Only caseworkers and coordinators keep evidence."))
    require(request.recipient_kind in USES, _("Choose who the package is for."))
    require(bool(request.items), _("Choose at least one item to export."))
    key = secrets.token_bytes(EXPORT_KEY_BYTES)
    ready = [
        _ready(item, case, request.recipient_kind, opened, key, actor, actor_private_key) for item in request.items
    ]
    created_at = timezone.now()
    with transaction.atomic():
        locked = lock_case(case)
        case_key = current_key_for(locked, actor, actor_private_key)
        _still_allowed(ready)
        items = [_package_item(entry, actor, case_key, opened) for entry in ready]
        records = _event_records(request.events, opened, key)
        files = _event_files(records)
        pdf = _summary(request, ready, records, created_at)
        extra = {"summary.pdf": pdf}
        # The authority's certificate is not put in the package: a recipient must get it (like
        # the export key's fingerprint) from somewhere the package cannot forge.
        tsa = tsa_certificate() if settings.SP_TSA_URL else None
        zipped = package.build_package(
            organisation=settings.SP_ORGANISATION_NAME,
            recipient=package.Recipient(request.recipient_kind, request.recipient_name),
            created_at=created_at, log_public_key=custody.log_public_key(), items=items,
            signing_seed=export_signing_key().seed, events=files, extra_files=extra, tsa_cert_pem=tsa,
        )  # fmt: skip
        export = _record(locked, actor, case_key, request, ready, zipped, created_at)
        audit_record(actor=actor, action=Action.EVIDENCE_EXPORT, case=locked, details={"export": str(export.pk)})
    return zipped, export


def _ready(
    item: EvidenceItem, case: Case, kind: str, opened: Mapping[int, bytes], key: bytes, actor: StaffMember,
    actor_private_key: bytes,
) -> _Ready:  # fmt: skip
    require(item.case_id == case.pk, _("That item belongs to another case."))
    consent = item.consent
    require(consent.revoked_at is None, _("The person withdrew consent for an item you chose."))
    terms = open_consent(consent, opened)
    require(
        terms.uses is not None and kind in terms.uses, _("The person did not agree to give an item you chose to them.")
    )
    derivative = item.derivatives.filter(reviewed_at__isnull=False).order_by("-reviewed_at").first()
    if derivative is None:
        raise Refused(_("Review and approve the redaction of every item before exporting it."))
    view = open_item(item, opened)
    if view.original_sha256 is None:
        raise Refused(_("An item you chose cannot be opened, or its original no longer matches its hash."))
    given = package.Consent(str(consent.pk), tuple(terms.uses or ()), consent.recorded_at, consent.revoked_at)
    if item.kind == EvidenceItem.Kind.ATTACHMENT:
        return _ready_file(item, derivative, view.original_sha256, given, opened, actor, actor_private_key)
    plan = open_plan(derivative, opened)
    if view.original is None or plan is None or not view.intact:
        raise Refused(_("An item you chose cannot be opened, or its original no longer matches its hash."))
    _require_logged_approval(item, opened, plan.digest())
    text, _mapping, _replacements = render(view.original.decode("utf-8", errors="replace"), plan.removals, key)
    removed = tuple(sorted({removal.label for removal in plan.removals}))
    return _Ready(item, derivative, text.encode(), view.original_sha256, given, removed)


def _still_allowed(ready: Sequence[_Ready]) -> None:
    """Under the case's lock: no consent withdrawn and no copy changed since they were checked."""
    consents = {r.item.consent_id for r in ready}
    if Consent.objects.filter(pk__in=consents, revoked_at__isnull=False).exists():
        raise Refused(_("The person withdrew consent for an item you chose."))
    for r in ready:
        fresh = Derivative.objects.filter(pk=r.derivative.pk).values_list("revision", "reviewed_at").first()
        if fresh != (r.derivative.revision, r.derivative.reviewed_at):
            raise Refused(_("Review and approve the redaction of every item before exporting it."))


def _require_logged_approval(item: EvidenceItem, opened: Mapping[int, bytes], digest: bytes) -> None:
    if not approval_in_log(item, opened, digest):
        raise Refused(
            _("The approved redaction of an item you chose is not the one in the custody log: review it again.")
        )


_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}


def _ready_file(
    item: EvidenceItem, derivative: Derivative, original_sha256: bytes, given: package.Consent,
    opened: Mapping[int, bytes], actor: StaffMember, actor_private_key: bytes,
) -> _Ready:  # fmt: skip
    plan = files.open_file_plan(derivative, dict(opened))
    if plan is None:
        raise Refused(_("This redaction cannot be opened with your key."))
    _require_logged_approval(item, opened, plan.digest())
    copy = files.cleaned_copy(item, actor, actor_private_key)
    data, method = files.render_file(copy, plan)
    removed: tuple[str, ...] = ("location, camera and other metadata (removed when the file arrived)",)
    removed += (f"{len(plan.rectangles)} painted areas",) if plan.rectangles else ()
    extension = _EXTENSIONS.get(copy.content_type, "bin")
    kind = "pdf" if copy.content_type == "application/pdf" else "image"
    return _Ready(item, derivative, data, original_sha256, given, removed, kind, method, f"file.{extension}")


def _package_item(
    ready: _Ready, actor: StaffMember, case_key: CaseKey, opened: Mapping[int, bytes]
) -> package.PackageItem:
    digest = hashlib.sha256(ready.text).digest()
    code = actor_code(actor)
    custody.custody_append(item=ready.item, action="derivative", actor=code, subject=digest, case_key=case_key)
    custody.custody_append(item=ready.item, action="exported", actor=code, subject=digest, case_key=case_key)
    entries = custody_entries(ready.item, opened)
    wanted = [(i, e) for i, e in entries if e.action == "promoted"] + [
        (i, e) for i, e in entries if e.action == "derivative" and e.subject == digest
    ]
    log = custody.Snapshot()
    bundles = tuple(log.proof(entry, index) for index, entry in wanted)
    reviewer = ready.derivative.reviewed_by
    return package.PackageItem(
        item_id=ready.item.id.bytes, kind=ready.kind, original_sha256=ready.original_sha256,
        derivative=package.Derivative(
            ready.file_name, ready.text, ready.method, ready.removed, actor_code(reviewer) if reviewer else code
        ),
        consent=ready.consent, custody=bundles,
    )  # fmt: skip


def _redacted_texts(texts: list[str], key: bytes) -> dict[str, str]:
    proposals = propose([Document(str(n), text) for n, text in enumerate(texts)])
    return {text: render(p.text, p.removals, key)[0] for text, p in zip(texts, proposals, strict=True)}


def _event_records(events: Sequence[EventRow], opened: Mapping[int, bytes], key: bytes) -> list[dict[str, Any]]:
    contents = []
    for row in events:
        content = open_event(row, opened)
        if content is None:
            raise Refused(_("An event you chose cannot be opened with your key."))
        contents.append((row, content))
    texts = sorted({text for _, content in contents for text in esf.free_texts(content)})
    cleaned = _redacted_texts(texts, key) if texts else {}
    return [esf.to_record(str(row.pk), content, redact=lambda t: cleaned.get(t, t)) for row, content in contents]


def _event_files(records: list[dict[str, Any]]) -> dict[str, bytes]:
    if not records:
        return {}
    return {
        "events.json": (json.dumps(records, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode(),
        "events.csv": esf.to_csv(records).encode(),
    }


def _summary(
    request: ExportRequest, ready: Sequence[_Ready], records: list[dict[str, Any]], created_at: datetime
) -> bytes:
    items = [
        summary.SummaryItem(
            r.item.id.hex, r.item.kind, ", ".join(r.consent.scope),
            r.text.decode() if r.kind == "text" else f"{r.file_name} ({r.method})",
        )
        for r in ready
    ]  # fmt: skip
    listed = [
        summary.SummaryEvent(
            str(record["title"]),
            str((record["start"] or {}).get("date", "")),
            "; ".join(f"{act['type']['en']} / {act['type']['ru']}" for act in record["acts"]),
        )
        for record in records
    ]
    return summary.summary_pdf(
        organisation=settings.SP_ORGANISATION_NAME, recipient=request.recipient_name, created_at=created_at,
        fingerprint=package.key_fingerprint(export_signing_key().public_key), items=items, events=listed,
    )  # fmt: skip


def _record(
    case: Case, actor: StaffMember, case_key: CaseKey, request: ExportRequest, ready: Sequence[_Ready], zipped: bytes,
    created_at: datetime,
) -> Export:  # fmt: skip
    export = Export(
        id=uuid.uuid4(), case=case, made_by=actor, made_at=created_at, recipient_kind=request.recipient_kind,
        item_ids=[str(r.item.pk) for r in ready], consent_ids=sorted({r.consent.id for r in ready}),
        package_sha256=hashlib.sha256(zipped).hexdigest(), case_key=case_key,
    )  # fmt: skip
    export.recipient_ct = seal_text(case_key, request.recipient_name, ctx=crypto.export_recipient_ctx(export.id, case))
    export.save(force_insert=True)
    return export


def exports_with_withdrawn_consent(case: Case) -> list[Export]:
    """The case's exports that carried an item whose consent the person has since withdrawn."""
    withdrawn = {str(pk) for pk in case.evidence_consents.filter(revoked_at__isnull=False).values_list("pk", flat=True)}
    return [e for e in case.evidence_exports.order_by("-made_at") if withdrawn & set(e.consent_ids)]
