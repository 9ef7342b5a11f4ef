"""Console views for evacuation plans, legs, plan templates and destinations.

Case-scoped views fetch the case through casework.access.case_for_member (404 for missing and
not-yours alike) and need the member's session to open the case key. Template pages and
destination changes are for coordinators only (403 for others); every staff member may read
the destinations.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions
from accounts.access import coordinator_required, staff_keys, staff_member, staff_required
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import keys
from casework.access import case_for_member
from casework.lifecycle import State
from casework.models import Case
from casework.sealed import Conflict, Refused, save_edit
from evacuation.plans import selectors, services
from evacuation.plans.forms import (
    DestinationEditForm,
    DestinationForm,
    LegEditForm,
    LegForm,
    LegProgressForm,
    TemplateApplyForm,
    TemplateLegFormSet,
    TemplateNameEditForm,
    TemplateNameForm,
)
from evacuation.plans.models import Destination, EvacuationPlan, Leg, LegDocument, PlanTemplate, TemplateLeg


def _key(request: HttpRequest) -> bytes:
    return staff_keys(request).private_key


def _opened(case: Case, member: StaffMember, request: HttpRequest) -> dict[int, bytes]:
    try:
        return keys.case_private_keys(case, member, _key(request))
    except keys.NoAccess:
        raise Http404 from None


def _audit_view(member: StaffMember, case: Case, **details: str) -> None:
    """Committed before anything of the case is decrypted for the page."""
    with transaction.atomic():
        audit_record(actor=member, action=Action.CASE_VIEW, case=case, details=details)


def _to_plan(case: Case) -> HttpResponse:
    return redirect("evac_plans:plan", public_id=case.public_id)


def _picked_destination(value: object) -> Destination | None:
    try:
        return Destination.objects.filter(pk=int(str(value))).first()
    except (TypeError, ValueError):
        return None


# --- the plan page --------------------------------------------------------------------------


def _render_plan(
    request: HttpRequest,
    case: Case,
    *,
    status: int = 200,
    leg_form: LegForm | None = None,
    error: str = "",
) -> HttpResponse:
    member = staff_member(request)
    opened = _opened(case, member, request)
    plan = selectors.active_plan(case)
    _audit_view(member, case, plan=str(plan.pk) if plan else "")
    # The destination whose rules are shown comes only from a POSTed form ("Show its rules"),
    # never from the address: a destination id in a URL would tie the case to where the person
    # is going in access logs and browser history.
    form = leg_form or LegForm()
    picked = _picked_destination(form["destination"].value())
    context: dict[str, Any] = {
        "case": case,
        "plan": plan,
        "legs": selectors.plan_legs(plan, opened) if plan else [],
        "leg_form": form,
        "picked_destination": picked,
        "template_form": TemplateApplyForm(),
        "may_plan": permissions.can_plan_evacuation(member),
        "verified": case.status == State.VERIFIED,
        "error": error,
    }
    return render(request, "evac_plans/plan.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def plan(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if request.method == "GET":
        return _render_plan(request, case)
    if not permissions.can_plan_evacuation(member):
        raise PermissionDenied
    try:
        services.plan_create(case=case, actor=member, actor_private_key=_key(request))
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _render_plan(request, case, status=400, error=str(refused))
    return _to_plan(case)


def _plan_of(case: Case) -> EvacuationPlan:
    plan = selectors.active_plan(case)
    if plan is None:
        raise Http404
    return plan


def _leg_input(data: dict[str, Any]) -> services.LegInput:
    return services.LegInput(
        mode=data["mode"],
        from_place=data["from_place"],
        to_place=data["to_place"],
        notes=data["notes"],
        destination=data["destination"],
        planned_departure=data["planned_departure"],
        planned_arrival=data["planned_arrival"],
        documents=list(data["documents"]),
    )


@staff_required
@require_POST
def leg_add(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_plan_evacuation(member):
        raise PermissionDenied
    plan = _plan_of(case)
    form = LegForm(request.POST)
    if "show_rules" in request.POST or not form.is_valid():
        # "Show its rules" posts the typed leg here too, so nothing typed is lost.
        return _render_plan(request, case, status=200 if "show_rules" in request.POST else 400, leg_form=form)
    try:
        services.leg_create(
            plan=plan, actor=member, actor_private_key=_key(request), data=_leg_input(form.cleaned_data)
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _render_plan(request, case, status=400, leg_form=form, error=str(refused))
    return _to_plan(case)


@staff_required
@require_POST
def template_apply(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_plan_evacuation(member):
        raise PermissionDenied
    plan = _plan_of(case)
    form = TemplateApplyForm(request.POST)
    if not form.is_valid():
        return _render_plan(request, case, status=400, error=str(next(iter(form.errors.values()))[0]))
    try:
        services.template_apply(
            plan=plan, template=form.cleaned_data["template"], actor=member, actor_private_key=_key(request)
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _render_plan(request, case, status=400, error=str(refused))
    return _to_plan(case)


# --- one leg --------------------------------------------------------------------------------


def _leg_of(case: Case, leg_id: uuid.UUID) -> Leg:
    leg = selectors.leg_on_plan(_plan_of(case), leg_id)
    if leg is None:
        raise Http404
    return leg


def _documents(leg: Leg) -> list[LegDocument]:
    return list(LegDocument.objects.filter(leg=leg).order_by("pk"))


def _render_leg(
    request: HttpRequest,
    case: Case,
    leg: Leg,
    *,
    status: int = 200,
    edit_form: LegEditForm | None = None,
    progress_form: LegProgressForm | None = None,
    conflict: Conflict[None] | None = None,
    error: str = "",
) -> HttpResponse:
    member = staff_member(request)
    opened = _opened(case, member, request)
    _audit_view(member, case, leg=str(leg.pk))
    leg.refresh_from_db()
    view = selectors.open_leg(leg, opened, selectors.destinations_by_id())
    if view.content is None:
        raise Http404
    if edit_form is None:
        edit_form = LegEditForm(
            initial={
                "mode": view.content.mode,
                "from_place": view.content.from_place,
                "to_place": view.content.to_place,
                "destination": view.content.destination_id,
                "notes": view.content.notes,
                "planned_departure": view.content.planned_departure,
                "planned_arrival": view.content.planned_arrival,
                "documents": [document.kind for document in view.documents],
                "revision": leg.revision,
            }
        )
    if progress_form is None:
        progress_form = LegProgressForm(
            initial={
                "status": leg.status,
                "actual_departure": view.content.actual_departure,
                "actual_arrival": view.content.actual_arrival,
                "revision": leg.revision,
            },
            documents=view.documents,
        )
    context = {
        "case": case,
        "leg": view,
        "edit_form": edit_form,
        "progress_form": progress_form,
        "picked_destination": _picked_destination(edit_form["destination"].value()),
        "may_plan": permissions.can_plan_evacuation(member),
        "may_record_progress": permissions.can_record_evacuation_progress(member),
        "conflict": conflict,
        "error": error,
    }
    return render(request, "evac_plans/leg.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def leg_edit(request: HttpRequest, public_id: str, leg_id: uuid.UUID) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    leg = _leg_of(case, leg_id)
    if request.method == "GET":
        return _render_leg(request, case, leg)
    if not permissions.can_plan_evacuation(member):
        raise PermissionDenied
    form = LegEditForm(request.POST)
    if "show_rules" in request.POST or not form.is_valid():
        return _render_leg(request, case, leg, status=200 if "show_rules" in request.POST else 400, edit_form=form)
    data = form.cleaned_data
    try:
        conflict = save_edit(
            form,
            lambda revision: services.leg_edit(
                leg=leg,
                actor=member,
                actor_private_key=_key(request),
                data=_leg_input(data),
                expected_revision=revision,
            ),
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _render_leg(request, case, leg, status=400, edit_form=form, error=str(refused))
    if conflict:
        return _render_leg(request, case, leg, status=409, edit_form=form, conflict=conflict)
    return _to_plan(case)


@staff_required
@require_POST
def leg_progress(request: HttpRequest, public_id: str, leg_id: uuid.UUID) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    leg = _leg_of(case, leg_id)
    if not permissions.can_record_evacuation_progress(member):
        raise PermissionDenied
    form = LegProgressForm(request.POST, documents=_documents(leg))
    if not form.is_valid():
        return _render_leg(request, case, leg, status=400, progress_form=form)
    data = form.cleaned_data
    progress = services.ProgressInput(
        status=data["status"],
        actual_departure=data["actual_departure"],
        actual_arrival=data["actual_arrival"],
        documents=form.document_statuses(),
    )
    try:
        conflict = save_edit(
            form,
            lambda revision: services.leg_progress(
                leg=leg, actor=member, actor_private_key=_key(request), data=progress, expected_revision=revision
            ),
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _render_leg(request, case, leg, status=400, progress_form=form, error=str(refused))
    if conflict:
        return _render_leg(request, case, leg, status=409, progress_form=form, conflict=conflict)
    return _to_plan(case)


# --- destinations ---------------------------------------------------------------------------


def _render_destinations(request: HttpRequest, form: DestinationForm | None, status: int = 200) -> HttpResponse:
    context = {"destinations": Destination.objects.select_related("updated_by"), "form": form}
    return render(request, "evac_plans/destinations.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def destinations(request: HttpRequest) -> HttpResponse:
    member = staff_member(request)
    if request.method == "GET":
        may_edit = permissions.can_edit_organisation_knowledge(member)
        return _render_destinations(request, DestinationForm() if may_edit else None)
    if not permissions.can_edit_organisation_knowledge(member):
        raise PermissionDenied
    form = DestinationForm(request.POST)
    if not form.is_valid():
        return _render_destinations(request, form, status=400)
    services.destination_create(actor=member, **form.cleaned_data)
    return redirect("evac_plans:destinations")


def _destination(destination_id: int) -> Destination:
    destination = Destination.objects.select_related("updated_by").filter(pk=destination_id).first()
    if destination is None:
        raise Http404
    return destination


@coordinator_required
@require_http_methods(["GET", "POST"])
def destination_edit(request: HttpRequest, destination_id: int) -> HttpResponse:
    destination = _destination(destination_id)
    context: dict[str, Any] = {"destination": destination, "conflict": None}
    if request.method == "GET":
        initial = {name: getattr(destination, name) for name in services.DESTINATION_FIELDS}
        form = DestinationEditForm(initial={**initial, "revision": destination.revision})
        return render(request, "evac_plans/destination_edit.html", {**context, "form": form})
    form = DestinationEditForm(request.POST)
    if not form.is_valid():
        return render(request, "evac_plans/destination_edit.html", {**context, "form": form}, status=400)
    data = {name: value for name, value in form.cleaned_data.items() if name != "revision"}
    conflict = save_edit(
        form,
        lambda revision: services.destination_edit(
            destination=destination, actor=staff_member(request), expected_revision=revision, **data
        ),
    )
    if conflict:
        context = {"destination": _destination(destination_id), "conflict": conflict, "form": form}
        return render(request, "evac_plans/destination_edit.html", context, status=409)
    return redirect("evac_plans:destinations")


# --- plan templates -------------------------------------------------------------------------


def _template_legs(formset: Any) -> list[services.TemplateLegInput]:
    return [
        services.TemplateLegInput(
            mode=form.cleaned_data["mode"],
            from_place=form.cleaned_data["from_place"],
            to_place=form.cleaned_data["to_place"],
            destination=form.cleaned_data["destination"],
            documents=list(form.cleaned_data["documents"]),
        )
        for form in formset.forms
        if form.cleaned_data and not form.is_empty_row()
    ]


def _blank_rows(initial: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [*initial, {}, {}]


def _render_templates(
    request: HttpRequest, name_form: TemplateNameForm, formset: Any, *, status: int = 200, error: str = ""
) -> HttpResponse:
    context = {
        "templates": PlanTemplate.objects.prefetch_related("legs"),
        "name_form": name_form,
        "formset": formset,
        "error": error,
    }
    return render(request, "evac_plans/templates.html", context, status=status)


@coordinator_required
@require_http_methods(["GET", "POST"])
def templates(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        formset = TemplateLegFormSet(initial=_blank_rows([{}]), prefix="legs")
        return _render_templates(request, TemplateNameForm(), formset)
    name_form = TemplateNameForm(request.POST)
    formset = TemplateLegFormSet(request.POST, prefix="legs")
    if not (name_form.is_valid() and formset.is_valid()):
        return _render_templates(request, name_form, formset, status=400)
    try:
        services.template_create(
            actor=staff_member(request), name=name_form.cleaned_data["name"], legs=_template_legs(formset)
        )
    except Refused as refused:
        return _render_templates(request, name_form, formset, status=400, error=str(refused))
    return redirect("evac_plans:templates")


def _template(template_id: int) -> PlanTemplate:
    template = PlanTemplate.objects.select_related("updated_by").filter(pk=template_id).first()
    if template is None:
        raise Http404
    return template


def _render_template_edit(
    request: HttpRequest,
    template: PlanTemplate,
    name_form: TemplateNameEditForm,
    formset: Any,
    *,
    status: int = 200,
    conflict: Conflict[None] | None = None,
    error: str = "",
) -> HttpResponse:
    context = {"template": template, "name_form": name_form, "formset": formset, "conflict": conflict, "error": error}
    return render(request, "evac_plans/template_edit.html", context, status=status)


@coordinator_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = _template(template_id)
    if request.method == "GET":
        legs = [
            {
                "mode": leg.mode,
                "from_place": leg.from_place,
                "to_place": leg.to_place,
                "destination": leg.destination_id,
                "documents": leg.documents,
            }
            for leg in TemplateLeg.objects.filter(template=template)
        ]
        name_form = TemplateNameEditForm(initial={"name": template.name, "revision": template.revision})
        return _render_template_edit(
            request, template, name_form, TemplateLegFormSet(initial=_blank_rows(legs), prefix="legs")
        )
    name_form = TemplateNameEditForm(request.POST)
    formset = TemplateLegFormSet(request.POST, prefix="legs")
    if not (name_form.is_valid() and formset.is_valid()):
        return _render_template_edit(request, template, name_form, formset, status=400)
    try:
        conflict = save_edit(
            name_form,
            lambda revision: services.template_edit(
                template=template,
                actor=staff_member(request),
                name=name_form.cleaned_data["name"],
                legs=_template_legs(formset),
                expected_revision=revision,
            ),
        )
    except Refused as refused:
        return _render_template_edit(request, template, name_form, formset, status=400, error=str(refused))
    if conflict:
        # The typed legs stay too, with room for more as on the first showing.
        rows = [form.cleaned_data for form in formset.forms if form.cleaned_data]
        rows = [{**row, "destination": row["destination"].pk if row.get("destination") else None} for row in rows]
        kept_formset = TemplateLegFormSet(initial=_blank_rows(rows), prefix="legs")
        return _render_template_edit(
            request, _template(template_id), name_form, kept_formset, status=409, conflict=conflict
        )
    return redirect("evac_plans:templates")
