"""Console views: the safe-house pages (logistics and coordinators, 403 for others) and the
placement actions on a case page (through casework.access.case_for_member: 404 for missing
and not-yours alike)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions
from accounts.access import staff_keys, staff_member, staff_required
from accounts.models import StaffMember
from casework import keys
from casework.access import case_for_member
from casework.case_page import PanelForm, case_url, render_case_page
from casework.sealed import EditConflict, save_edit
from casework.selectors import cases_visible_to
from evacuation.safehouses import selectors, services
from evacuation.safehouses.forms import PlacementForm, SafeHouseCloseForm, SafeHouseEditForm, SafeHouseForm
from evacuation.safehouses.models import Placement, SafeHouse
from evacuation.safehouses.panels import SAFE_HOUSE


def _manager(request: HttpRequest) -> StaffMember:
    member = staff_member(request)
    if not permissions.can_manage_safe_houses(member):
        raise PermissionDenied
    return member


def _render_list(request: HttpRequest, form: SafeHouseForm, status: int = 200, error: str = "") -> HttpResponse:
    context = {"houses": selectors.houses_with_occupancy(), "form": form, "error": error}
    return render(request, "safehouses/list.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def house_list(request: HttpRequest) -> HttpResponse:
    member = _manager(request)
    if request.method == "GET":
        return _render_list(request, SafeHouseForm())
    form = SafeHouseForm(request.POST)
    if not form.is_valid():
        return _render_list(request, form, status=400)
    try:
        house = services.safe_house_create(actor=member, **form.cleaned_data)
    except services.SafeHouseRefused as refused:
        return _render_list(request, form, status=400, error=str(refused))
    return redirect("safehouses:detail", house_id=house.pk)


def _render_detail(request: HttpRequest, house: SafeHouse, member: StaffMember, **extra: Any) -> HttpResponse:
    status = extra.pop("status", 200)
    visible = set(cases_visible_to(member).values_list("pk", flat=True))
    placements = selectors.house_placements(house)
    context = {
        "house": house,
        "occupied": sum(1 for placement in placements if placement.is_active),
        "placements": [(placement, placement.case_id in visible) for placement in placements],
        "lacking": services.readers_lacking_keys(house) if permissions.can_share_safe_house(member) else [],
        **extra,
    }
    return render(request, "safehouses/detail.html", context, status=status)


@staff_required
@require_http_methods(["GET"])
def house_detail(request: HttpRequest, house_id: int) -> HttpResponse:
    member = _manager(request)
    return _render_detail(request, get_object_or_404(SafeHouse, pk=house_id), member)


@staff_required
@require_POST
def house_address(request: HttpRequest, house_id: int) -> HttpResponse:
    """The address and notes, shown after an audited request (POST: never in history)."""
    member = _manager(request)
    house = get_object_or_404(SafeHouse, pk=house_id)
    try:
        address, notes = services.safe_house_open(
            house=house,
            member=member,
            member_private_key=staff_keys(request).private_key,
        )
    except services.SafeHouseRefused as refused:
        return _render_detail(request, house, member, error=str(refused), status=403)
    house.refresh_from_db()
    return _render_detail(request, house, member, address=address, notes=notes)


@staff_required
@require_POST
def house_share(request: HttpRequest, house_id: int) -> HttpResponse:
    """A coordinator gives one named coordinator or logistics member the house's keys."""
    member = _manager(request)
    if not permissions.can_share_safe_house(member):
        raise PermissionDenied
    house = get_object_or_404(SafeHouse, pk=house_id)
    chosen = (
        StaffMember.objects.filter(pk=request.POST.get("member", "")).first()
        if request.POST.get("member", "").isdigit()
        else None
    )
    try:
        if chosen is None:
            raise services.SafeHouseRefused(_("This address cannot be shared with this account."))
        services.safe_house_share(
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            house=house,
            member=chosen,
        )
    except services.SafeHouseRefused as refused:
        return _render_detail(request, house, member, error=str(refused), status=400)
    return redirect("safehouses:detail", house_id=house.pk)


CONFLICT_MESSAGE = _lazy(
    "Someone else changed this safe house while you were editing. It is shown as it is now; check and save again."
)


def _render_edit(
    request: HttpRequest, house: SafeHouse, form: SafeHouseEditForm, status: int = 200, error: str = ""
) -> HttpResponse:
    context = {"house": house, "form": form, "error": error, "with_address": "address" in form.fields}
    return render(request, "safehouses/edit.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def house_edit(request: HttpRequest, house_id: int) -> HttpResponse:
    """Code name and capacity; the address and notes only after the editor opens them (POST
    ``reveal``: an audited viewing, never a GET page in history)."""
    member = _manager(request)
    house = get_object_or_404(SafeHouse, pk=house_id)
    if house.is_closed:
        return _render_detail(request, house, member, error=_("This safe house is closed."), status=409)
    initial = {"code_name": house.code_name, "capacity": house.capacity, "revision": house.revision}
    if request.method == "GET":
        return _render_edit(request, house, SafeHouseEditForm(initial=initial))
    if "reveal" in request.POST:
        try:
            address, notes = services.safe_house_open(
                house=house,
                member=member,
                member_private_key=staff_keys(request).private_key,
            )
        except services.SafeHouseRefused as refused:
            return _render_edit(request, house, SafeHouseEditForm(initial=initial), status=403, error=str(refused))
        initial.update(address=address, notes=notes, with_address=True)
        return _render_edit(request, house, SafeHouseEditForm(initial=initial, with_address=True))
    with_address = request.POST.get("with_address") in ("True", "true", "on", "1")
    form = SafeHouseEditForm(request.POST, with_address=with_address)
    if not form.is_valid():
        return _render_edit(request, house, form, status=400)
    data = form.cleaned_data
    try:
        conflict = save_edit(
            form,
            lambda revision: services.safe_house_edit(
                actor=member,
                actor_private_key=staff_keys(request).private_key,
                house=house,
                expected_revision=revision,
                code_name=data["code_name"],
                capacity=data["capacity"],
                address=data["address"] if with_address else None,
                notes=data["notes"] if with_address else None,
            ),
        )
    except services.SafeHouseRefused as refused:
        return _render_edit(request, house, form, status=409, error=str(refused))
    if conflict:
        # What was typed stays; the form now carries the current revision.
        house.refresh_from_db()
        return _render_edit(request, house, form, status=409, error=str(CONFLICT_MESSAGE))
    return redirect("safehouses:detail", house_id=house.pk)


@staff_required
@require_POST
def house_close(request: HttpRequest, house_id: int) -> HttpResponse:
    member = _manager(request)
    house = get_object_or_404(SafeHouse, pk=house_id)
    form = SafeHouseCloseForm(request.POST)
    if not form.is_valid():
        error = str(next(iter(form.errors.values()))[0])
        return _render_detail(request, house, member, error=error, status=400)
    try:
        services.safe_house_close(actor=member, house=house, expected_revision=form.cleaned_data["revision"])
    except EditConflict:
        house.refresh_from_db()
        return _render_detail(request, house, member, error=str(CONFLICT_MESSAGE), status=409)
    except services.SafeHouseRefused as refused:
        return _render_detail(request, house, member, error=str(refused), status=409)
    return redirect("safehouses:detail", house_id=house.pk)


@staff_required
@require_POST
def placement_confirm(request: HttpRequest, placement_id: uuid.UUID) -> HttpResponse:
    """A coordinator or logistics member confirms a caseworker's request for a place, from
    the safe-house page or the case page (``back=case``: back to the case page, if they can
    open the case)."""
    member = _manager(request)
    placement = get_object_or_404(Placement.objects.select_related("case", "safe_house"), pk=placement_id)
    try:
        services.placement_confirm(
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            placement=placement,
        )
    except services.SafeHouseRefused as refused:
        return _render_detail(request, placement.safe_house, member, error=str(refused), status=409)
    if request.POST.get("back") == "case" and cases_visible_to(member).filter(pk=placement.case_id).exists():
        return redirect(case_url(placement.case.public_id, SAFE_HOUSE))
    return redirect("safehouses:detail", house_id=placement.safe_house_id)


# --- on the case page ---------------------------------------------------------------------


@staff_required
@require_POST
def placement_add(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = PlacementForm(request.POST)
    if not form.is_valid():
        return render_case_page(request, case, failed_panel="safehouse", form=PanelForm("placement", form))
    try:
        services.placement_create(
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            case=case,
            house=form.cleaned_data["safe_house"],
            starts_on=form.cleaned_data["starts_on"],
            until=form.cleaned_data["until"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.SafeHouseRefused as refused:
        returned = PanelForm("placement", form, error=str(refused))
        return render_case_page(request, case, failed_panel="safehouse", form=returned, status=409)
    return redirect(case_url(case.public_id, SAFE_HOUSE))


@staff_required
@require_POST
def placement_end(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    placement = Placement.objects.filter(case=case, ended_at__isnull=True).first()
    if placement is None:
        raise Http404
    try:
        services.placement_end(
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            case=case,
            placement=placement,
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.SafeHouseRefused as refused:
        returned = PanelForm("placement", error=str(refused))
        return render_case_page(request, case, failed_panel="safehouse", form=returned, status=409)
    return redirect(case_url(case.public_id, SAFE_HOUSE))


@staff_required
@require_POST
def placement_address(request: HttpRequest, public_id: str) -> HttpResponse:
    """The case page with the address of the house the person is placed in, for a holder of
    the case key who places people (the viewing is audited before the address is decrypted).
    Verifiers and analysts on the team: 403."""
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_read_placement_address(member):
        raise PermissionDenied
    try:
        found = services.placement_address(
            case=case,
            member=member,
            member_private_key=staff_keys(request).private_key,
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.SafeHouseRefused as refused:
        returned = PanelForm("placement", error=str(refused))
        return render_case_page(request, case, failed_panel="safehouse", form=returned, status=409)
    # Shown in this one response (not a refusal): the panel opens with the address.
    returned = PanelForm("address", about=found[1] if found is not None else "")
    return render_case_page(request, case, failed_panel="safehouse", form=returned, status=200)
