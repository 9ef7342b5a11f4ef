"""The console pages of the evidence locker: the Evidence section of the case page (consents,
kept items, the forms to keep a testimony or one of the person's messages), an item's page
(opening it is a custody entry and an audit entry first), and the custody log's state."""

from __future__ import annotations

import hashlib
import re

import pytest

from accounts.models import Role
from audit.models import Action, AuditEntry
from casenotes.tests.helpers import field_value, text, textarea
from casework import keys
from casework.models import Message
from casework.services import case_member_add
from evidence import selectors
from evidence.custody import log_public_key
from evidence.models import Consent, CustodyEntry, EvidenceItem
from redaction.package import key_fingerprint
from tests.personas import FaceClient, PersonAtRisk, Staff, make_staff

WORDS = "On the call of 3 May she said yes, for journalists and prosecutors, without her name."
TESTIMONY = "They held me in Argun for twelve days.\nThe officer called himself Mohmad."


def _section(case_url: str) -> str:
    return f"{case_url}?section=evidence"


def _record_consent(client: FaceClient, case_url: str, *, how: str = WORDS) -> object:
    form = {"uses": ["journalists", "prosecutors"], "redacted_only": "on", "how": how}
    return client.post(f"{case_url}evidence/consents/", form)


def _keep_testimony(client: FaceClient, case_url: str, consent: Consent, body: str = TESTIMONY) -> object:
    form = {"title": "Detention in Argun", "text": body, "consent": str(consent.pk)}
    return client.post(f"{case_url}evidence/testimonies/", form)


@pytest.fixture
def verifier(coordinator: Staff, caseworker: Staff, person: PersonAtRisk) -> Staff:
    """A verifier named on the person's case: holds its key, does not keep evidence."""
    named = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    case_member_add(
        case=person.case, actor=caseworker.member, actor_private_key=caseworker.private_key, member=named.member
    )
    return named


def test_a_caseworker_records_consent_and_keeps_a_testimony_and_a_message(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    client = caseworker.console(language="en")
    case_url = f"/cases/{person.case.public_id}/"
    response = _record_consent(client, case_url)
    assert (response.status_code, response["Location"]) == (302, _section(case_url))  # type: ignore[attr-defined]
    consent = Consent.objects.get(case=person.case)
    assert WORDS.encode() not in bytes(consent.terms_ct)

    assert _keep_testimony(client, case_url, consent).status_code == 302  # type: ignore[attr-defined]
    message = Message.objects.filter(case=person.case, sender=Message.Sender.PERSON).earliest("created_at")
    kept = client.post(
        f"{case_url}evidence/messages/",
        {"message": str(message.pk), "title": "Her first message", "consent": str(consent.pk)},
    )
    assert (kept.status_code, kept["Location"]) == (302, _section(case_url))

    page = text(client.get(_section(case_url)))
    assert "Journalists, Prosecutors and courts" in page and "only redacted" in page and WORDS in page
    items = page.split("Kept items", 1)[1].split("Keep a testimony", 1)[0]
    assert "Detention in Argun" in items and "Her first message" in items
    assert items.count("original unchanged") == 2 and "consent withdrawn" not in items
    assert "already kept" not in page and "First message from the person." not in page  # opened only when asked
    shown = text(client.get(f"{_section(case_url)}&messages=1"))
    assert "already kept" in shown.split("Keep one of the person's messages", 1)[1]
    stored = {item.kind: item for item in EvidenceItem.objects.filter(case=person.case)}
    assert set(stored) == {"testimony", "message"} and stored["message"].message_id == message.pk
    assert AuditEntry.objects.filter(action=Action.EVIDENCE_CONSENT).count() == 1
    assert AuditEntry.objects.filter(action=Action.EVIDENCE_PROMOTE).count() == 2


def test_opening_an_item_writes_its_custody_and_audit_entries_and_shows_the_original_with_its_hash(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    client = caseworker.console(language="en")
    case_url = f"/cases/{person.case.public_id}/"
    _record_consent(client, case_url)
    _keep_testimony(client, case_url, Consent.objects.get())
    item = EvidenceItem.objects.get()
    before = CustodyEntry.objects.filter(item_id=item.pk).count()

    page = text(client.get(f"{case_url}evidence/{item.pk}/"))
    assert CustodyEntry.objects.filter(item_id=item.pk).count() == before + 1
    viewed = AuditEntry.objects.filter(action=Action.EVIDENCE_VIEW).get()
    assert (viewed.actor_id, viewed.case_public_id, viewed.details) == (
        caseworker.member.pk,
        person.case.public_id,
        {"items": str(item.pk)},
    )
    assert "They held me in Argun for twelve days.<br>The officer called himself Mohmad." in page
    assert hashlib.sha256(TESTIMONY.encode()).hexdigest() in page and "The original is unchanged" in page
    custody = page.split("Custody log", 1)[1]
    actions = re.findall(r'<p class="action">\s*([^<]+?)\s*</p>', custody)
    assert actions == ["kept in the locker", "consent recorded for it", "opened"]
    assert custody.count("verifies") == 3 and "DOES NOT VERIFY" not in custody
    assert custody.count(f"staff-{caseworker.member.pk}") == 3


def test_an_entry_whose_leaf_was_rewritten_does_not_verify_on_the_item_page(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    """Attacker: a database writer who rewrites a leaf hash of the log."""
    client = caseworker.console(language="en")
    case_url = f"/cases/{person.case.public_id}/"
    _record_consent(client, case_url)
    _keep_testimony(client, case_url, Consent.objects.get())
    item = EvidenceItem.objects.get()
    CustodyEntry.objects.filter(index=0).update(leaf_hash=bytes(32))
    page = text(client.get(f"{case_url}evidence/{item.pk}/"))
    assert "DOES NOT VERIFY" in page.split("Custody log", 1)[1]
    broken = text(client.get("/evidence/custody/"))
    assert "The log does not hold" in broken and "The log holds:" not in broken


def test_a_withdrawn_consent_marks_its_items_and_a_new_keep_is_refused_in_place_with_the_text_kept(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    client = caseworker.console(language="en")
    case_url = f"/cases/{person.case.public_id}/"
    _record_consent(client, case_url)
    consent = Consent.objects.get()
    _keep_testimony(client, case_url, consent)

    unconfirmed = client.post(f"{case_url}evidence/consents/{consent.pk}/withdraw/", {})
    assert unconfirmed.status_code == 400 and "Tick the box" in text(unconfirmed)
    consent.refresh_from_db()
    assert consent.revoked_at is None

    withdrawn = client.post(f"{case_url}evidence/consents/{consent.pk}/withdraw/", {"confirm": "on"})
    assert (withdrawn.status_code, withdrawn["Location"]) == (302, _section(case_url))
    consent.refresh_from_db()
    assert consent.revoked_at is not None
    page = text(client.get(_section(case_url)))
    assert "consent withdrawn: do not use" in page.split("Kept items", 1)[1]
    assert "Record the person's consent first." in page  # no consent in force: nothing offered

    later = "A second account, typed after she withdrew."
    refused = _keep_testimony(client, case_url, consent, later)
    assert refused.status_code == 400  # type: ignore[attr-defined]
    shown = text(refused)
    assert "The person withdrew this consent: record a new one first." in shown and "Not saved" in shown
    assert textarea(shown, "text") == later
    message = Message.objects.filter(case=person.case, sender=Message.Sender.PERSON).earliest("created_at")
    keep = {"message": str(message.pk), "title": "Her words of that night", "consent": str(consent.pk)}
    refused = client.post(f"{case_url}evidence/messages/", keep)
    assert refused.status_code == 400
    shown = text(refused)
    in_place = shown.split(f'id="message-{message.pk}"', 1)[1]
    assert "The person withdrew this consent: record a new one first." in in_place
    assert field_value(in_place, "title") == "Her words of that night"
    assert EvidenceItem.objects.count() == 1
    actions = [line.action for line in selectors.custody_trail(EvidenceItem.objects.get(), _opened(caseworker, person))]
    assert actions == ["promoted", "consent", "consent-revoked"]


def _opened(staff: Staff, person: PersonAtRisk) -> dict[int, bytes]:
    return keys.case_private_keys(person.case, staff.member, staff.private_key)


def test_a_consent_without_any_use_comes_back_with_the_words_kept(caseworker: Staff, person: PersonAtRisk) -> None:
    client = caseworker.console(language="en")
    response = client.post(f"/cases/{person.case.public_id}/evidence/consents/", {"how": WORDS})
    assert response.status_code == 400
    page = text(response)
    assert "Choose at least one use the person agreed to." in page and textarea(page, "how") == WORDS
    assert not Consent.objects.exists()


def test_a_verifier_holding_the_key_gets_no_evidence_and_an_outsider_gets_nothing(
    caseworker: Staff, verifier: Staff, outsider: Staff, person: PersonAtRisk
) -> None:
    client = caseworker.console(language="en")
    case_url = f"/cases/{person.case.public_id}/"
    _record_consent(client, case_url)
    consent = Consent.objects.get()
    _keep_testimony(client, case_url, consent)
    item = EvidenceItem.objects.get()
    writes = {
        "evidence/consents/": {"uses": ["journalists"], "how": "Yes."},
        f"evidence/consents/{consent.pk}/withdraw/": {"confirm": "on"},
        "evidence/testimonies/": {"title": "t", "text": "x", "consent": str(consent.pk)},
        "evidence/messages/": {"message": str(Message.objects.first().pk), "title": "t", "consent": str(consent.pk)},  # type: ignore[union-attr]
    }
    for staff, status in ((verifier, 403), (outsider, 404)):
        other = staff.console(language="en")
        assert other.get(f"{case_url}evidence/{item.pk}/").status_code == status
        for path, data in writes.items():
            assert other.post(f"{case_url}{path}", data).status_code == status, (staff.member.username, path)
    as_verifier = text(verifier.console(language="en").get(_section(case_url)))
    assert "?section=evidence" not in as_verifier and 'id="evidence"' not in as_verifier
    assert "Detention in Argun" not in as_verifier and 'id="conversation"' in as_verifier
    assert verifier.console().get("/evidence/custody/").status_code == 403
    assert Consent.objects.get().revoked_at is None and EvidenceItem.objects.count() == 1
    assert CustodyEntry.objects.count() == 2  # nothing opened, nothing withdrawn


def test_the_custody_page_shows_the_log_holds_and_the_key_to_publish(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    client = caseworker.console(language="en")
    case_url = f"/cases/{person.case.public_id}/"
    _record_consent(client, case_url)
    _keep_testimony(client, case_url, Consent.objects.get())
    page = text(coordinator.console(language="en").get("/evidence/custody/"))
    assert "The log holds:" in page and key_fingerprint(log_public_key()) in page
    assert re.search(r"<dt>Entries</dt>\s*<dd>2</dd>", page)
    assert person.case.public_id not in page and "Argun" not in page


def test_the_evidence_pages_are_in_russian(caseworker: Staff, person: PersonAtRisk) -> None:
    client = caseworker.console(language="ru")
    case_url = f"/cases/{person.case.public_id}/"
    _record_consent(client, case_url)
    _keep_testimony(client, case_url, Consent.objects.get())
    section = text(client.get(_section(case_url)))
    assert "Доказательства" in section and "Согласие человека" in section
    assert "Журналисты, Прокуратура и суды" in section and "Сохранить как доказательство" in section
    item = text(client.get(f"{case_url}evidence/{EvidenceItem.objects.get().pk}/"))
    assert "Журнал хранения" in item and "сохранено в хранилище" in item and "проверяется" in item
    assert "Журнал цел" in text(client.get("/evidence/custody/"))
