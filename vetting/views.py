"""Console views for vetting: the checklist and sign-offs on the case page, sharing a sensitive
item into a reply, and the coordinators' pages for sensitive items and red flags."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions
from accounts.access import coordinator_required, staff_keys, staff_member, staff_required
from accounts.models import StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import keys
from casework.access import case_for_member
from casework.case_page import NOT_DONE, NOT_SAVED, PanelForm, Problem, case_url, render_case_page
from casework.forms import StaffReplyForm
from casework.models import Case
from vetting import red_flags as red_flag_services
from vetting import sensitive, services
from vetting.forms import CheckTickForm, RedFlagDeleteForm, RedFlagForm, SensitiveItemForm, SignOffForm
from vetting.models import RedFlag, SensitiveItem, SignOff
from vetting.panels import VETTING


def _case_again(request: HttpRequest, case: Case, status: int, returned: PanelForm) -> HttpResponse:
    """The case page's vetting section with the vetting form's errors."""
    problem = Problem(NOT_SAVED, "vetting")
    return render_case_page(request, case, failed_panel="vetting", form=returned, status=status, problem=problem)


def _reply_again(request: HttpRequest, case: Case, status: int, error: str) -> HttpResponse:
    """The case page's conversation with the reply draft kept and why no sensitive item was put
    into it (beside the reply box, where the button is)."""
    reply = StaffReplyForm(initial={"body": request.POST.get("body", "")})
    returned = PanelForm("sensitive", reply, error=error)
    problem = Problem(NOT_DONE, "sensitive")
    return render_case_page(
        request, case, failed_panel="sensitive_share", form=returned, status=status, problem=problem
    )


@staff_required
@require_POST
def check_tick(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = CheckTickForm(request.POST)
    if not form.is_valid():
        return _case_again(request, case, 400, PanelForm("check", form))
    try:
        services.check_tick(
            case=case,
            member=member,
            member_private_key=staff_keys(request).private_key,
            item=form.cleaned_data["item"],
            note=form.cleaned_data["note"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.VettingRefused as refused:
        return _case_again(request, case, 403, PanelForm("check", form, error=str(refused)))
    messages.success(request, _("Checklist item marked."))
    return redirect(case_url(case.public_id, VETTING))


@staff_required
@require_POST
def sign_off(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = SignOffForm(request.POST)
    if not permissions.can_sign_off(member):
        refused = _("Only a verifier or a coordinator can sign off a case.")
        return _case_again(request, case, 403, PanelForm("sign_off", form, error=str(refused)))
    if not form.is_valid():
        return _case_again(request, case, 400, PanelForm("sign_off", form))
    try:
        services.sign_off_create(
            case=case,
            member=member,
            member_private_key=staff_keys(request).private_key,
            signing_key=staff_keys(request).signing_key,
            reason=form.cleaned_data["reason"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.VettingRefused as refused:
        return _case_again(request, case, 400, PanelForm("sign_off", form, error=str(refused)))
    messages.success(request, _("Your sign-off is recorded."))
    return redirect(case_url(case.public_id, VETTING))


@staff_required
@require_POST
def sign_off_withdraw(request: HttpRequest, public_id: str, sign_off_id: int) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    try:
        services.sign_off_withdraw(case=case, member=member, sign_off_id=sign_off_id)
    except SignOff.DoesNotExist:
        raise Http404 from None
    except services.VettingRefused as refused:
        return _case_again(request, case, 400, PanelForm("vetting", error=str(refused)))
    return redirect(case_url(case.public_id, VETTING))


@staff_required
@require_http_methods(["GET", "POST"])
def sensitive_choose(request: HttpRequest, public_id: str) -> HttpResponse:
    """The sensitive items the member may put into a reply to this case. Reached from the case
    page with the reply draft posted along (kept in the page, never stored), or by a plain GET."""
    member = staff_member(request)
    case = case_for_member(member, public_id)
    draft = request.POST.get("body", "") if request.method == "POST" else ""
    try:
        items = sensitive.items_to_share(
            case=case,
            member=member,
            member_private_key=staff_keys(request).private_key,
        )
    except keys.NoAccess:
        raise Http404 from None
    except sensitive.SensitiveRefused as refused:
        if request.method == "POST":  # back to the case page, the draft kept in the form
            return _reply_again(request, case, 403, str(refused))
        context = {"case": case, "items": [], "error": str(refused)}
        return render(request, "vetting/sensitive_choose.html", context, status=403)
    return render(request, "vetting/sensitive_choose.html", {"case": case, "items": items, "draft": draft})


@staff_required
@require_POST
def sensitive_insert(request: HttpRequest, public_id: str) -> HttpResponse:
    """Puts the chosen item at the end of the reply draft and shows the page again; sending
    it still needs the confirmation the reply check asks for."""
    member = staff_member(request)
    case = case_for_member(member, public_id)
    draft = request.POST.get("body", "")
    item_pk = _int(request.POST.get("sensitive_item"))
    item = SensitiveItem.objects.filter(pk=item_pk).first() if item_pk is not None else None
    try:
        if item is None:
            raise sensitive.SensitiveRefused(_("Choose an item to share."))
        text = sensitive.item_insert(
            case=case,
            member=member,
            member_private_key=staff_keys(request).private_key,
            item=item,
        )
    except keys.NoAccess:
        raise Http404 from None
    except sensitive.SensitiveRefused as refused:
        return _reply_again(request, case, 400, str(refused))
    body = f"{draft.rstrip()}\n\n{text}" if draft.strip() else text
    return render_case_page(request, case, form=PanelForm("reply", StaffReplyForm(initial={"body": body})))


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# --- coordinators: sensitive items ----------------------------------------------------------


def _sensitive_page(request: HttpRequest, form: SensitiveItemForm, status: int = 200, error: str = "") -> HttpResponse:
    member = staff_member(request)
    with transaction.atomic():
        audit_record(actor=member, action=Action.SENSITIVE_ITEMS_VIEW)
    items = sensitive.items_for(member, staff_keys(request).private_key)
    lacking = sensitive.readers_lacking_items()
    context = {"form": form, "items": items, "unshared": sensitive.items_unshared(), "lacking": lacking, "error": error}
    return render(request, "vetting/sensitive_items.html", context, status=status)


@coordinator_required
@require_http_methods(["GET", "POST"])
def sensitive_items(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _sensitive_page(request, SensitiveItemForm())
    form = SensitiveItemForm(request.POST)
    if not form.is_valid():
        return _sensitive_page(request, form, status=400)
    try:
        sensitive.sensitive_item_create(actor=staff_member(request), **form.cleaned_data)
    except sensitive.SensitiveRefused as refused:
        return _sensitive_page(request, form, status=400, error=str(refused))
    return redirect("vetting:sensitive_items")


@coordinator_required
@require_POST
def sensitive_item_delete(request: HttpRequest, item_id: int) -> HttpResponse:
    item = SensitiveItem.objects.filter(pk=item_id).first()
    if item is None:
        raise Http404
    sensitive.sensitive_item_delete(actor=staff_member(request), item=item)
    return redirect("vetting:sensitive_items")


@coordinator_required
@require_POST
def sensitive_items_share(request: HttpRequest) -> HttpResponse:
    """Share the items with one member the coordinator names by handle (never "everyone")."""
    member_pk = _int(request.POST.get("member"))
    member = StaffMember.objects.filter(pk=member_pk).first() if member_pk is not None else None
    if member is None:
        return redirect("vetting:sensitive_items")
    try:
        sensitive.sensitive_items_share(
            actor=staff_member(request),
            actor_private_key=staff_keys(request).private_key,
            member=member,
        )
    except sensitive.SensitiveRefused as refused:
        return _sensitive_page(request, SensitiveItemForm(), status=400, error=str(refused))
    return redirect("vetting:sensitive_items")


# --- coordinators: red flags ----------------------------------------------------------------


def _red_flags_page(request: HttpRequest, form: RedFlagForm, status: int = 200, error: str = "") -> HttpResponse:
    with transaction.atomic():
        audit_record(actor=staff_member(request), action=Action.RED_FLAGS_VIEW)
    flags = RedFlag.objects.select_related("created_by").prefetch_related("matches__case")[:500]
    return render(request, "vetting/red_flags.html", {"form": form, "flags": flags, "error": error}, status=status)


@coordinator_required
@require_http_methods(["GET", "POST"])
def red_flags(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _red_flags_page(request, RedFlagForm())
    form = RedFlagForm(request.POST)
    if not form.is_valid():
        return _red_flags_page(request, form, status=400)
    try:
        red_flag_services.red_flag_create(actor=staff_member(request), **form.cleaned_data)
    except red_flag_services.RedFlagRefused as refused:
        return _red_flags_page(request, form, status=400, error=str(refused))
    return redirect("vetting:red_flags")


@coordinator_required
@require_POST
def red_flag_delete(request: HttpRequest, flag_id: int) -> HttpResponse:
    flag = RedFlag.objects.filter(pk=flag_id).first()
    if flag is None:
        raise Http404
    confirm = RedFlagDeleteForm(request.POST)
    if not confirm.is_valid():
        return _red_flags_page(request, RedFlagForm(), status=400, error=str(confirm.errors["confirm"][0]))
    red_flag_services.red_flag_delete(actor=staff_member(request), flag=flag)
    messages.success(request, _("Red flag deleted."))
    return redirect("vetting:red_flags")
