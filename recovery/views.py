"""The recovery pages: the state of the recovery key, starting a ceremony, entering shares,
performing its one action, and showing new trustees their shares."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

import sealbox
from accounts.access import recovery_required, staff_member
from accounts.forms import SharePlanForm
from accounts.models import RecoveryKey, StaffMember
from accounts.services import SharePlan
from core.vault import vault_get, vault_put
from recovery import services
from recovery.forms import CaseAccessForm, ShareEntryForm
from recovery.models import Ceremony, CeremonyShare
from staff.handout import handout_begin, handout_confirm, handout_forget, handout_load
from staff.views import share_page

SHARE_ERRORS = {
    "typo": _(
        "This share has a mistake: a word is misspelled, missing or out of place. Check it against the paper, word by word."
    ),
    "other_set": _("This share belongs to another set of shares, not to this organisation's recovery key."),
    "duplicate": _("This share has been entered already."),
}


def _key_name(ceremony_id: uuid.UUID) -> str:
    return f"recovery-ceremony:{ceremony_id}"


def _handout_name(ceremony_id: uuid.UUID) -> str:
    return f"recovery-reshare:{ceremony_id}"


@recovery_required
@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    return _home(request, CaseAccessForm(), SharePlanForm())


def _home(
    request: HttpRequest, case_form: CaseAccessForm, plan_form: SharePlanForm, *, error: object = ""
) -> HttpResponse:
    services.ceremonies_expire()
    key = RecoveryKey.objects.filter(slot=1).first()
    share_set = services.current_share_set()
    holders: list[tuple[int, StaffMember | None]] = []
    if share_set is not None:
        members = StaffMember.objects.in_bulk([holder for holder in share_set.holder_ids if holder])
        holders = [
            (number, members.get(holder) if holder else None)
            for number, holder in enumerate(share_set.holder_ids, start=1)
        ]
    context = {
        "key": key,
        "share_set": share_set,
        "holders": holders,
        "ceremonies": Ceremony.objects.select_related("started_by", "case", "member").order_by("started_at"),
        "case_form": case_form,
        "plan_form": plan_form,
        "error": error,
    }
    return render(
        request, "recovery/home.html", context, status=400 if error or case_form.errors or plan_form.errors else 200
    )


@recovery_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    actor = staff_member(request)
    purpose = request.POST.get("purpose")
    case_form, plan_form = CaseAccessForm(), SharePlanForm()
    try:
        if purpose == Ceremony.Purpose.CASE_ACCESS:
            case_form = CaseAccessForm(request.POST)
            if not case_form.is_valid():
                return _home(request, case_form, plan_form)
            data = case_form.cleaned_data
            ceremony, private = services.ceremony_start(
                actor=actor, purpose=purpose, case=data["case"], member=data["member"]
            )
        elif purpose == Ceremony.Purpose.RESHARE:
            plan_form = SharePlanForm(request.POST)
            if not plan_form.is_valid():
                return _home(request, case_form, plan_form)
            ceremony, private = services.ceremony_start(
                actor=actor,
                purpose=purpose,
                plan_threshold=plan_form.cleaned_data["threshold"],
                plan_holders=plan_form.holders(),
            )
        else:
            raise Http404
    except services.CeremonyRefused as refused:
        return _home(request, case_form, plan_form, error=str(refused))
    vault_put(request, _key_name(ceremony.id), private)
    return redirect("recovery:ceremony", ceremony_id=ceremony.id)


def _ceremony_or_404(ceremony_id: uuid.UUID) -> Ceremony:
    ceremony = services.ceremony_live(ceremony_id)
    if ceremony is None:
        raise Http404
    return ceremony


@recovery_required
@require_http_methods(["GET", "POST"])
def ceremony(request: HttpRequest, ceremony_id: uuid.UUID) -> HttpResponse:
    """Enter one share. Each trustee on their own device, logged in as themselves, or in turn
    on one device; the share is sealed to the ceremony's key at once."""
    found = _ceremony_or_404(ceremony_id)
    form = ShareEntryForm(request.POST or None)
    error: object = ""
    entered = None
    if request.method == "POST":
        if not form.is_valid():
            error = _("Type the words of your share.")
        else:
            try:
                entered = services.share_enter(
                    ceremony=found, actor=staff_member(request), text=form.cleaned_data["share"]
                )
            except sealbox.ShareError as wrong:
                error = SHARE_ERRORS.get(wrong.reason, SHARE_ERRORS["typo"])
            except services.CeremonyRefused as refused:
                error = str(refused)
        form = ShareEntryForm()  # a share is never shown back, right or wrong
    return _ceremony_page(request, found, form, error=error, entered=entered)


def _ceremony_page(
    request: HttpRequest, found: Ceremony, form: ShareEntryForm, *, error: object = "", entered: int | None = None
) -> HttpResponse:
    shares = list(CeremonyShare.objects.filter(ceremony=found).select_related("entered_by").order_by("entered_at"))
    needed = services.threshold()
    is_starter = staff_member(request).pk == found.started_by_id
    context = {
        "ceremony": found,
        "shares": shares,
        "needed": needed,
        "missing": max(needed - len(shares), 0),
        "single_holder": services.current_share_set() is None,
        "is_starter": is_starter,
        "can_finish": is_starter and vault_get(request, _key_name(found.id)) is not None,
        "form": form,
        "error": error,
        "entered": entered,
    }
    return render(request, "recovery/ceremony.html", context, status=400 if error else 200)


@recovery_required
@require_POST
def perform(request: HttpRequest, ceremony_id: uuid.UUID) -> HttpResponse:
    """The starter, once k shares are in: rebuild the key in this request and do the one action
    (give the case key), or check the shares and begin showing the new shares (reshare)."""
    found = _ceremony_or_404(ceremony_id)
    actor = staff_member(request)
    private = vault_get(request, _key_name(found.id))
    if not private:
        error = _("Only the coordinator who started the ceremony, in the same browser, can finish it.")
        return _ceremony_page(request, found, ShareEntryForm(), error=error)
    try:
        if found.purpose == Ceremony.Purpose.CASE_ACCESS:
            given = services.ceremony_give_case_key(ceremony=found, actor=actor, ceremony_private_key=private)
        else:
            plan = services.ceremony_reshare_plan(ceremony=found, actor=actor, ceremony_private_key=private)
            handout_begin(request, _handout_name(found.id), plan)
            return redirect("recovery:shares", ceremony_id=found.id)
    except services.CeremonyRefused as refused:
        return _ceremony_page(request, found, ShareEntryForm(), error=str(refused))
    vault_put(request, _key_name(found.id), b"")
    context = {"ceremony": found, "given": given}
    return render(request, "recovery/done.html", context)


@recovery_required
@require_POST
def cancel(request: HttpRequest, ceremony_id: uuid.UUID) -> HttpResponse:
    found = _ceremony_or_404(ceremony_id)
    try:
        services.ceremony_cancel(ceremony=found, actor=staff_member(request))
    except services.CeremonyRefused as refused:
        return _ceremony_page(request, found, ShareEntryForm(), error=str(refused))
    vault_put(request, _key_name(found.id), b"")
    handout_forget(request, _handout_name(found.id))
    return redirect("recovery:home")


@recovery_required
@require_http_methods(["GET", "POST"])
def shares(request: HttpRequest, ceremony_id: uuid.UUID) -> HttpResponse:
    """The new shares of a reshare ceremony, one page per new trustee; after the last one the
    old key is rebuilt once more and every recovery wrap is sealed to the new key."""
    found = _ceremony_or_404(ceremony_id)
    handout = handout_load(request, _handout_name(found.id))
    private = vault_get(request, _key_name(found.id))
    if handout is None or not private or staff_member(request).pk != found.started_by_id:
        return redirect("recovery:ceremony", ceremony_id=found.id)
    if request.method == "POST":
        if not handout_confirm(request, _handout_name(found.id), handout):
            return share_page(request, handout, wrong=True)
        if handout.done:
            return _reshare_finish(request, found, handout.plan, private)
    return share_page(request, handout)


def _reshare_finish(request: HttpRequest, found: Ceremony, plan: SharePlan, private: bytes) -> HttpResponse:
    try:
        counts = services.ceremony_reshare_finish(
            ceremony=found, actor=staff_member(request), ceremony_private_key=private, plan=plan
        )
    except services.CeremonyRefused as refused:
        return _ceremony_page(request, found, ShareEntryForm(), error=str(refused))
    finally:
        handout_forget(request, _handout_name(found.id))
    vault_put(request, _key_name(found.id), b"")
    context = {"public_key": plan.public_key.hex(), "counts": counts, "threshold": plan.threshold}
    return render(request, "recovery/rotated.html", context)
