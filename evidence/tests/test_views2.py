"""The console pages for redacted copies, export packages and events: a caseworker reviews a
proposed copy (takes a span back, adds one, approves), exports it as a package that verifies,
records an event; earlier exports are flagged once consent is withdrawn; only keepers of
evidence on the case reach any of it."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from accounts.models import Role
from casenotes.tests.helpers import field_value, text
from casework import keys
from casework.services import case_member_add
from evidence import derivatives, esf, events, exports, services
from evidence.models import Derivative, EvidenceItem, Export
from evidence.models import Event as EventRow
from evidence.tests.test_locker import TERMS, private_key
from redaction.package import verify_package
from tests.personas import FaceClient, PersonAtRisk, Staff, make_staff

TESTIMONY = "Меня зовут Ислам Дудаев, мой номер +7 928 123-45-67. Держали в Аргуне. Сосед Ахмед знал."


def _item(staff: Staff, person: PersonAtRisk, words: str = TESTIMONY) -> EvidenceItem:
    key = private_key(staff)
    consent = services.consent_record(case=person.case, actor=staff.member, actor_private_key=key, terms=TERMS)
    return services.item_promote_testimony(
        case=person.case, actor=staff.member, actor_private_key=key, consent=consent, title="Argun", text=words
    )


def _urls(person: PersonAtRisk, item: EvidenceItem) -> tuple[str, str]:
    base = f"/cases/{person.case.public_id}/evidence/{item.pk}/"
    return f"{base}redact/", f"{base}redaction/"


def _keys_checked(page: str) -> list[str]:
    return re.findall(r'name="keep" value="([^"]+)" checked', page)


def _approve_all(client: FaceClient, person: PersonAtRisk, item: EvidenceItem) -> None:
    propose, review = _urls(person, item)
    page = text(client.get(review)) if Derivative.objects.filter(item=item).exists() else ""
    if not page:
        assert client.post(propose).status_code == 302
        page = text(client.get(review))
    form = {
        "revision": field_value(page, "revision"),
        "keep": _keys_checked(page),
        "approve": "1",
        "add_label": "PERSON",
    }
    assert client.post(review, form).status_code == 302


@pytest.fixture
def verifier(coordinator: Staff, caseworker: Staff, person: PersonAtRisk) -> Staff:
    named = make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator)
    case_member_add(
        case=person.case, actor=caseworker.member, actor_private_key=caseworker.private_key, member=named.member
    )
    return named


def test_a_caseworker_takes_a_span_back_adds_one_and_approves(caseworker: Staff, person: PersonAtRisk) -> None:
    item = _item(caseworker, person)
    client = caseworker.console(language="en")
    propose, review = _urls(person, item)
    assert client.get(review).status_code == 404  # no copy yet
    made = client.post(propose)
    assert (made.status_code, made["Location"]) == (302, review)
    page = text(client.get(review))
    checked = _keys_checked(page)
    assert checked and "Name of a person" in page and "Not approved yet" in page
    assert "[PERSON-" in page and "Дудаев" not in page.split('id="preview"', 1)[1].split("</section>", 1)[0]
    phone = next(key for key in checked if key.endswith("-PHONE"))
    form = {
        "revision": field_value(page, "revision"),
        "keep": [key for key in checked if key != phone],
        "add_text": "Сосед",
        "add_label": "PERSON",
        "approve": "1",
    }
    saved = client.post(review, form)
    assert saved.status_code == 302, text(saved)[-3000:]
    assert saved["Location"] == review
    derivative = Derivative.objects.get(item=item)
    assert derivative.reviewed_by_id == caseworker.member.pk and derivative.revision == 2
    opened = keys.case_private_keys(person.case, caseworker.member, private_key(caseworker))
    plan = derivatives.open_plan(derivative, opened)
    assert plan is not None
    (change,) = plan.changes
    assert [r["label"] for r in change["taken_back"]] == ["PHONE"]
    assert [(TESTIMONY[r["start"] : r["end"]], r["source"]) for r in change["added"]] == [("Сосед", "staff")]
    assert change["added"][0]["person"]
    preview = derivatives.preview(derivative, opened)
    assert preview is not None and "928 123-45-67" in preview and "Сосед" not in preview
    page = text(client.get(review))
    history = page.split('id="history"', 1)[1]
    assert "Taken out: «Сосед» (Name of a person)" in history and "Left in: «+7 928 123-45-67»" in history
    assert f"staff-{caseworker.member.pk}" in history and "Approved by" in page
    item_page = text(client.get(f"/cases/{person.case.public_id}/evidence/{item.pk}/"))
    assert "Review the redacted copy" in item_page and "Approved by" in item_page


def test_text_not_in_the_original_and_a_stale_revision_come_back_in_place(
    caseworker: Staff, coordinator: Staff, person: PersonAtRisk
) -> None:
    item = _item(caseworker, person)
    client = caseworker.console(language="en")
    propose, review = _urls(person, item)
    client.post(propose)
    page = text(client.get(review))
    base = {"revision": field_value(page, "revision"), "keep": _keys_checked(page), "add_label": "PERSON"}
    missing = client.post(review, {**base, "add_text": "Грозный"})
    assert missing.status_code == 400 and "That text is not in the original" in text(missing)
    assert field_value(text(missing), "add_text") == "Грозный"
    other = coordinator.console(language="en")
    assert other.post(review, {**base, "keep": [], "approve": "0"}).status_code == 302
    stale = client.post(review, {**base, "approve": "1"})
    shown = text(stale)
    assert stale.status_code == 409 and "Not saved: this was changed while you were editing." in shown
    assert coordinator.member.username in shown  # who saved it in the meantime
    assert field_value(shown, "revision") == "2"
    assert Derivative.objects.get(item=item).reviewed_at is None


def test_an_approved_copy_is_exported_as_a_package_that_verifies(caseworker: Staff, person: PersonAtRisk) -> None:
    item = _item(caseworker, person)
    other = _item(caseworker, person, "A second account, not reviewed.")
    client = caseworker.console(language="en")
    _approve_all(client, person, item)
    events_url = f"/cases/{person.case.public_id}/evidence/events/"
    event = {
        "title": "Задержание в Аргуне", "date": "2017-03", "precision": "month", "place": "Аргун",
        "act_type": "arrest", "victim": "Ислам Дудаев", "perpetrators": "ППСП-2, полк имени Кадырова",
        "source_type": "victim", "reliability": "high",
    }  # fmt: skip
    assert client.post(events_url, event).status_code == 302
    listed = text(client.get(events_url))
    assert "Задержание в Аргуне" in listed and "Arrest" in listed and "ППСП-2, полк имени Кадырова" in listed
    row = EventRow.objects.get()
    opened = keys.case_private_keys(person.case, caseworker.member, private_key(caseworker))
    content = events.open_event(row, opened)
    assert content is not None and content.acts[0].perpetrator_units == ("ППСП-2", "полк имени Кадырова")
    assert content.start == esf.When("2017-03", "month") and content.sources[0].reliability == "high"

    export_url = f"/cases/{person.case.public_id}/evidence/export/"
    page = text(client.get(export_url))
    assert f'value="{item.pk}"' in page and f'value="{other.pk}"' not in page
    assert "no approved redacted copy" in page and "Задержание в Аргуне" in page
    form = {"items": [str(item.pk)], "events": [str(row.pk)], "recipient_kind": "prosecutors", "recipient_name": "ОП"}
    response = client.post(export_url, form)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="evidence-')
    assert "no-store" in response["Cache-Control"]
    report = verify_package(response.content, public_key=exports.export_signing_key().public_key)
    assert report.ok, report.render()
    copy = zipfile.ZipFile(io.BytesIO(response.content)).read(f"items/{item.id.hex}/text.txt").decode()
    assert "Дудаев" not in copy and "Аргуне" in copy
    assert Export.objects.get().recipient_kind == "prosecutors"
    earlier = text(client.get(export_url)).split('id="earlier-exports"', 1)[1]
    assert "Prosecutors and courts" in earlier and "ОП" in earlier and "withdrew consent" not in earlier


def test_a_refused_export_keeps_what_was_typed_and_a_withdrawn_consent_flags_the_earlier_one(
    caseworker: Staff, person: PersonAtRisk
) -> None:
    item = _item(caseworker, person)
    client = caseworker.console(language="en")
    _approve_all(client, person, item)
    export_url = f"/cases/{person.case.public_id}/evidence/export/"
    refused = client.post(
        export_url, {"items": [str(item.pk)], "recipient_kind": "partners", "recipient_name": "Partner NGO"}
    )
    page = text(refused)
    assert refused.status_code == 400 and "The person did not agree to give an item you chose to them." in page
    assert field_value(page, "recipient_name") == "Partner NGO" and not Export.objects.exists()
    made = client.post(
        export_url, {"items": [str(item.pk)], "recipient_kind": "journalists", "recipient_name": "A newspaper"}
    )
    assert made.status_code == 200
    services.consent_revoke(consent=item.consent, actor=caseworker.member, actor_private_key=private_key(caseworker))
    page = text(client.get(export_url))
    assert "the person withdrew consent" in page and f'value="{item.pk}"' not in page
    assert "The person withdrew consent for an item in this package" in page.split('id="earlier-exports"', 1)[1]


def test_an_event_without_a_victim_comes_back_with_the_title_kept(caseworker: Staff, person: PersonAtRisk) -> None:
    client = caseworker.console(language="ru")
    url = f"/cases/{person.case.public_id}/evidence/events/"
    page = text(client.get(url))
    assert "Задержание" in page and "Принудительный аутинг" in page and "Записать событие" in page
    refused = client.post(url, {"title": "Обыск", "precision": "day", "act_type": "arrest",
                                "source_type": "victim", "reliability": "high"})  # fmt: skip
    assert refused.status_code == 400 and field_value(text(refused), "title") == "Обыск"
    assert not EventRow.objects.exists()


def test_a_verifier_and_an_outsider_reach_none_of_these_pages(
    caseworker: Staff, verifier: Staff, outsider: Staff, person: PersonAtRisk
) -> None:
    item = _item(caseworker, person)
    client = caseworker.console(language="en")
    _approve_all(client, person, item)
    propose, review = _urls(person, item)
    case = f"/cases/{person.case.public_id}/evidence/"
    export_form = {"items": [str(item.pk)], "recipient_kind": "journalists", "recipient_name": "x"}
    event_form = {"title": "t", "precision": "day", "act_type": "arrest", "victim": "v", "source_type": "victim",
                  "reliability": "high"}  # fmt: skip
    for staff, status in ((verifier, 403), (outsider, 404)):
        other = staff.console(language="en")
        for url in (review, f"{case}export/", f"{case}events/"):
            assert other.get(url).status_code == status, (staff.member.username, url)
        assert other.post(propose).status_code == status
        assert other.post(review, {"revision": "2", "approve": "1", "add_label": "PERSON"}).status_code == status
        assert other.post(f"{case}export/", export_form).status_code == status
        assert other.post(f"{case}events/", event_form).status_code == status
    assert Derivative.objects.count() == 1 and Derivative.objects.get().revision == 2
    assert not Export.objects.exists() and not EventRow.objects.exists()
