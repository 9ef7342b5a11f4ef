"""Console pages for partner hand-off. Coordinators only (403 for everyone else); the export
page also fetches the case through casework.access.case_for_member (404 for missing and
not-yours alike)."""

from __future__ import annotations

import base64
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import sealbox.handoff as packets
from accounts.access import coordinator_required, staff_keys, staff_member
from casework import keys
from casework.access import case_for_member
from casework.case_page import case_url
from casework.models import CaseKeyWrap
from evacuation.handoff import selectors, services
from evacuation.handoff.forms import ExportForm, ImportForm, PartnerForm
from evacuation.handoff.panels import ACCESS
from evacuation.handoff.uploads import PacketUploadHandler


def _key(request: HttpRequest) -> bytes:
    return staff_keys(request).private_key


def _partners_with_trust() -> list[Any]:
    """Every partner, each marked ``trusted`` when its certificate holds."""
    partners = selectors.partners()
    for partner in partners:
        partner.trusted = services.trusted_partner_identity(partner) is not None  # type: ignore[attr-defined]  # for the template
    return partners


def _render_index(request: HttpRequest, *, status: int = 200, **forms: Any) -> HttpResponse:
    member = staff_member(request)
    row = selectors.org_keys()
    own: dict[str, object] | None = None
    if row is not None and services.trusted_org_identity(row) is None:
        own = {"untrusted": True}
    elif row is not None:
        identity = row.identity
        own = {
            "fingerprint": packets.fingerprint_text(identity.fingerprint),
            "box_hex": identity.box_public_key.hex(),
            "box_b64": base64.b64encode(identity.box_public_key).decode(),
            "verify_hex": identity.verify_key.hex(),
            "verify_b64": base64.b64encode(identity.verify_key).decode(),
            "holds": row.wraps.filter(member=member).exists(),
        }
    context = {
        "own": own,
        "missing": services.coordinators_without_keys(),
        "partners": _partners_with_trust(),
        "partner_form": forms.get("partner_form") or PartnerForm(),
        "import_form": forms.get("import_form") or ImportForm(),
        "error": forms.get("error"),
    }
    return render(request, "handoff/index.html", context, status=status)


@coordinator_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _render_index(request)


@coordinator_required
@require_POST
def keys_create(request: HttpRequest) -> HttpResponse:
    try:
        services.org_keys_create(actor=staff_member(request))
    except (services.HandoffRefused, keys.RecoveryKeyMismatch) as exc:
        return _render_index(request, status=400, error=str(exc) or _("The hand-off keys could not be created."))
    messages.success(request, _("The hand-off keys were created. Send the keys below to your partners."))
    return redirect("handoff:index")


@coordinator_required
@require_POST
def keys_share(request: HttpRequest) -> HttpResponse:
    try:
        count = services.org_keys_share(actor=staff_member(request), actor_private_key=_key(request))
    except services.HandoffRefused as exc:
        return _render_index(request, status=400, error=str(exc))
    messages.success(request, _("Coordinators given the hand-off keys: %(count)s.") % {"count": count})
    return redirect("handoff:index")


@coordinator_required
@require_POST
def partner_add(request: HttpRequest) -> HttpResponse:
    form = PartnerForm(request.POST)
    if not form.is_valid():
        return _render_index(request, status=400, partner_form=form)
    try:
        services.partner_add(actor=staff_member(request), **form.cleaned_data)
    except services.HandoffRefused as exc:
        form.add_error(None, str(exc))
        return _render_index(request, status=400, partner_form=form)
    messages.success(request, _("The partner was added. Compare the fingerprint with them by phone or in person."))
    return redirect("handoff:index")


@csrf_exempt  # the packet's upload handler must be in place before the CSRF check reads the body
@coordinator_required
@require_POST
def packet_import(request: HttpRequest) -> HttpResponse:
    handler = PacketUploadHandler(request)
    request.upload_handlers = [handler]
    return _packet_import(request, handler)


@csrf_protect
def _packet_import(request: HttpRequest, handler: PacketUploadHandler) -> HttpResponse:
    member = staff_member(request)
    form = ImportForm(request.POST, request.FILES, packet_too_big=handler.too_big)
    if not form.is_valid():
        return _render_index(request, status=400, import_form=form)
    try:
        case = services.handoff_import(
            actor=member,
            actor_private_key=_key(request),
            partner=form.cleaned_data["partner"],
            raw=form.cleaned_data["packet"],
        )
    except services.HandoffRefused as exc:
        form.add_error(None, str(exc))
        return _render_index(request, status=400, import_form=form)
    messages.success(request, _("The packet was checked and opened into a new case for the on-call team."))
    if CaseKeyWrap.objects.filter(case_key__case=case, member=member).exists():
        # Where the partner's record of the case is shown, with the form to issue a codename.
        return redirect(case_url(case.public_id, ACCESS))
    return redirect("handoff:index")


@coordinator_required
@require_http_methods(["GET", "POST"])
def case_export(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = ExportForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            packet = services.handoff_export(
                case=case,
                actor=member,
                actor_private_key=_key(request),
                partner=data["partner"],
                fields=list(data["fields"]),
                consent_how=data["consent_how"],
                consent_date=data["consent_date"],
            )
        except services.HandoffRefused as exc:
            error = str(exc)
        else:
            response = HttpResponse(packet.data, content_type="application/octet-stream")
            response["Content-Disposition"] = f'attachment; filename="{packet.filename}"'
            response["Cache-Control"] = "no-store"
            return response
    status = 400 if request.method == "POST" else 200
    context = {
        "case": case,
        "form": form,
        "error": error,
        "exports": selectors.case_exports(case),
        "partners": _partners_with_trust(),
        "has_keys": selectors.org_keys() is not None,
    }
    return render(request, "handoff/export.html", context, status=status)
