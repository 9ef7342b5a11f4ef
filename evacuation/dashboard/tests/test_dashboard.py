"""The coordinator dashboard: the counts it shows for a populated world, that it decrypts
nothing, escapes every label, and speaks Russian and English."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

import sealbox
from accounts.models import Role
from audit.models import Action, AuditEntry
from casework.lifecycle import State, case_transition
from evacuation.checkins import ladder
from evacuation.checkins import services as checkin_services
from evacuation.checkins.tests.helpers import Clock, schedule
from evacuation.dashboard import charts, selectors
from evacuation.funds.tests.helpers import entry
from evacuation.plans import services as plan_services
from evacuation.safehouses import services as house_services
from evacuation.safehouses.tests.conftest import verified_case
from tests.personas import PersonAtRisk, Staff, make_staff, open_case

HOSTILE_NAME = "<script>alert(1)</script> & Co"


def _words(response: object) -> str:
    body = html.unescape(response.content.decode())  # type: ignore[attr-defined]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def _row(words: str, label: str) -> str:
    """The number shown right after ``label`` in the page's text."""
    found = re.search(re.escape(label) + r" ([\d  ,.]+)", words)
    assert found, label
    return found.group(1).strip()


@pytest.fixture
def world(coordinator: Staff, caseworker: Staff, outsider: Staff, clock: Clock) -> dict[str, PersonAtRisk]:
    verifiers = (
        make_staff("verifier", role=Role.VERIFIER, invited_by=coordinator),
        make_staff("verifier-two", role=Role.VERIFIER, invited_by=coordinator),
    )
    people = {"new": open_case(body="help")}
    people["triaged"] = open_case(body="help me")
    case_transition(case=people["triaged"].case, member=caseworker.member, to_state=State.TRIAGED)
    people["planned"] = verified_case(caseworker, verifiers)
    people["verified"] = verified_case(caseworker, verifiers, body="I must leave")
    people["safe"] = open_case(body="thank you")
    case_transition(case=people["safe"].case, member=caseworker.member, to_state=State.CLOSED, reason="safe")
    people["lost"] = open_case(body="hello")
    case_transition(case=people["lost"].case, member=caseworker.member, to_state=State.CLOSED, reason="lost_contact")

    planned = people["planned"].case
    plan = plan_services.plan_create(case=planned, actor=caseworker.member, actor_private_key=caseworker.private_key)
    leg = plan_services.LegInput("rail", "Grozny", "Moscow", "", None, None, None, [])
    plan_services.leg_create(plan=plan, actor=caseworker.member, actor_private_key=caseworker.private_key, data=leg)

    house = house_services.safe_house_create(
        actor=coordinator.member, code_name=HOSTILE_NAME, capacity=3, address="12 Lenina street, flat 4", notes=""
    )
    for person in (people["planned"], people["verified"]):
        house_services.placement_create(
            actor=coordinator.member,
            actor_private_key=coordinator.private_key,
            case=person.case,
            house=house,
            starts_on=timezone.localdate(),
            until=None,
        )
    house_services.safe_house_create(
        actor=coordinator.member, code_name="Birch", capacity=1, address="3 Mira avenue", notes=""
    )

    this_month = timezone.localdate().replace(day=1)
    entry(planned, caseworker, "1500", category="travel", paid_on=this_month)
    entry(planned, caseworker, "500.25", category="food", paid_on=this_month)
    entry(people["verified"].case, caseworker, "20000", category="housing", paid_on=this_month - timedelta(days=1))
    entry(planned, caseworker, "100", category="visas", currency="EUR", paid_on=this_month)

    for key, status in (("planned", "in_transit"), ("verified", "in_hiding"), ("lost", "lost_contact")):
        checkin_services.fate_set(
            case=people[key].case,
            actor=caseworker.member,
            actor_private_key=caseworker.private_key,
            status=status,
            information="a call from a friend",
        )
    checkin_services.fate_set(
        case=people["verified"].case,
        actor=caseworker.member,
        actor_private_key=caseworker.private_key,
        status="evacuated",
        information="arrived",
    )

    # Check-ins: one escalated (alerts sent), one past due and grace, one late within grace.
    schedule(people["planned"], caseworker, hours=24, grace=60)
    schedule(people["verified"], caseworker, hours=24, grace=60)
    clock.move(hours=25, minutes=30)
    assert ladder.sweep() == 2  # both missed: step one for each
    checkin_services.escalation_acknowledge(
        case=people["verified"].case, actor=caseworker.member, actor_private_key=caseworker.private_key
    )
    clock.move(minutes=10)
    schedule(people["triaged"], caseworker, hours=1, grace=120)
    schedule(people["new"], caseworker, hours=1, grace=30)
    clock.move(hours=1, minutes=45)  # triaged: 45 min late, in grace; new: past its grace
    return people


def test_the_counts_shown_for_a_populated_world(coordinator: Staff, world: dict[str, PersonAtRisk]) -> None:
    response = coordinator.console(language="en").get("/dashboard/")
    assert response.status_code == 200
    words = _words(response)
    assert _row(words, "New") == "1"
    assert _row(words, "Triaged") == "1"
    assert _row(words, "Vetting") == "0"
    assert _row(words, "Verified") == "2"
    assert _row(words, "No evacuation plan yet") == "1"
    assert _row(words, "Plan: Planned") == "1"
    assert _row(words, "Plan: Under way") == "0"
    assert _row(words, "Closed") == "2"
    assert _row(words, "Safe") == "1"
    assert _row(words, "Lost contact") == "1"  # the closing reason (the fate row comes later)
    assert "2 / 3" in words and "0 / 1" in words
    assert _row(words, "In hiding") == "0"  # superseded by "evacuated"
    assert _row(words, "Evacuated") == "1"
    assert _row(words, "In transit") == "1"
    assert "RUB · 22,000.25" in words and "EUR · 100.00" in words
    # One escalation running (the other acknowledged), one missed with no one told yet, one late.
    summary = selectors.overdue_checkins(timezone.now())
    assert (summary.escalating, summary.overdue, summary.late_in_grace) == (1, 1, 1)
    assert summary.unacknowledged_alerts == 1
    listed = [case.public_id for case in summary.cases]
    assert listed == [world["planned"].case.public_id, world["new"].case.public_id]
    body = response.content.decode()
    for public_id in listed:
        assert f'href="/cases/{public_id}/?section=checkins"' in body
    assert world["triaged"].case.public_id not in body
    assert AuditEntry.objects.filter(action=Action.DASHBOARD_VIEW, actor=coordinator.member).count() == 1


def test_money_chart_stacks_categories_per_month(world: dict[str, PersonAtRisk]) -> None:
    with translation.override("en"):
        rub = next(
            chart
            for chart in charts.money_charts(selectors.money_by_month(today=timezone.localdate()))
            if chart.currency == "RUB"
        )
    this_month, last_month = rub.months
    # The largest month (20,000) fills the bar; this month's travel then food follow each other.
    assert [s.width for s in last_month.segments] == ["100.00"]
    travel, food = this_month.segments
    assert (travel.x, travel.width, food.x, food.width) == ("0", "7.50", "7.50", "2.50")
    assert sum(Decimal(row.approved.replace(",", "")) for row in rub.table) == Decimal("22000.25")


def test_it_decrypts_nothing(
    coordinator: Staff, world: dict[str, PersonAtRisk], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the session vault is opened (every console page does that, in staff_required, for
    the member's own keys): no case key, no case content, no safe-house address."""
    opened: list[str] = []
    for name in ("unseal", "decrypt"):

        def spy(key: bytes, ciphertext: bytes, *, ctx: bytes, _real: object = getattr(sealbox, name)) -> bytes:
            size = int.from_bytes(ctx[:4], "big")
            opened.append(ctx[4 : 4 + size].decode())
            return _real(key, ciphertext, ctx=ctx)  # type: ignore[operator]

        monkeypatch.setattr(sealbox, name, spy)
    client = coordinator.console(language="en")
    opened.clear()  # logging in opens the member's own keys
    assert client.get("/dashboard/").status_code == 200
    assert [label for label in opened if label != "vault"] == []
    # The spy does see content being opened: the case page opens the case key and the details.
    client.get(f"/cases/{world['planned'].case.public_id}/")
    assert [label for label in opened if label != "vault"]


def test_labels_are_escaped(coordinator: Staff, world: dict[str, PersonAtRisk]) -> None:
    body = coordinator.console(language="en").get("/dashboard/").content.decode()
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in body


def test_russian_labels_and_numbers(coordinator: Staff, world: dict[str, PersonAtRisk]) -> None:
    response = coordinator.console(language="ru").get("/dashboard/")
    words = _words(response)
    assert "Кейсы по этапам" in words
    assert "Плана эвакуации пока нет" in words
    assert re.search(r"RUB · 22\s000,25", words)  # grouped and with a decimal comma
    # SVG geometry keeps its dots whatever the language.
    assert 'width="7.50"' in response.content.decode()


def test_only_coordinators_see_it(caseworker: Staff, outsider: Staff) -> None:
    assert caseworker.console().get("/dashboard/").status_code == 403
    assert outsider.console().get("/dashboard/").status_code == 403


def test_the_nav_links_to_it_for_coordinators_only(coordinator: Staff, caseworker: Staff) -> None:
    assert 'href="/dashboard/"' in coordinator.console().get("/inbox/").content.decode()
    assert 'href="/dashboard/"' not in caseworker.console().get("/inbox/").content.decode()
