"""Partner and own hand-off keys are certified with the instance secret: a database writer who
swaps them gets refusals, never an export to their key or a forged packet accepted; replays
and malformed packets are refused and audited."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError

import sealbox
import sealbox.handoff as packets
from audit.models import Action, AuditEntry
from casework.models import Case, CaseHeldViaTeam
from evacuation.handoff import services
from evacuation.handoff.models import HandoffExport, HandoffImport, OrgKeys, Partner
from evacuation.handoff.tests.test_handoff import _english, _export, _rich_case, two_orgs  # noqa: F401

UNTRUSTED = "This partner's keys cannot be trusted; add the partner again after comparing the fingerprint."


def _refusals() -> list[str]:
    return [e.details["reason"] for e in AuditEntry.objects.filter(action=Action.HANDOFF_IMPORT_REFUSED).order_by("pk")]


def _as_theirs_sending_to_us(coordinator, ours, theirs) -> bytes:
    """A genuine packet from "theirs" to "ours"; afterwards "ours" is in force again."""
    theirs.put()
    services.partner_add(
        actor=coordinator.member, name="Ours", box_key=ours.identity.box_public_key, verify_key=ours.identity.verify_key
    )
    data = services.handoff_export(
        case=_rich_case(coordinator).case,
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        partner=Partner.objects.get(name="Ours"),
        fields=["details", "conversation"],
        consent_how="agreed",
        consent_date=date(2026, 11, 20),
    ).data
    ours.put()
    return data


def test_partner_add_certifies_the_row_and_export_uses_it(coordinator, two_orgs):  # noqa: F811
    partner = Partner.objects.get(name="Theirs")
    assert partner.certificate and services.trusted_partner_identity(partner) == two_orgs[1].identity
    assert services.trusted_org_identity(OrgKeys.objects.get()) == two_orgs[0].identity
    assert _export(_rich_case(coordinator), coordinator, ["details"])


@pytest.mark.parametrize("change", ["box", "verify", "name", "certificate_from_another_row", "no_certificate"])
def test_a_database_writer_changing_a_partner_row_gets_the_export_refused(coordinator, two_orgs, change):  # noqa: F811
    other = services.partner_add(actor=coordinator.member, name="Other", box_key=b"\x09" * 32, verify_key=b"\x08" * 32)
    row = Partner.objects.filter(name="Theirs")
    attacker = sealbox.KeyPair.generate().public_key
    if change == "box":
        row.update(box_public_key=attacker)
    elif change == "verify":
        row.update(verify_key=attacker)
    elif change == "name":
        row.update(name="Theirs 2")
    elif change == "certificate_from_another_row":
        row.update(certificate=bytes(other.certificate))
    else:
        row.update(certificate=None)
    person = _rich_case(coordinator)
    target = "Theirs 2" if change == "name" else "Theirs"
    with pytest.raises(services.HandoffRefused, match="cannot be trusted"):
        services.handoff_export(
            case=person.case,
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            partner=Partner.objects.get(name=target),
            fields=["details"],
            consent_how="agreed",
            consent_date=date(2026, 11, 20),
        )
    assert not HandoffExport.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.HANDOFF_EXPORT).exists()


def test_a_forged_packet_from_a_swapped_partner_row_is_refused_and_audited(coordinator, two_orgs):  # noqa: F811
    ours, theirs = two_orgs
    attacker = sealbox.SigningKeyPair.generate()
    partner = Partner.objects.get(name="Theirs")
    forged = packets.packet_seal(
        {"version": 1, "fields": ["details"], "consent": {"how": "x", "date": "2026-11-20"}},
        sender=packets.Identity(theirs.identity.box_public_key, attacker.public_key),
        sender_seed=attacker.seed,
        recipient=ours.identity,
        packet_id=bytes(16),
    )
    Partner.objects.filter(pk=partner.pk).update(
        verify_key=attacker.public_key,
        fingerprint=packets.fingerprint(theirs.identity.box_public_key, attacker.public_key).hex(),
    )
    cases = Case.objects.count()
    with pytest.raises(services.HandoffRefused) as refused:
        services.handoff_import(
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            partner=Partner.objects.get(pk=partner.pk),
            raw=forged,
        )
    assert str(refused.value) == UNTRUSTED
    assert Case.objects.count() == cases and not HandoffImport.objects.exists()
    assert _refusals() == ["partner"]


def test_swapped_own_public_keys_refuse_export_and_import(coordinator, two_orgs):  # noqa: F811
    ours, theirs = two_orgs
    data = _as_theirs_sending_to_us(coordinator, ours, theirs)
    attacker = sealbox.KeyPair.generate()
    OrgKeys.objects.update(box_public_key=attacker.public_key)
    with pytest.raises(services.HandoffRefused, match="hand-off keys cannot be trusted"):
        _export(_rich_case(coordinator), coordinator, ["details"])
    with pytest.raises(services.HandoffRefused, match="hand-off keys cannot be trusted"):
        services.handoff_import(
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            partner=Partner.objects.get(name="Theirs"),
            raw=data,
        )
    assert not HandoffImport.objects.exists()
    page = coordinator.console(language="en").get("/handoff/").content.decode()
    assert "hand-off keys cannot be trusted" in page and attacker.public_key.hex() not in page


def test_a_replayed_packet_is_refused_and_audited(coordinator, two_orgs):  # noqa: F811
    ours, theirs = two_orgs
    data = _as_theirs_sending_to_us(coordinator, ours, theirs)
    partner = Partner.objects.get(name="Theirs")
    key = coordinator.private_key
    services.handoff_import(actor=coordinator.member, actor_private_key=key, partner=partner, raw=data)
    with pytest.raises(services.HandoffRefused, match="already imported"):
        services.handoff_import(actor=coordinator.member, actor_private_key=key, partner=partner, raw=data)
    assert _refusals() == ["replay"]
    assert HandoffImport.objects.count() == 1


def test_an_integrity_error_other_than_the_replay_is_not_called_a_replay(coordinator, two_orgs, monkeypatch):  # noqa: F811
    ours, theirs = two_orgs
    data = _as_theirs_sending_to_us(coordinator, ours, theirs)

    def broken(*args, **kwargs):
        raise IntegrityError("some other constraint")

    monkeypatch.setattr(CaseHeldViaTeam.objects, "bulk_create", broken)
    with pytest.raises(IntegrityError, match="some other constraint"):
        services.handoff_import(
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            partner=Partner.objects.get(name="Theirs"),
            raw=data,
        )
    assert not HandoffImport.objects.exists() and _refusals() == []


def test_a_deeply_nested_packet_is_refused_as_damaged(coordinator, two_orgs):  # noqa: F811
    raw = b"[" * 200_000 + b"]" * 200_000 + b"\n"
    with pytest.raises(services.HandoffRefused, match="not a hand-off packet"):
        services.handoff_import(
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            partner=Partner.objects.get(name="Theirs"),
            raw=raw,
        )
    assert _refusals() == ["format"]


def test_export_page_shows_the_partner_fingerprint_and_flags_an_untrusted_one(coordinator, two_orgs):  # noqa: F811
    person = _rich_case(coordinator)
    partner = Partner.objects.get(name="Theirs")
    client = coordinator.console(language="en")
    page = client.get(f"/cases/{person.case.public_id}/handoff/").content.decode()
    assert partner.fingerprint_text in page and "cannot be trusted" not in page
    Partner.objects.filter(pk=partner.pk).update(certificate=None)
    page = client.get(f"/cases/{person.case.public_id}/handoff/").content.decode()
    assert partner.fingerprint_text in page and "cannot be trusted" in page


def test_the_untrusted_partner_warning_is_in_russian_too(coordinator, two_orgs):  # noqa: F811
    Partner.objects.filter(name="Theirs").update(certificate=None)
    page = coordinator.console(language="ru").get("/handoff/").content.decode()
    assert "Ключам этого партнёра нельзя доверять" in page
