"""Writes for evacuation plans, legs, plan templates and destinations. Each runs in one
transaction with its audit entry.

Who may do what (accounts.permissions; checked here and again in the views):
- plan, legs (places, dates, mode, documents needed), templates applied: caseworkers and
  coordinators whose session opens the current case key, on a verified case only;
- progress (leg status, actual dates, document statuses): the same people and logistics staff
  holding the case key (the actual dates are sealed with the leg's content, so recording progress
  opens the leg and re-seals it to the current key);
- templates and destinations: coordinators.
Edits are checked against the revision the editor started from: a save based on an older
revision raises EditConflict and changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import keys
from casework.lifecycle import State
from casework.models import Case, CaseKey
from casework.sealed import EditConflict, Refused, current_key_for, lock_case, require
from evacuation.plans import crypto
from evacuation.plans.models import (
    Destination,
    DocumentKind,
    DocumentStatus,
    EvacuationPlan,
    Leg,
    LegDocument,
    LegStatus,
    PlanTemplate,
    TemplateLeg,
)
from evacuation.plans.status import plan_status_from_legs


@dataclass(frozen=True)
class LegInput:
    mode: str
    from_place: str
    to_place: str
    notes: str
    destination: Destination | None
    planned_departure: date | None
    planned_arrival: date | None
    documents: list[str]


@dataclass(frozen=True)
class ProgressInput:
    status: str
    actual_departure: date | None
    actual_arrival: date | None
    documents: dict[str, str]  # DocumentKind -> DocumentStatus, for the documents the leg has


def _require_planner(member: StaffMember) -> None:
    require(permissions.can_plan_evacuation(member), _("Only caseworkers and coordinators can plan an evacuation."))


def _require_verified(case: Case) -> None:
    if case.status != State.VERIFIED:
        raise Refused(_("An evacuation is planned only for a verified case. Finish vetting first."))


def _plan_locked(plan: EvacuationPlan) -> EvacuationPlan:
    current = EvacuationPlan.objects.select_for_update().filter(pk=plan.pk, is_active=True).first()
    if current is None:
        raise Refused(_("This plan is no longer active."))
    return current


def _refresh_plan_status(plan: EvacuationPlan) -> None:
    """The plan's status always comes from its legs, through plan_status_from_legs only."""
    plan.status = plan_status_from_legs(plan.legs.values_list("status", flat=True))
    plan.updated_at = timezone.now()
    plan.save(update_fields=["status", "updated_at"])


# --- plans and legs -------------------------------------------------------------------------


def plan_create(*, case: Case, actor: StaffMember, actor_private_key: bytes) -> EvacuationPlan:
    _require_planner(actor)
    with transaction.atomic():
        locked = lock_case(case)
        current_key_for(locked, actor, actor_private_key)
        _require_verified(locked)
        if EvacuationPlan.objects.filter(case=locked, is_active=True).exists():
            raise Refused(_("This case already has an evacuation plan."))
        try:
            with transaction.atomic():
                plan = EvacuationPlan.objects.create(case=locked, created_by=actor)
        except IntegrityError:
            raise Refused(_("This case already has an evacuation plan.")) from None
        audit_record(actor=actor, action=Action.EVAC_PLAN_CREATE, case=locked, details={"plan": str(plan.pk)})
    return plan


def _content(
    data: LegInput, *, actual_departure: date | None = None, actual_arrival: date | None = None
) -> crypto.LegContent:
    return crypto.LegContent(
        from_place=data.from_place,
        to_place=data.to_place,
        notes=data.notes,
        destination_id=data.destination.pk if data.destination else None,
        mode=data.mode,
        planned_departure=data.planned_departure,
        planned_arrival=data.planned_arrival,
        actual_departure=actual_departure,
        actual_arrival=actual_arrival,
    )


def _seal(leg: Leg, case: Case, case_key: CaseKey, content: crypto.LegContent) -> None:
    leg.case_key = case_key
    leg.content_ct = crypto.seal_leg(case_key, content, ctx=crypto.leg_ctx(leg.id, leg.plan_id, case))


def _open(leg: Leg, case: Case, actor: StaffMember, actor_private_key: bytes) -> crypto.LegContent:
    """The leg's saved content; NoAccess when the actor holds no key version that opens it
    (what is sealed there must not be lost by re-sealing without it)."""
    opened = keys.case_private_keys(case, actor, actor_private_key)
    content = crypto.open_leg(
        opened, leg.case_key_id, bytes(leg.content_ct), ctx=crypto.leg_ctx(leg.id, leg.plan_id, case)
    )
    if content is None:
        raise keys.NoAccess
    return content


def _set_documents(leg: Leg, kinds: list[str]) -> None:
    """Keep the statuses of documents still needed; add new ones as needed; drop the rest."""
    wanted = [kind for kind in DocumentKind.values if kind in set(kinds)]
    LegDocument.objects.filter(leg=leg).exclude(kind__in=wanted).delete()
    have = set(LegDocument.objects.filter(leg=leg).values_list("kind", flat=True))
    LegDocument.objects.bulk_create([LegDocument(leg=leg, kind=kind) for kind in wanted if kind not in have])


def leg_row(*, plan: EvacuationPlan, case: Case, case_key: CaseKey, actor: StaffMember, data: LegInput) -> Leg:
    """A sealed leg after the plan's last one, saved without checks, a status refresh or an
    audit entry (leg_create and template_apply do those)."""
    last = plan.legs.order_by("-position").values_list("position", flat=True).first()
    leg = Leg(
        id=uuid.uuid4(),
        plan=plan,
        position=(last or 0) + 1,
        created_by=actor,
        updated_by=actor,
    )
    _seal(leg, case, case_key, _content(data))
    leg.save(force_insert=True)
    _set_documents(leg, data.documents)
    return leg


def _check_dates(departure: date | None, arrival: date | None) -> None:
    if departure and arrival and arrival < departure:
        raise Refused(_("The arrival date is before the departure date."))


def leg_create(*, plan: EvacuationPlan, actor: StaffMember, actor_private_key: bytes, data: LegInput) -> Leg:
    _require_planner(actor)
    _check_dates(data.planned_departure, data.planned_arrival)
    with transaction.atomic():
        locked = lock_case(plan.case)
        case_key = current_key_for(locked, actor, actor_private_key)
        _require_verified(locked)
        current = _plan_locked(plan)
        leg = leg_row(plan=current, case=locked, case_key=case_key, actor=actor, data=data)
        _refresh_plan_status(current)
        audit_record(
            actor=actor,
            action=Action.EVAC_LEG_CREATE,
            case=locked,
            details={"plan": str(current.pk), "leg": str(leg.pk)},
        )
    return leg


def _leg_locked(leg: Leg) -> Leg:
    return Leg.objects.select_for_update(of=("self",)).select_related("updated_by", "plan").get(pk=leg.pk)


def _check_revision(current: Leg, expected_revision: int) -> None:
    if current.revision != expected_revision:
        raise EditConflict(current.revision, current.updated_by.username, current.updated_at)


def _bump(leg: Leg, actor: StaffMember) -> None:
    leg.revision += 1
    leg.updated_by, leg.updated_at = actor, timezone.now()


def leg_edit(*, leg: Leg, actor: StaffMember, actor_private_key: bytes, data: LegInput, expected_revision: int) -> Leg:
    """Places, notes, mode, planned dates and the documents needed; re-sealed to the current key
    (the actual dates already recorded are kept)."""
    _require_planner(actor)
    _check_dates(data.planned_departure, data.planned_arrival)
    with transaction.atomic():
        locked = lock_case(leg.plan.case)
        case_key = current_key_for(locked, actor, actor_private_key)
        _require_verified(locked)
        _plan_locked(leg.plan)
        current = _leg_locked(leg)
        _check_revision(current, expected_revision)
        saved = _open(current, locked, actor, actor_private_key)
        content = _content(data, actual_departure=saved.actual_departure, actual_arrival=saved.actual_arrival)
        _seal(current, locked, case_key, content)
        _bump(current, actor)
        current.save(update_fields=["case_key", "content_ct", "revision", "updated_by", "updated_at"])
        _set_documents(current, data.documents)
        audit_record(
            actor=actor,
            action=Action.EVAC_LEG_EDIT,
            case=locked,
            details={"leg": str(current.pk), "revision": current.revision},
        )
    return current


def leg_progress(
    *, leg: Leg, actor: StaffMember, actor_private_key: bytes, data: ProgressInput, expected_revision: int
) -> Leg:
    """Leg status, actual dates and document statuses: what logistics staff record too. The actual
    dates are sealed with the leg's content, so the leg is opened and re-sealed to the current
    key with its places, notes, mode and planned dates unchanged."""
    if not permissions.can_record_evacuation_progress(actor):
        raise Refused(_("Only caseworkers, coordinators and logistics staff can record progress."))
    if data.status not in LegStatus.values:
        raise Refused(_("Choose the leg's status."))
    _check_dates(data.actual_departure, data.actual_arrival)
    with transaction.atomic():
        locked = lock_case(leg.plan.case)
        case_key = current_key_for(locked, actor, actor_private_key)
        plan = _plan_locked(leg.plan)
        current = _leg_locked(leg)
        _check_revision(current, expected_revision)
        saved = _open(current, locked, actor, actor_private_key)
        _seal(
            current,
            locked,
            case_key,
            replace(saved, actual_departure=data.actual_departure, actual_arrival=data.actual_arrival),
        )
        current.status = data.status
        _bump(current, actor)
        current.save(update_fields=["status", "case_key", "content_ct", "revision", "updated_by", "updated_at"])
        for document in LegDocument.objects.filter(leg=current):
            wanted = data.documents.get(document.kind, document.status)
            if wanted in DocumentStatus.values and wanted != document.status:
                document.status = wanted
                document.save(update_fields=["status"])
        _refresh_plan_status(plan)
        audit_record(
            actor=actor,
            action=Action.EVAC_LEG_PROGRESS,
            case=locked,
            details={"leg": str(current.pk), "revision": current.revision, "status": current.status},
        )
    return current


def template_apply(
    *, plan: EvacuationPlan, template: PlanTemplate, actor: StaffMember, actor_private_key: bytes
) -> list[Leg]:
    """The template's legs added after the plan's legs, sealed like any leg (the places stay
    editable afterwards)."""
    _require_planner(actor)
    with transaction.atomic():
        locked = lock_case(plan.case)
        case_key = current_key_for(locked, actor, actor_private_key)
        _require_verified(locked)
        current = _plan_locked(plan)
        skeletons = list(TemplateLeg.objects.filter(template=template).select_related("destination"))
        if not skeletons:
            raise Refused(_("This template has no legs."))
        legs = [
            leg_row(
                plan=current,
                case=locked,
                case_key=case_key,
                actor=actor,
                data=LegInput(
                    mode=skeleton.mode,
                    from_place=skeleton.from_place,
                    to_place=skeleton.to_place,
                    notes="",
                    destination=skeleton.destination,
                    planned_departure=None,
                    planned_arrival=None,
                    documents=list(skeleton.documents),
                ),
            )
            for skeleton in skeletons
        ]
        _refresh_plan_status(current)
        audit_record(
            actor=actor,
            action=Action.EVAC_TEMPLATE_APPLY,
            case=locked,
            details={"plan": str(current.pk), "template": template.pk, "legs": len(legs)},
        )
    return legs


# --- templates (organisation knowledge, generic places, plaintext) ---------------------------


@dataclass(frozen=True)
class TemplateLegInput:
    mode: str
    from_place: str
    to_place: str
    destination: Destination | None
    documents: list[str]


def _template_legs(template: PlanTemplate, legs: list[TemplateLegInput]) -> None:
    TemplateLeg.objects.filter(template=template).delete()
    TemplateLeg.objects.bulk_create(
        [
            TemplateLeg(
                template=template,
                position=position,
                mode=leg.mode,
                from_place=leg.from_place,
                to_place=leg.to_place,
                destination=leg.destination,
                documents=[kind for kind in DocumentKind.values if kind in set(leg.documents)],
            )
            for position, leg in enumerate(legs, start=1)
        ]
    )


def template_create(*, actor: StaffMember, name: str, legs: list[TemplateLegInput]) -> PlanTemplate:
    require(permissions.can_edit_organisation_knowledge(actor), _("Only a coordinator can change this."))
    if not legs:
        raise Refused(_("Give the template at least one leg."))
    with transaction.atomic():
        template = PlanTemplate.objects.create(name=name, updated_by=actor)
        _template_legs(template, legs)
        audit_record(actor=actor, action=Action.EVAC_TEMPLATE_CREATE, details={"template": template.pk})
    return template


def template_edit(
    *, template: PlanTemplate, actor: StaffMember, name: str, legs: list[TemplateLegInput], expected_revision: int
) -> PlanTemplate:
    require(permissions.can_edit_organisation_knowledge(actor), _("Only a coordinator can change this."))
    if not legs:
        raise Refused(_("Give the template at least one leg."))
    with transaction.atomic():
        current = PlanTemplate.objects.select_for_update(of=("self",)).select_related("updated_by").get(pk=template.pk)
        if current.revision != expected_revision:
            by = current.updated_by.username if current.updated_by else ""
            raise EditConflict(current.revision, by, current.updated_at)
        current.name = name
        current.revision += 1
        current.updated_by, current.updated_at = actor, timezone.now()
        current.save(update_fields=["name", "revision", "updated_by", "updated_at"])
        _template_legs(current, legs)
        audit_record(
            actor=actor,
            action=Action.EVAC_TEMPLATE_EDIT,
            details={"template": current.pk, "revision": current.revision},
        )
    return current


# --- destinations (organisation knowledge, plaintext) ----------------------------------------

DESTINATION_FIELDS = ("country", "city", "entry_rules", "asylum_rules", "partners", "notes")


def destination_create(*, actor: StaffMember, **fields: str) -> Destination:
    require(permissions.can_edit_organisation_knowledge(actor), _("Only a coordinator can change this."))
    with transaction.atomic():
        destination = Destination.objects.create(
            updated_by=actor, **{name: fields[name] for name in DESTINATION_FIELDS}
        )
        audit_record(actor=actor, action=Action.EVAC_DESTINATION_CREATE, details={"destination": destination.pk})
    return destination


def destination_edit(
    *, destination: Destination, actor: StaffMember, expected_revision: int, **fields: str
) -> Destination:
    require(permissions.can_edit_organisation_knowledge(actor), _("Only a coordinator can change this."))
    with transaction.atomic():
        current = (
            Destination.objects.select_for_update(of=("self",)).select_related("updated_by").get(pk=destination.pk)
        )
        if current.revision != expected_revision:
            by = current.updated_by.username if current.updated_by else ""
            raise EditConflict(current.revision, by, current.updated_at)
        for name in DESTINATION_FIELDS:
            setattr(current, name, fields[name])
        current.revision += 1
        current.updated_by, current.updated_at = actor, timezone.now()
        current.save(update_fields=[*DESTINATION_FIELDS, "revision", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action=Action.EVAC_DESTINATION_EDIT,
            details={"destination": current.pk, "revision": current.revision},
        )
    return current
