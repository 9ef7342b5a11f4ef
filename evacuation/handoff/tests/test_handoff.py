"""Partner hand-off end to end: two organisations' key sets in one test database, export by
one, import by the other through the real services, the upload page and the command."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation

import sealbox.handoff as packets
from accounts.models import Role
from audit.models import Action, AuditEntry
from casenotes.services import note_create
from casework import keys
from casework.models import Case
from casework.services import CaseDetails
from evacuation.checkins.services import fate_set
from evacuation.handoff import selectors, services
from evacuation.handoff.models import HandoffExport, HandoffImport, OrgKeys, OrgKeyWrap, Partner
from evacuation.plans.models import EvacuationPlan
from evacuation.plans.services import LegInput, leg_row
from tests.personas import PersonAtRisk, Staff, make_staff, open_case


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@dataclass
class OrgState:
    """One organisation's hand-off keys as rows, so a test can switch the database between
    "us" and "the partner" (the table holds one organisation's keys at a time)."""

    row: dict
    wraps: list[dict]
    identity: packets.Identity

    @classmethod
    def take(cls) -> OrgState:
        row = OrgKeys.objects.get()
        state = cls(
            row={
                "pk": row.pk,
                "box_public_key": bytes(row.box_public_key),
                "verify_key": bytes(row.verify_key),
                "certificate": bytes(row.certificate),
            },
            wraps=[
                {"member_id": w.member_id, "for_recovery": w.for_recovery, "sealed_private": bytes(w.sealed_private)}
                for w in row.wraps.all()
            ],
            identity=row.identity,
        )
        row.delete()
        return state

    def put(self) -> None:
        OrgKeys.objects.all().delete()
        row = OrgKeys.objects.create(**self.row)
        OrgKeyWrap.objects.bulk_create(OrgKeyWrap(keys=row, **wrap) for wrap in self.wraps)


@pytest.fixture
def two_orgs(coordinator: Staff) -> tuple[OrgState, OrgState]:
    """(ours, theirs): both made by org_keys_create; ours is in force afterwards, and each
    knows the other as a partner ("Theirs" here, "Ours" there is added on switching)."""
    services.org_keys_create(actor=coordinator.member)
    theirs = OrgState.take()
    services.org_keys_create(actor=coordinator.member)
    ours = OrgState.take()
    ours.put()
    services.partner_add(
        actor=coordinator.member,
        name="Theirs",
        box_key=theirs.identity.box_public_key,
        verify_key=theirs.identity.verify_key,
    )
    return ours, theirs


def _become(state: OrgState, coordinator: Staff, *, partner_name: str, partner: OrgState) -> Partner:
    state.put()
    return services.partner_add(
        actor=coordinator.member,
        name=partner_name,
        box_key=partner.identity.box_public_key,
        verify_key=partner.identity.verify_key,
    )


def _rich_case(coordinator: Staff) -> PersonAtRisk:
    person = open_case(
        body="They took my brother; I need to leave.", contact_kind="signal", contact_value="+7 900 111 22 33"
    )
    case = person.case
    key = coordinator.private_key
    note_create(
        case=case, author=coordinator.member, author_private_key=key, body="Staff note: do not call after 22:00"
    )
    fate_set(
        case=case,
        actor=coordinator.member,
        actor_private_key=key,
        status="in_hiding",
        information="Fate info: safe flat",
    )
    plan = EvacuationPlan.objects.create(case=case, created_by=coordinator.member)
    leg_row(
        plan=plan,
        case=case,
        case_key=keys.current_case_key(case),
        actor=coordinator.member,
        data=LegInput("rail", "Grozny", "Moscow", "Leg note: night train", None, date(2026, 12, 1), None, ["tickets"]),
    )
    return person


def _export(person: PersonAtRisk, coordinator: Staff, fields: list[str]) -> bytes:
    packet = services.handoff_export(
        case=person.case,
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        partner=Partner.objects.get(name="Theirs"),
        fields=fields,
        consent_how="Consent: agreed in the chat",
        consent_date=date(2026, 11, 20),
    )
    return packet.data


def _opened(case: Case, staff: Staff) -> dict[int, bytes]:
    return keys.case_private_keys(case, staff.member, staff.private_key)


def test_export_then_import_opens_a_new_case_with_exactly_the_chosen_fields(coordinator, caseworker, two_orgs):
    ours, theirs = two_orgs
    person = _rich_case(coordinator)
    data = _export(person, coordinator, ["details", "conversation", "plan"])

    sender = _become(theirs, coordinator, partner_name="Ours", partner=ours)
    before = set(Case.objects.values_list("pk", flat=True))
    case = services.handoff_import(
        actor=coordinator.member, actor_private_key=coordinator.private_key, partner=sender, raw=data
    )

    assert case.pk not in before and case.reply_credential is None
    assert not case.credentials.exists()
    # The on-call team holds the new case's key, like a case from the intake.
    opened = _opened(case, caseworker)
    details = CaseDetails.from_json(keys.details_open(case, opened))
    assert (details.region, details.help_kinds, details.language, details.contact_kind) == (
        "chechnya",
        ["leave_region"],
        "en",
        "signal",
    )
    assert details.contact_value == "" and details.cover_phrase == ""
    assert case.urgency == person.case.urgency
    content = selectors.imported_content(case, opened)
    assert content["partner"] == "Ours" and content["fields"] == ["details", "conversation", "plan"]
    assert set(content) == {
        "partner",
        "record",
        "sealed",
        "flags_stated",
        "version",
        "fields",
        "consent",
        "conversation",
        "plan",
    }
    assert [m["body"] for m in content["conversation"]] == [
        "They took my brother; I need to leave.",
        content["conversation"][1]["body"],  # the automatic acknowledgement
    ]
    assert [m["from"] for m in content["conversation"]] == ["person", "automatic"]
    # The cover (decoy) conversation never leaves.
    assert len(content["conversation"]) == 2
    [leg] = content["plan"]
    assert (leg["from"], leg["to"], leg["notes"], leg["mode"], leg["planned_departure"]) == (
        "Grozny",
        "Moscow",
        "Leg note: night train",
        "rail",
        "2026-12-01",
    )
    assert leg["documents"] == [{"kind": "tickets", "status": "needed"}]
    assert content["consent"] == {"how": "Consent: agreed in the chat", "date": "2026-11-20"}
    raw_row = HandoffImport.objects.get(case=case)
    assert b"Grozny" not in bytes(raw_row.content_ct)
    entry = AuditEntry.objects.filter(action=Action.HANDOFF_IMPORT).get()
    assert entry.details["fields"] == "details.conversation.plan" and "Grozny" not in json.dumps(entry.details)


def test_unchosen_fields_are_not_in_the_packet(coordinator, two_orgs):
    ours, theirs = two_orgs
    person = _rich_case(coordinator)
    data = _export(person, coordinator, ["notes", "fate"])
    # Open it as the partner would, with their private key taken from the coordinator's wrap.
    sender = _become(theirs, coordinator, partner_name="Ours", partner=ours)
    case = services.handoff_import(
        actor=coordinator.member, actor_private_key=coordinator.private_key, partner=sender, raw=data
    )
    content = selectors.imported_content(case, _opened(case, coordinator))
    assert "conversation" not in content and "plan" not in content
    assert [n["body"] for n in content["notes"]] == ["Staff note: do not call after 22:00"]
    assert [(f["status"], f["information"]) for f in content["fate"]] == [("in_hiding", "Fate info: safe flat")]
    details = CaseDetails.from_json(keys.details_open(case, _opened(case, coordinator)))
    assert details.region == "" and details.help_kinds == []


def test_export_is_audited_without_content_and_consent_is_sealed(coordinator, two_orgs):
    person = _rich_case(coordinator)
    _export(person, coordinator, ["details", "conversation", "plan"])
    export = HandoffExport.objects.get()
    assert b"agreed in the chat" not in bytes(export.consent_ct)
    entry = AuditEntry.objects.filter(action=Action.HANDOFF_EXPORT).get()
    assert entry.details["fields"] == "details.conversation.plan"
    assert entry.details["partner"] == Partner.objects.get(name="Theirs").pk
    assert "agreed" not in json.dumps(entry.details) and "brother" not in json.dumps(entry.details)
    opened = _opened(person.case, coordinator)
    consent = json.loads(
        __import__("sealbox").unseal(
            opened[export.case_key_id], bytes(export.consent_ct), ctx=services.consent_ctx(export, person.case)
        )
    )
    assert consent == {"how": "Consent: agreed in the chat", "date": "2026-11-20"}


def test_consent_is_required(coordinator, two_orgs):
    person = _rich_case(coordinator)
    with pytest.raises(services.HandoffRefused, match="agreed"):
        services.handoff_export(
            case=person.case,
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            partner=Partner.objects.get(name="Theirs"),
            fields=["details"],
            consent_how="  ",
            consent_date=date(2026, 11, 1),
        )
    assert not HandoffExport.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.HANDOFF_EXPORT).exists()


def test_export_page_without_consent_is_refused_in_place_and_keeps_the_choices(coordinator, two_orgs):
    person = _rich_case(coordinator)
    client = coordinator.console(language="en")
    partner = Partner.objects.get(name="Theirs")
    response = client.post(
        f"/cases/{person.case.public_id}/handoff/",
        {"partner": partner.pk, "fields": ["details", "notes"], "consent_date": "2026-11-20"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Record how the person agreed to this hand-off." in body
    assert re.search(r'value="notes"[^>]*checked', body) and not re.search(r'value="plan"[^>]*checked', body)
    assert not HandoffExport.objects.exists()


def test_export_page_downloads_a_packet_the_partner_opens(coordinator, two_orgs):
    ours, theirs = two_orgs
    person = _rich_case(coordinator)
    client = coordinator.console(language="ru")
    response = client.get(f"/cases/{person.case.public_id}/handoff/")
    assert response.status_code == 200 and "Передать кейс партнёру" in response.content.decode()
    response = client.post(
        f"/cases/{person.case.public_id}/handoff/",
        {
            "partner": Partner.objects.get(name="Theirs").pk,
            "fields": ["details", "conversation", "plan"],
            "consent_how": "Consent: agreed in the chat",
            "consent_date": "2026-11-20",
        },
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = response.content
    sender = _become(theirs, coordinator, partner_name="Ours", partner=ours)
    upload = SimpleUploadedFile("p.sphandoff", data)
    response = client.post("/handoff/import/", {"partner": sender.pk, "packet": upload})
    assert response.status_code == 302
    new = HandoffImport.objects.get().case
    assert response["Location"] == f"/cases/{new.public_id}/?section=access"
    page = client.get(response["Location"]).content.decode()
    assert "Grozny" in page and "They took my brother" in page
    assert page.index('id="handoff"') < page.index('id="codename"')


@pytest.mark.parametrize(
    ("damage", "english", "russian"),
    [
        (lambda raw: raw[:-20] + raw[-19:], "damaged or changed", "повреждён или изменён"),
        (lambda raw: b"hello\n", "not a hand-off packet", "не пакет передачи"),
    ],
)
def test_a_damaged_packet_is_refused_on_the_page_in_both_languages(coordinator, two_orgs, damage, english, russian):
    ours, theirs = two_orgs
    data = _export(_rich_case(coordinator), coordinator, ["details"])
    sender = _become(theirs, coordinator, partner_name="Ours", partner=ours)
    cases = Case.objects.count()
    for language, text in (("en", english), ("ru", russian)):
        client = coordinator.console(language=language)
        response = client.post(
            "/handoff/import/", {"partner": sender.pk, "packet": SimpleUploadedFile("p", damage(data))}
        )
        assert response.status_code == 400
        assert text in response.content.decode()
    assert Case.objects.count() == cases and not HandoffImport.objects.exists()


def _flip_signature(raw: bytes) -> bytes:
    fields = json.loads(raw)
    sig = bytearray(__import__("base64").b64decode(fields["signature"]))
    sig[0] ^= 1
    fields["signature"] = __import__("base64").b64encode(bytes(sig)).decode()
    return packets.canonical(fields) + b"\n"


def test_tampered_wrong_sender_and_wrongly_addressed_packets_write_nothing(coordinator, two_orgs):
    ours, theirs = two_orgs
    data = _export(_rich_case(coordinator), coordinator, ["details", "conversation"])
    key = coordinator.private_key
    # Wrongly addressed: still "ours" in force, so the packet for "theirs" is not for us.
    wrong_sender_partner = Partner.objects.get(name="Theirs")
    with pytest.raises(services.HandoffRefused, match="addressed to another organisation"):
        services.handoff_import(actor=coordinator.member, actor_private_key=key, partner=wrong_sender_partner, raw=data)
    sender = _become(theirs, coordinator, partner_name="Ours", partner=ours)
    # Wrong sender: the partner chosen is not the one who sent it.
    other = services.partner_add(
        actor=coordinator.member, name="Someone else", box_key=b"\x09" * 32, verify_key=b"\x08" * 32
    )
    with pytest.raises(services.HandoffRefused, match="not sent by the partner you chose"):
        services.handoff_import(actor=coordinator.member, actor_private_key=key, partner=other, raw=data)
    with pytest.raises(services.HandoffRefused, match="signature does not match"):
        services.handoff_import(
            actor=coordinator.member, actor_private_key=key, partner=sender, raw=_flip_signature(data)
        )
    cases = Case.objects.count()
    assert not HandoffImport.objects.exists()
    refused = AuditEntry.objects.filter(action=Action.HANDOFF_IMPORT_REFUSED)
    assert sorted(e.details["reason"] for e in refused) == ["recipient", "sender", "signature"]
    # The genuine packet still opens, once.
    services.handoff_import(actor=coordinator.member, actor_private_key=key, partner=sender, raw=data)
    with pytest.raises(services.HandoffRefused, match="already imported"):
        services.handoff_import(actor=coordinator.member, actor_private_key=key, partner=sender, raw=data)
    assert Case.objects.count() == cases + 1


def test_import_command_in_english_and_russian(coordinator, two_orgs, monkeypatch, tmp_path, capsys):
    ours, theirs = two_orgs
    data = _export(_rich_case(coordinator), coordinator, ["details", "conversation", "plan"])
    _become(theirs, coordinator, partner_name="Ours", partner=ours)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": coordinator.password)
    bad = tmp_path / "bad.sphandoff"
    bad.write_bytes(_flip_signature(data))
    with pytest.raises(CommandError) as caught:
        call_command("handoff_import", str(bad), "--from", "Ours", "--as", coordinator.member.username)
    message = str(caught.value)
    assert "signature does not match" in message and "подпись" in message.lower()
    assert not HandoffImport.objects.exists()
    good = tmp_path / "good.sphandoff"
    good.write_bytes(data)
    call_command("handoff_import", str(good), "--from", "Ours", "--as", coordinator.member.username)
    record = HandoffImport.objects.get()
    assert record.case.public_id in capsys.readouterr().out
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "wrong password")
    with pytest.raises(CommandError, match="Wrong password"):
        call_command("handoff_import", str(good), "--from", "Ours", "--as", coordinator.member.username)
    with pytest.raises(CommandError, match="No partner"):
        call_command("handoff_import", str(good), "--from", "Nobody", "--as", coordinator.member.username)


def test_only_coordinators_holding_the_keys_can_use_them(coordinator, caseworker, two_orgs):
    person = _rich_case(coordinator)
    with pytest.raises(services.HandoffRefused, match="Only a coordinator"):
        services.handoff_export(
            case=person.case,
            actor=caseworker.member,
            actor_private_key=caseworker.private_key,
            partner=Partner.objects.get(name="Theirs"),
            fields=["details"],
            consent_how="yes",
            consent_date=date(2026, 11, 1),
        )
    second = make_staff("coordinator-two", role=Role.COORDINATOR, invited_by=coordinator)
    with pytest.raises(services.HandoffRefused, match="do not hold the hand-off keys"):
        services.org_keys_share(actor=second.member, actor_private_key=second.private_key)
    assert services.coordinators_without_keys() == [second.member]
    assert services.org_keys_share(actor=coordinator.member, actor_private_key=coordinator.private_key) == 1
    assert services.coordinators_without_keys() == []
    assert services.org_keys_share(actor=second.member, actor_private_key=second.private_key) == 0


def test_partner_page_adds_a_partner_and_refuses_a_bad_key(coordinator, two_orgs):
    client = coordinator.console(language="ru")
    response = client.post("/handoff/partners/", {"name": "Partner X", "box_key": "not a key", "verify_key": "00" * 32})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Это не ключ" in body and 'value="Partner X"' in body
    identity = packets.Identity(b"\x05" * 32, b"\x06" * 32)
    response = client.post(
        "/handoff/partners/",
        {"name": "Partner X", "box_key": identity.box_public_key.hex(), "verify_key": identity.verify_key.hex()},
    )
    assert response.status_code == 302
    page = client.get("/handoff/").content.decode()
    assert packets.fingerprint_text(identity.fingerprint) in page


def test_the_imported_person_gets_a_codename_through_the_usual_replacement(coordinator, caseworker, two_orgs):
    from casework.services import codename_burn, person_login

    ours, theirs = two_orgs
    data = _export(_rich_case(coordinator), coordinator, ["details", "conversation"])
    sender = _become(theirs, coordinator, partner_name="Ours", partner=ours)
    key = coordinator.private_key
    case = services.handoff_import(actor=coordinator.member, actor_private_key=key, partner=sender, raw=data)
    issued = codename_burn(case=case, actor=caseworker.member, actor_private_key=caseworker.private_key)
    import sealbox

    session = person_login(sealbox.normalise_codename(issued.codename))
    assert session is not None and session.case.pk == case.pk
