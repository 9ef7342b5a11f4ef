"""Console views of the evidence locker.

Case-scoped views fetch the case through casework.access.case_for_member (404 for missing and
not-yours alike), then answer 403 to a member who does not keep evidence
(accounts.permissions.can_keep_evidence) and 404 to one without the case key. Each write calls
one service and goes back to the Evidence section; a refused form is shown again in place, with
what was typed. Opening an item is a custody entry and an audit entry, committed before
anything of it is shown.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import permissions
from accounts.access import staff_keys, staff_member, staff_required
from accounts.models import StaffMember
from casework import keys
from casework.access import case_for_member
from casework.case_page import NOT_DONE, NOT_SAVED, PanelForm, Problem, case_url, render_case_page
from casework.models import Case, Message
from casework.sealed import Refused
from evidence import selectors, services
from evidence.custody import log_public_key
from evidence.forms import ConsentForm, MessageKeepForm, TestimonyForm, WithdrawForm, consent_label, uses_text
from evidence.models import Consent
from evidence.panels import EVIDENCE
from redaction.package import key_fingerprint

PANEL = "evidence"


def _to_section(case: Case) -> HttpResponse:
    return redirect(case_url(case.public_id, EVIDENCE))


def _keeper_case(request: HttpRequest, public_id: str) -> tuple[StaffMember, Case]:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_keep_evidence(member):
        raise PermissionDenied
    return member, case


def _opened(case: Case, member: StaffMember, request: HttpRequest) -> dict[int, bytes]:
    try:
        return keys.case_private_keys(case, member, staff_keys(request).private_key)
    except keys.NoAccess:
        raise Http404 from None


def _again(request: HttpRequest, case: Case, returned: PanelForm, anchor: str, *, done: bool = False) -> HttpResponse:
    """The case page at the Evidence section with the refused form in place."""
    problem = Problem(NOT_DONE if done else NOT_SAVED, anchor)
    return render_case_page(request, case, failed_panel=PANEL, form=returned, problem=problem)


def _consent(case: Case, consent_id: str | uuid.UUID) -> Consent:
    consent = selectors.consent_on_case(case, uuid.UUID(str(consent_id)))
    if consent is None:
        raise Http404
    return consent


@staff_required
@require_POST
def consent_add(request: HttpRequest, public_id: str) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        return _again(request, case, PanelForm("consent", form), "evidence-consent")
    data = form.cleaned_data
    terms = services.ConsentTerms(uses=tuple(data["uses"]), redacted_only=data["redacted_only"], how=data["how"])
    try:
        services.consent_record(case=case, actor=member, actor_private_key=staff_keys(request).private_key, terms=terms)
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _again(request, case, PanelForm("consent", form, error=str(refused)), "evidence-consent")
    messages.success(request, _("Consent recorded."))
    return _to_section(case)


@staff_required
@require_POST
def consent_withdraw(request: HttpRequest, public_id: str, consent_id: uuid.UUID) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    consent = _consent(case, consent_id)
    form = WithdrawForm(request.POST, consent_id=consent.pk)
    if not form.is_valid():
        return _again(request, case, PanelForm("withdraw", form, about=consent.pk), f"consent-{consent.pk}", done=True)
    try:
        covered = services.consent_revoke(
            consent=consent, actor=member, actor_private_key=staff_keys(request).private_key
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        returned = PanelForm("withdraw", form, error=str(refused), about=consent.pk)
        return _again(request, case, returned, f"consent-{consent.pk}", done=True)
    messages.success(request, _("Consent withdrawn. Items kept under it: %(count)d.") % {"count": covered})
    return _to_section(case)


@staff_required
@require_POST
def testimony_add(request: HttpRequest, public_id: str) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    consents = selectors.case_consents(case, _opened(case, member, request))
    form = TestimonyForm(request.POST, consents=consents)
    if not form.is_valid():
        return _again(request, case, PanelForm("testimony", form), "evidence-testimony")
    data = form.cleaned_data
    try:
        services.item_promote_testimony(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            consent=_consent(case, data["consent"]),
            title=data["title"],
            text=data["text"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        return _again(request, case, PanelForm("testimony", form, error=str(refused)), "evidence-testimony")
    messages.success(request, _("Testimony kept as evidence."))
    return _to_section(case)


@staff_required
@require_POST
def message_keep(request: HttpRequest, public_id: str) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    consents = selectors.case_consents(case, _opened(case, member, request))
    message_id = request.POST.get("message", "")
    form = MessageKeepForm(request.POST, consents=consents, message_id=message_id)
    if not form.is_valid():
        about = form.cleaned_data.get("message")
        anchor = f"message-{about}" if about else "evidence-messages"
        return _again(request, case, PanelForm("keep", form, about=about), anchor)
    data = form.cleaned_data
    message = Message.objects.filter(case=case, pk=data["message"]).first()
    if message is None:
        raise Http404
    try:
        services.item_promote_message(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            message=message,
            consent=_consent(case, data["consent"]),
            title=data["title"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except Refused as refused:
        returned = PanelForm("keep", form, error=str(refused), about=message.pk)
        return _again(request, case, returned, f"message-{message.pk}")
    messages.success(request, _("Message kept as evidence."))
    return _to_section(case)


@staff_required
@require_GET
def item(request: HttpRequest, public_id: str, item_id: uuid.UUID) -> HttpResponse:
    member, case = _keeper_case(request, public_id)
    found = selectors.item_on_case(case, item_id)
    if found is None:
        raise Http404
    try:  # the custody and audit entries are committed before anything of the item is opened
        services.items_viewed(items=[found], actor=member, actor_private_key=staff_keys(request).private_key)
    except keys.NoAccess:
        raise Http404 from None
    opened = _opened(case, member, request)
    view = selectors.open_item(found, opened)
    consent = selectors.open_consent(found.consent, opened)
    context = {
        "case": case,
        "item": view,
        "text": view.original.decode("utf-8", errors="replace") if view.original is not None else None,
        "sha256": view.original_sha256.hex() if view.original_sha256 is not None else None,
        "consent": consent,
        "consent_label": consent_label(consent),
        "uses": uses_text(consent.uses) if consent.uses is not None else None,
        "trail": selectors.custody_trail(found, opened),
        "back": case_url(case.public_id, EVIDENCE),
    }
    return render(request, "evidence/item.html", context)


@staff_required
@require_GET
def custody(request: HttpRequest) -> HttpResponse:
    """The custody log's state and the key to publish. Nothing of any case is on this page."""
    if not permissions.can_keep_evidence(staff_member(request)):
        raise PermissionDenied
    state = selectors.custody_state()
    latest = state.check.latest if state.check is not None else None
    context = {
        "state": state,
        "latest": latest,
        "root_hash": latest.root_hash.hex() if latest is not None else "",
        "fingerprint": key_fingerprint(log_public_key()),
    }
    return render(request, "evidence/custody.html", context)
