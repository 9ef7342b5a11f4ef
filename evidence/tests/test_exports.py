"""Export packages: only approved redactions under consent, verifiable offline, pseudonyms of
their own, and nothing left behind when the package cannot be made."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pikepdf
import pytest

from audit.models import Action, AuditEntry
from casework import keys
from casework.sealed import Refused
from evidence import derivatives, esf, events, exports, services
from evidence.models import CustodyEntry, EvidenceItem, Export
from evidence.tests.test_locker import TERMS, private_key
from redaction.package import key_fingerprint, verify_package
from tests.personas import PersonAtRisk, Staff

TEXT = "Меня зовут Ислам Дудаев, мой номер +7 928 123-45-67. Держали в Аргуне."
ROOT = Path(__file__).resolve().parents[2]


def approved_item(staff: Staff, person: PersonAtRisk, text: str = TEXT) -> tuple[EvidenceItem, dict[int, bytes]]:
    key = private_key(staff)
    consent = services.consent_record(case=person.case, actor=staff.member, actor_private_key=key, terms=TERMS)
    item = services.item_promote_testimony(
        case=person.case, actor=staff.member, actor_private_key=key, consent=consent, title="t", text=text
    )
    opened = keys.case_private_keys(person.case, staff.member, key)
    derivative = derivatives.derivative_propose(item=item, actor=staff.member, actor_private_key=key, opened=opened)
    plan = derivatives.open_plan(derivative, opened)
    assert plan is not None
    derivatives.derivative_review(
        derivative=derivative, actor=staff.member, actor_private_key=key, opened=opened, removals=plan.removals,
        revision=1, approve=True,
    )  # fmt: skip
    return EvidenceItem.objects.select_related("case", "consent").get(pk=item.pk), opened


def export(
    staff: Staff, person: PersonAtRisk, items: list[EvidenceItem], opened: dict[int, bytes], **kw: object
) -> tuple[bytes, Export]:
    request = exports.ExportRequest(
        kw.pop("kind", "prosecutors"), "Office of the Prosecutor", items, kw.pop("events", ())
    )  # type: ignore[arg-type]
    return exports.export_build(
        case=person.case, actor=staff.member, actor_private_key=private_key(staff), opened=opened, request=request
    )


def test_a_package_verifies_offline_and_carries_only_the_redacted_copy(caseworker: Staff, person: PersonAtRisk) -> None:
    item, opened = approved_item(caseworker, person)
    event = events.event_create(
        case=person.case, actor=caseworker.member, actor_private_key=private_key(caseworker),
        content=esf.Event("Задержание Ислама Дудаева", acts=(esf.Act("arrest", "Ислам Дудаев", place="Аргун"),)),
    )  # fmt: skip
    zipped, record = export(caseworker, person, [item], opened, events=[event])
    public = exports.export_signing_key().public_key
    report = verify_package(zipped, public_key=public)
    assert report.ok, report.render()
    files = zipfile.ZipFile(io.BytesIO(zipped))
    text = files.read(f"items/{item.id.hex}/text.txt").decode()
    assert "Дудаев" not in text and "928" not in text and "Аргуне" in text
    assert "Дудаев" not in files.read("events.json").decode() and "arrest" in files.read("events.csv").decode()
    assert "Дудаев".encode() not in zipped and "Ислам".encode("utf-16-be") not in zipped
    with pikepdf.open(io.BytesIO(files.read("summary.pdf"))) as pdf:
        assert len(pdf.pages) >= 1
    assert record.package_sha256 and AuditEntry.objects.filter(action=Action.EVIDENCE_EXPORT).exists()
    assert "Office" not in str(record.recipient_ct)


def test_the_verify_command_accepts_it_with_the_published_fingerprint(
    caseworker: Staff, person: PersonAtRisk, tmp_path: Path
) -> None:
    item, opened = approved_item(caseworker, person)
    zipped, _ = export(caseworker, person, [item], opened)
    path = tmp_path / "package.zip"
    path.write_bytes(zipped)
    fingerprint = key_fingerprint(exports.export_signing_key().public_key)
    result = subprocess.run(
        [sys.executable, "-m", "redaction", "verify", str(path), "--public-key", fingerprint],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_two_exports_give_the_same_person_unrelated_pseudonyms(caseworker: Staff, person: PersonAtRisk) -> None:
    item, opened = approved_item(caseworker, person)
    texts = [
        zipfile.ZipFile(io.BytesIO(export(caseworker, person, [item], opened)[0])).read(f"items/{item.id.hex}/text.txt")
        for _ in range(2)
    ]
    assert texts[0] != texts[1]


def test_an_unapproved_redaction_blocks_the_export(caseworker: Staff, person: PersonAtRisk) -> None:
    key = private_key(caseworker)
    consent = services.consent_record(case=person.case, actor=caseworker.member, actor_private_key=key, terms=TERMS)
    item = services.item_promote_testimony(
        case=person.case, actor=caseworker.member, actor_private_key=key, consent=consent, title="t", text=TEXT
    )
    opened = keys.case_private_keys(person.case, caseworker.member, key)
    derivatives.derivative_propose(item=item, actor=caseworker.member, actor_private_key=key, opened=opened)
    entries = CustodyEntry.objects.count()
    with pytest.raises(Refused, match="approve"):
        export(caseworker, person, [item], opened)
    assert CustodyEntry.objects.count() == entries and not Export.objects.exists()


def test_a_use_the_person_did_not_agree_to_blocks_the_export(caseworker: Staff, person: PersonAtRisk) -> None:
    item, opened = approved_item(caseworker, person)
    with pytest.raises(Refused, match="did not agree"):
        export(
            caseworker, person, [item], opened, kind="journalists" if "journalists" not in TERMS.uses else "partners"
        )


def test_withdrawn_consent_blocks_the_next_export_and_is_shown_on_earlier_ones(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    item, opened = approved_item(caseworker, person)
    _, earlier = export(caseworker, person, [item], opened)
    assert exports.exports_with_withdrawn_consent(person.case) == []
    services.consent_revoke(consent=item.consent, actor=caseworker.member, actor_private_key=private_key(caseworker))
    item.refresh_from_db()
    with pytest.raises(Refused, match="withdrew"):
        export(caseworker, person, [EvidenceItem.objects.select_related("case", "consent").get(pk=item.pk)], opened)
    assert exports.exports_with_withdrawn_consent(person.case) == [earlier]


def test_the_package_of_an_altered_original_is_refused(caseworker: Staff, person: PersonAtRisk) -> None:
    """Attacker: a database writer who swaps an item's sealed original for another item's (it
    does not open under this item's context) cannot get it exported."""
    item, opened = approved_item(caseworker, person)
    other, _ = approved_item(caseworker, person, "Другой текст, Ахмед Тимиров.")
    EvidenceItem.objects.filter(pk=item.pk).update(original_ct=other.original_ct)
    from casework.sealed import RecordDoesNotOpen

    with pytest.raises(RecordDoesNotOpen):
        export(caseworker, person, [EvidenceItem.objects.select_related("case", "consent").get(pk=item.pk)], opened)
    assert not Export.objects.exists()


def test_a_plan_a_database_writer_replaced_is_not_exported(caseworker: Staff, person: PersonAtRisk) -> None:
    """Attacker: a database writer who seals an empty plan to the case's public key (no private
    key needed) over an approved copy, so the export would carry the original unredacted. The
    approval in the signed custody log names the plan as approved, so the export is refused."""
    from casework.sealed import seal_bytes
    from evidence import crypto
    from evidence.derivatives import Plan
    from evidence.models import Derivative

    item, opened = approved_item(caseworker, person)
    derivative = Derivative.objects.select_related("item__case", "case_key").get(item=item)
    forged = seal_bytes(
        derivative.case_key, Plan([], [], []).to_json(),
        ctx=crypto.derivative_plan_ctx(derivative.id, item.id, item.case),
    )  # fmt: skip
    Derivative.objects.filter(pk=derivative.pk).update(plan_ct=forged)
    with pytest.raises(Refused, match="custody log"):
        export(caseworker, person, [EvidenceItem.objects.select_related("case", "consent").get(pk=item.pk)], opened)
    assert not Export.objects.exists()
