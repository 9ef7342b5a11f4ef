"""Evacuation plans in legs: only for verified cases, places sealed to the case key, the plan's
status following its legs, templates, destinations shown while planning, edit conflicts, and
who may do what."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.utils import translation

import sealbox
from audit.models import Action, AuditEntry
from casework import keys
from casework.sealed import EditConflict, Refused
from evacuation.plans import crypto, selectors, services
from evacuation.plans.models import (
    Destination,
    DocumentStatus,
    EvacuationPlan,
    Leg,
    LegDocument,
    PlanTemplate,
    TemplateLeg,
)
from evacuation.plans.tests.conftest import private_key
from tests.personas import PersonAtRisk, Staff
from tests.plaintext_search import database_places, needles_for, search_places

FROM_PLACE = "Квартира у Тамары, Назрань"
TO_PLACE = "Минеральные Воды, вокзал"
NOTES = "Встреча у третьей кассы в 6:40"


def _plan_url(person: PersonAtRisk) -> str:
    return f"/cases/{person.case.public_id}/plan/"


def _leg_form(**overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "mode": "bus",
        "from_place": FROM_PLACE,
        "to_place": TO_PLACE,
        "notes": NOTES,
        "planned_departure": "2026-12-01",
        "planned_arrival": "2026-12-02",
        "documents": ["internal_passport", "tickets"],
    }
    form.update(overrides)
    return form


def _start_plan(staff: Staff, person: PersonAtRisk) -> EvacuationPlan:
    response = staff.console().post(_plan_url(person))
    assert response.status_code == 302, response.content[:3000]
    return EvacuationPlan.objects.get(case=person.case, is_active=True)


def _leg_input(**overrides: object) -> services.LegInput:
    data = {
        "mode": "rail",
        "from_place": FROM_PLACE,
        "to_place": TO_PLACE,
        "notes": "",
        "destination": None,
        "planned_departure": None,
        "planned_arrival": None,
        "documents": [],
    }
    data.update(overrides)
    return services.LegInput(**data)  # type: ignore[arg-type]


def _add_leg(staff: Staff, plan: EvacuationPlan, **overrides: object) -> Leg:
    return services.leg_create(
        plan=plan, actor=staff.member, actor_private_key=private_key(staff), data=_leg_input(**overrides)
    )


def _progress(staff: Staff, leg: Leg, status: str, **documents: str) -> Leg:
    leg.refresh_from_db()
    return services.leg_progress(
        leg=leg,
        actor=staff.member,
        actor_private_key=private_key(staff),
        data=services.ProgressInput(status=status, actual_departure=None, actual_arrival=None, documents=documents),
        expected_revision=leg.revision,
    )


def _status(plan: EvacuationPlan) -> str:
    plan.refresh_from_db()
    return plan.status


# --- verified cases only ----------------------------------------------------------------------


def test_a_plan_is_refused_for_an_unverified_case(caseworker: Staff, unverified_person: PersonAtRisk) -> None:
    with pytest.raises(Refused, match="only for a verified case"):
        services.plan_create(
            case=unverified_person.case, actor=caseworker.member, actor_private_key=private_key(caseworker)
        )
    response = caseworker.console(language="ru").post(_plan_url(unverified_person))
    assert response.status_code == 400
    assert "План эвакуации составляют только для проверенного кейса" in response.content.decode()
    assert not EvacuationPlan.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.EVAC_PLAN_CREATE).exists()


def test_a_verified_case_gets_one_active_plan_audited(caseworker: Staff, verified_person: PersonAtRisk) -> None:
    plan = _start_plan(caseworker, verified_person)
    assert plan.status == "draft"
    entry = AuditEntry.objects.filter(action=Action.EVAC_PLAN_CREATE).latest("sequence")
    assert (entry.actor_id, entry.case_public_id, entry.details) == (
        caseworker.member.pk,
        verified_person.case.public_id,
        {"plan": str(plan.pk)},
    )
    with translation.override("en"), pytest.raises(Refused, match="already has an evacuation plan"):
        services.plan_create(
            case=verified_person.case, actor=caseworker.member, actor_private_key=private_key(caseworker)
        )
    assert EvacuationPlan.objects.filter(case=verified_person.case).count() == 1


# --- status, sealing ----------------------------------------------------------------------------


def test_plan_status_follows_its_legs(caseworker: Staff, logistics: Staff, verified_person: PersonAtRisk) -> None:
    plan = _start_plan(caseworker, verified_person)
    first = _add_leg(caseworker, plan)
    second = _add_leg(caseworker, plan, mode="air")
    assert [first.position, second.position] == [1, 2]
    assert _status(plan) == "planned"
    _progress(logistics, first, "under_way")
    assert _status(plan) == "under_way"
    _progress(logistics, first, "done")
    assert _status(plan) == "under_way"  # one done, one not yet
    _progress(logistics, second, "cancelled")
    assert _status(plan) == "done"  # every leg not cancelled is done
    _progress(logistics, first, "cancelled")
    assert _status(plan) == "cancelled"
    page = (
        caseworker.console(language="en").get(f"/cases/{verified_person.case.public_id}/?section=plan").content.decode()
    )
    assert "Cancelled" in page.split('id="evacuation-plan"', 1)[1]


def _opened_content(staff: Staff, leg: Leg) -> crypto.LegContent:
    leg.refresh_from_db()
    opened = keys.case_private_keys(leg.plan.case, staff.member, private_key(staff))
    content = selectors.open_leg_content(leg, opened)
    assert content is not None
    return content


def test_leg_places_mode_and_dates_are_not_stored_in_plaintext(
    caseworker: Staff, verified_person: PersonAtRisk
) -> None:
    plan = _start_plan(caseworker, verified_person)
    console = caseworker.console()
    response = console.post(f"{_plan_url(verified_person)}legs/", _leg_form())
    assert response.status_code == 302, response.content[:3000]
    for secret in (FROM_PLACE, TO_PLACE, NOTES):
        assert not search_places(database_places(), needles_for("leg", secret)), secret
    page = console.get(_plan_url(verified_person)).content.decode()
    assert FROM_PLACE in page and TO_PLACE in page and NOTES in page
    assert "By bus" in page or "автобус" in page
    assert "2026-12-01" in page and "2026-12-02" in page
    leg = Leg.objects.get(plan=plan)
    assert leg.case_key == keys.current_case_key(verified_person.case)
    # How and when a leg travels is sealed with its places: no column holds a mode or a date
    # (a seized database would otherwise show "by plane, 3 December" for each case).
    columns = {field.name for field in Leg._meta.concrete_fields}
    assert not columns & {"mode", "planned_departure", "planned_arrival", "actual_departure", "actual_arrival"}
    assert not [field.name for field in Leg._meta.concrete_fields if field.get_internal_type() == "DateField"]
    content = _opened_content(caseworker, leg)
    assert (content.mode, content.planned_departure, content.planned_arrival) == (
        "bus",
        date(2026, 12, 1),
        date(2026, 12, 2),
    )
    assert sorted(LegDocument.objects.filter(leg=leg).values_list("kind", flat=True)) == [
        "internal_passport",
        "tickets",
    ]


def test_a_leg_ciphertext_moved_to_another_leg_does_not_open(caseworker: Staff, verified_person: PersonAtRisk) -> None:
    plan = _start_plan(caseworker, verified_person)
    first, second = _add_leg(caseworker, plan), _add_leg(caseworker, plan, from_place="Elsewhere")
    Leg.objects.filter(pk=second.pk).update(content_ct=first.content_ct)
    second.refresh_from_db()
    opened = keys.case_private_keys(verified_person.case, caseworker.member, private_key(caseworker))
    assert selectors.open_leg_content(first, opened).from_place == FROM_PLACE  # type: ignore[union-attr]
    with pytest.raises(sealbox.CryptoError):
        selectors.open_leg_content(second, opened)
    assert crypto.leg_ctx(first.id, plan.pk, verified_person.case) != crypto.leg_ctx(
        second.id, plan.pk, verified_person.case
    )


# --- templates and destinations ----------------------------------------------------------------


def _template(coordinator: Staff, destination: Destination | None = None) -> PlanTemplate:
    legs = [
        services.TemplateLegInput("bus", "Hiding place in the region", "Transit city", None, ["internal_passport"]),
        services.TemplateLegInput(
            "air", "Transit city", "Destination", destination, ["international_passport", "visa"]
        ),
    ]
    return services.template_create(actor=coordinator.member, name="Region to abroad by air", legs=legs)


def test_a_template_creates_the_legs(coordinator: Staff, caseworker: Staff, verified_person: PersonAtRisk) -> None:
    template = _template(coordinator)
    plan = _start_plan(caseworker, verified_person)
    response = caseworker.console().post(f"{_plan_url(verified_person)}template/", {"template": template.pk})
    assert response.status_code == 302, response.content[:3000]
    opened = keys.case_private_keys(verified_person.case, caseworker.member, private_key(caseworker))
    legs = selectors.plan_legs(plan, opened)
    assert [(leg.position, leg.mode, leg.content.from_place, leg.content.to_place) for leg in legs] == [  # type: ignore[union-attr]
        (1, "bus", "Hiding place in the region", "Transit city"),
        (2, "air", "Transit city", "Destination"),
    ]
    assert [[d.kind for d in leg.documents] for leg in legs] == [
        ["internal_passport"],
        ["international_passport", "visa"],
    ]
    assert all(d.status == DocumentStatus.NEEDED for leg in legs for d in leg.documents)
    assert _status(plan) == "planned"
    entry = AuditEntry.objects.filter(action=Action.EVAC_TEMPLATE_APPLY).latest("sequence")
    assert entry.details == {"plan": str(plan.pk), "template": template.pk, "legs": 2}


def test_only_coordinators_write_templates_and_destinations(caseworker: Staff, coordinator: Staff) -> None:
    with pytest.raises(Refused):
        _template(caseworker)
    with pytest.raises(Refused):
        services.destination_create(
            actor=caseworker.member, country="X", city="", entry_rules="", asylum_rules="", partners="", notes=""
        )
    assert caseworker.console().post("/plan-templates/", {"name": "x"}).status_code == 403
    assert caseworker.console().post("/destinations/", {"country": "x"}).status_code == 403
    form = {
        "name": "By train",
        "legs-TOTAL_FORMS": "2",
        "legs-INITIAL_FORMS": "0",
        "legs-0-mode": "rail",
        "legs-0-from_place": "Region",
        "legs-0-to_place": "Capital",
        "legs-0-documents": ["tickets"],
        "legs-1-mode": "",
    }
    assert coordinator.console().post("/plan-templates/", form).status_code == 302
    template = PlanTemplate.objects.get(name="By train")
    assert list(TemplateLeg.objects.filter(template=template).values_list("mode", "documents")) == [
        ("rail", ["tickets"])
    ]


def _destination(coordinator: Staff) -> Destination:
    return services.destination_create(
        actor=coordinator.member,
        country="Germany",
        city="Berlin",
        entry_rules="Schengen visa; no visa is given to people who say they will claim asylum.",
        asylum_rules="Claim at the reception centre within days of arrival.",
        partners="A partner counselling centre (contact through the coordinator).",
        notes="",
    )


def test_destination_rules_are_shown_when_planning_a_leg(
    coordinator: Staff, caseworker: Staff, verified_person: PersonAtRisk
) -> None:
    destination = _destination(coordinator)
    plan = _start_plan(caseworker, verified_person)
    console = caseworker.console()
    # Picking the destination and asking for its rules keeps everything typed.
    shown = console.post(
        f"{_plan_url(verified_person)}legs/", _leg_form(destination=destination.pk, show_rules="1")
    ).content.decode()
    assert destination.entry_rules in shown and destination.asylum_rules in shown and destination.partners in shown
    assert FROM_PLACE in shown and NOTES in shown
    assert not Leg.objects.filter(plan=plan).exists()
    assert console.post(f"{_plan_url(verified_person)}legs/", _leg_form(destination=destination.pk)).status_code == 302
    leg = Leg.objects.get(plan=plan)
    edit_page = console.get(f"{_plan_url(verified_person)}legs/{leg.pk}/").content.decode()
    assert destination.entry_rules in edit_page
    plan_page = console.get(_plan_url(verified_person)).content.decode()
    assert "Germany, Berlin" in plan_page and destination.asylum_rules in plan_page
    # The destination a leg goes to is sealed with its places, not a plaintext link.
    assert "destination" not in {field.name for field in Leg._meta.get_fields()}


def test_two_coordinators_editing_a_destination_get_a_conflict(coordinator: Staff) -> None:
    destination = _destination(coordinator)
    fields = {name: getattr(destination, name) for name in services.DESTINATION_FIELDS}
    services.destination_edit(
        destination=destination, actor=coordinator.member, expected_revision=1, **{**fields, "notes": "first"}
    )
    response = coordinator.console().post(
        f"/destinations/{destination.pk}/edit/", {**fields, "notes": "second edit", "revision": "1"}
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "second edit" in page and "first" in page
    destination.refresh_from_db()
    assert (destination.notes, destination.revision) == ("first", 2)


# --- conflicts and who may --------------------------------------------------------------------


def test_two_staff_editing_a_leg_get_a_conflict(
    coordinator: Staff, caseworker: Staff, verified_person: PersonAtRisk
) -> None:
    plan = _start_plan(caseworker, verified_person)
    leg = _add_leg(caseworker, plan)
    url = f"{_plan_url(verified_person)}legs/{leg.pk}/"
    first, second = caseworker.console(), coordinator.console()
    for console in (first, second):
        assert re.search(r'name="revision" value="1"', console.get(url).content.decode())
    saved = first.post(url, _leg_form(to_place="Ставрополь", revision="1"))
    assert saved.status_code == 302
    refused = second.post(url, _leg_form(to_place="Краснодар", revision="1"))
    assert refused.status_code == 409
    page = refused.content.decode()
    assert "Ставрополь" in page and "Краснодар" in page  # theirs shown, mine kept
    assert re.search(r'name="revision" value="2"', page)
    opened = keys.case_private_keys(verified_person.case, caseworker.member, private_key(caseworker))
    leg.refresh_from_db()
    assert selectors.open_leg_content(leg, opened).to_place == "Ставрополь"  # type: ignore[union-attr]
    # Progress from a stale form is refused the same way.
    with pytest.raises(EditConflict):
        services.leg_progress(
            leg=leg,
            actor=caseworker.member,
            actor_private_key=private_key(caseworker),
            data=services.ProgressInput("done", None, None, {}),
            expected_revision=1,
        )
    assert second.post(url, _leg_form(to_place="Краснодар", revision="2")).status_code == 302


def test_logistics_record_progress_but_do_not_change_places(
    caseworker: Staff, logistics: Staff, verified_person: PersonAtRisk
) -> None:
    plan = _start_plan(caseworker, verified_person)
    leg = _add_leg(caseworker, plan, documents=["tickets"])
    url = f"{_plan_url(verified_person)}legs/{leg.pk}/"
    console = logistics.console()
    page = console.get(url).content.decode()
    assert FROM_PLACE in page and 'name="doc_tickets"' in page and 'name="from_place"' not in page
    assert console.post(url, _leg_form(revision="1")).status_code == 403
    assert console.post(_plan_url(verified_person)).status_code == 403
    progress = {
        "status": "under_way",
        "actual_departure": "2026-12-03",
        "actual_arrival": "",
        "doc_tickets": "ready",
        "revision": "1",
    }
    assert console.post(f"{url}progress/", progress).status_code == 302
    leg.refresh_from_db()
    assert (leg.status, leg.revision) == ("under_way", 2)
    # The actual dates are sealed too: progress re-seals the leg and keeps everything else in it.
    content = _opened_content(logistics, leg)
    assert (content.actual_departure, content.actual_arrival) == (date(2026, 12, 3), None)
    assert (content.from_place, content.to_place, content.mode) == (FROM_PLACE, TO_PLACE, "rail")
    assert "2026-12-03" in console.get(url).content.decode()
    assert LegDocument.objects.get(leg=leg).status == "ready"
    assert _status(plan) == "under_way"
    entry = AuditEntry.objects.filter(action=Action.EVAC_LEG_PROGRESS).latest("sequence")
    assert (entry.actor_id, entry.details["status"]) == (logistics.member.pk, "under_way")
    with pytest.raises(Refused):
        services.leg_edit(
            leg=leg,
            actor=logistics.member,
            actor_private_key=private_key(logistics),
            data=_leg_input(),
            expected_revision=2,
        )


def test_a_verifier_reads_the_plan_but_cannot_plan(
    caseworker: Staff, verifier: Staff, verified_person: PersonAtRisk
) -> None:
    plan = _start_plan(caseworker, verified_person)
    leg = _add_leg(caseworker, plan)
    console = verifier.console()
    page = console.get(_plan_url(verified_person)).content.decode()
    assert FROM_PLACE in page and 'action="/cases/' not in page.split('<ol class="legs">', 1)[1]
    assert console.post(f"{_plan_url(verified_person)}legs/", _leg_form()).status_code == 403
    assert console.post(f"{_plan_url(verified_person)}legs/{leg.pk}/progress/", {"status": "done"}).status_code == 403
    assert AuditEntry.objects.filter(action=Action.CASE_VIEW, actor=verifier.member).exists()


def test_someone_without_the_case_key_gets_not_found(
    caseworker: Staff, outsider: Staff, verified_person: PersonAtRisk
) -> None:
    plan = _start_plan(caseworker, verified_person)
    leg = _add_leg(caseworker, plan)
    console = outsider.console()
    assert console.get(_plan_url(verified_person)).status_code == 404
    assert console.get(f"{_plan_url(verified_person)}legs/{leg.pk}/").status_code == 404
    with pytest.raises(keys.NoAccess):
        _add_leg(outsider, plan)


def test_a_bad_leg_form_keeps_what_was_typed(caseworker: Staff, verified_person: PersonAtRisk) -> None:
    _start_plan(caseworker, verified_person)
    response = caseworker.console(language="ru").post(
        f"{_plan_url(verified_person)}legs/", _leg_form(planned_arrival="2026-11-30", to_place="")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert FROM_PLACE in page and NOTES in page
    assert "Напишите, где этот отрезок заканчивается." in page
    assert "Дата прибытия раньше даты отъезда." in page


def test_a_template_is_changed_on_its_page_and_a_stale_change_is_refused(coordinator: Staff) -> None:
    template = _template(coordinator)
    console = coordinator.console(language="en")
    url = f"/plan-templates/{template.pk}/edit/"
    page = console.get(url).content.decode()
    assert 'value="Hiding place in the region"' in page and 'name="legs-TOTAL_FORMS" value="4"' in page
    form = {
        "name": "Region to the capital",
        "revision": "1",
        "legs-TOTAL_FORMS": "1",
        "legs-INITIAL_FORMS": "0",
        "legs-0-mode": "rail",
        "legs-0-from_place": "Hiding place in the region",
        "legs-0-to_place": "Capital",
    }
    assert console.post(url, form).status_code == 302
    template.refresh_from_db()
    assert (template.name, template.revision, template.legs.count()) == ("Region to the capital", 2, 1)
    refused = console.post(url, {**form, "name": "A stale name"})
    assert refused.status_code == 409
    assert "A stale name" in refused.content.decode() and "Region to the capital" in refused.content.decode()
    template.refresh_from_db()
    assert template.name == "Region to the capital"
    assert AuditEntry.objects.filter(action=Action.EVAC_TEMPLATE_EDIT).count() == 1


def test_the_case_page_shows_the_plan_status_and_links_to_the_plan(
    caseworker: Staff, verified_person: PersonAtRisk
) -> None:
    plan = _start_plan(caseworker, verified_person)
    _add_leg(caseworker, plan)
    page = (
        caseworker.console(language="en").get(f"/cases/{verified_person.case.public_id}/?section=plan").content.decode()
    )
    panel = page.split('id="evacuation-plan"', 1)[1].split("</section>", 1)[0]
    assert "Planned" in panel and "1 leg" in panel and f'href="{_plan_url(verified_person)}"' in panel
    assert FROM_PLACE not in page  # the case page opens no leg


def test_editing_a_leg_keeps_the_actual_dates_recorded(
    caseworker: Staff, logistics: Staff, verified_person: PersonAtRisk
) -> None:
    plan = _start_plan(caseworker, verified_person)
    leg = _add_leg(caseworker, plan)
    services.leg_progress(
        leg=leg,
        actor=logistics.member,
        actor_private_key=private_key(logistics),
        data=services.ProgressInput(
            status="under_way", actual_departure=date(2026, 12, 3), actual_arrival=None, documents={}
        ),
        expected_revision=1,
    )
    services.leg_edit(
        leg=leg,
        actor=caseworker.member,
        actor_private_key=private_key(caseworker),
        data=_leg_input(mode="air", to_place="Стамбул", planned_departure=date(2026, 12, 4)),
        expected_revision=2,
    )
    content = _opened_content(caseworker, leg)
    assert (content.mode, content.to_place, content.planned_departure) == ("air", "Стамбул", date(2026, 12, 4))
    assert content.actual_departure == date(2026, 12, 3)


def test_a_destination_id_in_the_address_shows_nothing(
    coordinator: Staff, caseworker: Staff, verified_person: PersonAtRisk
) -> None:
    destination = _destination(coordinator)
    _start_plan(caseworker, verified_person)
    # Only the POSTed "Show its rules" shows a destination's rules: an id in the URL would tie
    # the case to where the person is going in access logs and browser history.
    page = caseworker.console().get(f"{_plan_url(verified_person)}?destination={destination.pk}")
    assert page.status_code == 200
    text = page.content.decode()
    assert destination.entry_rules not in text and destination.asylum_rules not in text
    assert f'value="{destination.pk}" selected' not in text


def test_a_document_status_agrees_with_the_document_name_in_russian(
    caseworker: Staff, logistics: Staff, verified_person: PersonAtRisk
) -> None:
    plan = _start_plan(caseworker, verified_person)
    leg = _add_leg(
        caseworker,
        plan,
        planned_departure=date(2026, 12, 1),
        documents=["internal_passport", "international_passport", "visa", "tickets", "other"],
    )
    _progress(caseworker, leg, "planned", visa="in_progress", tickets="ready", other="not_needed")
    plan_page = caseworker.console(language="ru").get(_plan_url(verified_person)).content.decode()
    for shown in (
        "Внутренний паспорт: нужен",
        "Заграничный паспорт: нужен",
        "Виза: оформляется",
        "Билеты: готовы",
        "Другой документ: не нужен",
        "По плану: 2026-12-01",
    ):
        assert shown in plan_page, shown
    leg_page = logistics.console(language="ru").get(f"{_plan_url(verified_person)}legs/{leg.pk}/").content.decode()
    assert re.search(r"<dt>Билеты</dt>\s*<dd>готовы</dd>", leg_page)
    visa_choices = leg_page.split('name="doc_visa"', 1)[1].split("</select>", 1)[0]
    assert [re.sub(r"<[^>]+>", "", option) for option in re.findall(r"<option[^>]*>[^<]*</option>", visa_choices)] == [
        "нужна",
        "оформляется",
        "готова",
        "не нужна",
    ]
