"""One case that touches every app, built through the real services and views, for the
shredding tests: messages with files (and their originals), a staff reply, notes and tasks,
vetting, a plan with a leg and its documents, money and a budget, check-ins with an alert and
its job, a fate, a safe-house stay (with the address key sealed to the case key), a hand-off,
red-flag matches, a hold set and lifted, a deletion request, jobs naming the case."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casenotes.services import note_create, task_create
from casework import keys as case_keys
from casework import services as case_services
from casework.lifecycle import State, case_transition
from casework.models import Case
from casework.sealed import holds_current_key
from evacuation.checkins import ladder
from evacuation.checkins import services as checkin_services
from evacuation.checkins.tests.helpers import Clock, schedule
from evacuation.funds import services as funds_services
from evacuation.funds.tests.helpers import entry
from evacuation.handoff import services as handoff_services
from evacuation.handoff.models import Partner
from evacuation.plans import services as plan_services
from evacuation.safehouses import services as house_services
from evidence import derivatives, esf, events, exports
from evidence import services as evidence_services
from evidence.models import EvidenceItem
from jobs.services import job_enqueue
from notifications.services import NOTIFY_JOB
from retention import policies
from retention.models import HoldReason
from tests.personas import PersonAtRisk, Staff, open_case
from tests.samples import photo_with_location
from vetting import services as vetting_services
from vetting.red_flags import red_flag_create


@dataclass
class World:
    person: PersonAtRisk
    # Plain words that went in through the inputs: none may be found anywhere afterwards.
    canaries: list[str] = field(default_factory=list)

    @property
    def case(self) -> Case:
        return Case.objects.get(pk=self.person.case.pk)


def canary(world: World, label: str) -> str:
    text = f"{label}-CANARY-{len(world.canaries)}-{timezone.now().timestamp()}"
    world.canaries.append(text)
    return text


def _conversation(world: World, caseworker: Staff, named: Staff) -> None:
    photo = photo_with_location()
    upload = SimpleUploadedFile(f"{canary(world, 'file')}.jpg", photo.data, content_type="image/jpeg")
    response = world.person.intake().post("/conversation/", {"message": canary(world, "msg"), "attachments": upload})
    assert response.status_code == 302, response.content[:2000]
    case_services.message_post_from_staff(
        case=world.case,
        member=caseworker.member,
        member_private_key=caseworker.private_key,
        signing_key=caseworker.signing_key,
        body=canary(world, "reply"),
    )
    case_services.case_mark_read(case=world.case, member=caseworker.member)
    case_services.case_member_add(
        case=world.case, actor=caseworker.member, actor_private_key=caseworker.private_key, member=named.member
    )


def _notes_and_vetting(world: World, caseworker: Staff, verifiers: tuple[Staff, Staff]) -> None:
    key = caseworker.private_key
    note_create(case=world.case, author=caseworker.member, author_private_key=key, body=canary(world, "note"))
    task_create(
        case=world.case,
        actor=caseworker.member,
        actor_private_key=key,
        owner=caseworker.member,
        title=canary(world, "task"),
        detail="",
        due=None,
    )
    terms = evidence_services.ConsentTerms(uses=("prosecutors",), redacted_only=True, how=canary(world, "consent"))
    consent = evidence_services.consent_record(
        case=world.case, actor=caseworker.member, actor_private_key=key, terms=terms
    )
    item = evidence_services.item_promote_testimony(
        case=world.case, actor=caseworker.member, actor_private_key=key, consent=consent,
        title=canary(world, "evidence title"), text=canary(world, "testimony"),
    )  # fmt: skip
    opened = case_keys.case_private_keys(world.case, caseworker.member, key)
    derivative = derivatives.derivative_propose(
        item=item, actor=caseworker.member, actor_private_key=key, opened=opened
    )
    plan = derivatives.open_plan(derivative, opened)
    assert plan is not None
    derivatives.derivative_review(
        derivative=derivative, actor=caseworker.member, actor_private_key=key, opened=opened,
        removals=plan.removals, revision=1, approve=True,
    )  # fmt: skip
    item = EvidenceItem.objects.select_related("case", "consent").get(pk=item.pk)
    request = exports.ExportRequest("prosecutors", canary(world, "recipient"), [item])
    exports.export_build(
        case=world.case, actor=caseworker.member, actor_private_key=key, opened=opened, request=request
    )
    event = esf.Event(canary(world, "event"), acts=(esf.Act("detention", canary(world, "victim")),))
    events.event_create(case=world.case, actor=caseworker.member, actor_private_key=key, content=event)
    case_transition(case=world.case, member=caseworker.member, to_state=State.TRIAGED)
    case_transition(case=world.case, member=caseworker.member, to_state=State.VETTING, member_private_key=key)
    vetting_services.check_tick(
        case=world.case, member=caseworker.member, member_private_key=key, item="interview", note=canary(world, "check")
    )
    for verifier in verifiers:
        vetting_services.sign_off_create(
            case=world.case,
            member=verifier.member,
            member_private_key=verifier.private_key,
            signing_key=verifier.signing_key,
            reason=canary(world, "sign-off"),
        )
    case_transition(case=world.case, member=verifiers[0].member, to_state=State.VERIFIED)


def _evacuation(world: World, coordinator: Staff, caseworker: Staff) -> None:
    key = caseworker.private_key
    plan = plan_services.plan_create(case=world.case, actor=caseworker.member, actor_private_key=key)
    leg = plan_services.LegInput("rail", canary(world, "from"), "Moscow", "", None, None, None, ["internal_passport"])
    plan_services.leg_create(plan=plan, actor=caseworker.member, actor_private_key=key, data=leg)
    entry(world.case, caseworker, "1500", payee=canary(world, "payee"))
    funds_services.budget_set(
        case=world.case,
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        amount=Decimal("5000"),
        currency="RUB",
        expected_revision=None,
    )
    if not holds_current_key(world.case, coordinator.member):  # to seal the address to the case key
        case_services.case_member_add(
            case=world.case, actor=caseworker.member, actor_private_key=key, member=coordinator.member
        )
    house = house_services.safe_house_create(
        actor=coordinator.member, code_name="Oak", capacity=2, address=canary(world, "address"), notes=""
    )
    placement = house_services.placement_create(
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        case=world.case,
        house=house,
        starts_on=timezone.localdate(),
        until=None,
    )
    if placement.status != placement.Status.CONFIRMED:
        house_services.placement_confirm(
            actor=coordinator.member, actor_private_key=coordinator.private_key, placement=placement
        )
    checkin_services.fate_set(
        case=world.case,
        actor=caseworker.member,
        actor_private_key=key,
        status="in_hiding",
        information=canary(world, "fate"),
    )


def _checkins(world: World, caseworker: Staff, clock: Clock) -> None:
    schedule(world.person, caseworker, hours=1, grace=30)
    response = world.person.intake().post("/checkin/", {})
    assert response.status_code in (200, 302), response.content[:2000]
    clock.move(hours=2)
    assert ladder.sweep() >= 1  # missed: an alert with its job


def _handoff(world: World, coordinator: Staff) -> None:
    partner = Partner.objects.get(name="Theirs")
    handoff_services.handoff_export(
        case=world.case,
        actor=coordinator.member,
        actor_private_key=coordinator.private_key,
        partner=partner,
        fields=["details", "conversation"],
        consent_how=canary(world, "consent"),
        consent_date=timezone.localdate() - timedelta(days=1),
    )


def build_world(
    coordinator: Staff, caseworker: Staff, named: Staff, verifiers: tuple[Staff, Staff], clock: Clock
) -> World:
    contact = "+7 900 555 12 34"
    person = open_case(body="first words", contact_kind="phone", contact_value=contact)
    world = World(person=person)
    world.canaries.append("first words")
    _conversation(world, caseworker, named)
    _notes_and_vetting(world, caseworker, verifiers)
    _evacuation(world, coordinator, caseworker)
    _checkins(world, caseworker, clock)
    _handoff(world, coordinator)
    red_flag_create(actor=coordinator.member, kind="phone", value=contact)
    policies.hold_set(case=world.case, actor=coordinator.member, on_hold=True, reason=HoldReason.EVIDENCE)
    policies.hold_set(case=world.case, actor=coordinator.member, on_hold=False)
    job_enqueue(NOTIFY_JOB, {"case": world.case.pk, "event": "red_flag"})
    # Left open: closing takes the safe-house address from the case key, and the shredding
    # must be shown to remove everything a case can have.
    return world
