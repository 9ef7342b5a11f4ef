"""Console views for cases: inbox, case page, reply, mark as read, attachments."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions
from accounts.access import coordinator_required, staff_keys, staff_member, staff_required
from accounts.models import RecoveryKey, StaffMember
from audit.models import Action
from audit.services import audit_record
from casework import case_page, hooks, keys, selectors, services, teams
from casework.access import case_for_member
from casework.case_page import NOT_DONE, NOT_SAVED, NOT_SENT, PanelForm, Problem, render_case_page
from casework.forms import (
    EDIT_CONFLICT_MESSAGE,
    CaseFlagsForm,
    CaseMemberForm,
    CodenameReplaceForm,
    DecoyReplyForm,
    DuressClearForm,
    MemberRemoveForm,
    MessageReleaseForm,
    StaffReplyForm,
)
from casework.panels import ACCESS, STATE
from casework.sealed import save_edit
from core.body import NOT_WHOLE, body_incomplete, handles_incomplete_body
from core.downloads import attachment_response
from notifications import reach as notify_reach

COVER_SENSITIVE_REFUSED = _(
    "Not sent. This reply seems to contain sensitive information, and whoever uses the danger word "
    "may be a captor: never put addresses, meeting points, names or other people's details in the cover "
    "conversation."
)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("casework:inbox")


@staff_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    member = staff_member(request)
    page, rows = selectors.inbox_page(member, staff_keys(request).private_key, request.GET.get("page"))
    context = {
        "page": page,
        "rows": rows,
        "needs_recovery_key": not RecoveryKey.objects.exists(),
        # The first night: a key holder must notice that a new colleague waits for a key, and
        # the new colleague why the inbox is empty (casework.teams).
        "keys_to_hand_on": teams.keys_to_hand_on(member),
        "keys_owed_to_me": teams.keys_owed_to(member),
        "reach": notify_reach.gaps_for(member, timezone.now()),  # nobody would be told of a case in danger
    }
    return render(request, "casework/inbox.html", context)


@staff_required
@require_GET
def case_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_for_member(staff_member(request), public_id)
    return render_case_page(request, case)


@handles_incomplete_body
@staff_required
@require_POST
def case_reply(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = StaffReplyForm(request.POST)
    incomplete = body_incomplete(request)
    if incomplete:  # nothing is sent; what arrived stays in the reply box
        form.add_error(None, NOT_WHOLE)
    if incomplete or not form.is_valid():
        return render_case_page(
            request,
            case,
            failed_panel="conversation",
            form=PanelForm("reply", form),
            problem=Problem(NOT_SENT, "reply"),
        )
    try:
        message = services.message_post_from_staff(
            case=case,
            member=member,
            member_private_key=staff_keys(request).private_key,
            signing_key=staff_keys(request).signing_key,
            body=form.cleaned_data["body"],
            sensitive_confirmed=request.POST.get("send_sensitive") == "yes",
        )
    except hooks.ReplyStopped as stopped:  # the draft stays in the form
        returned = PanelForm("reply", form, about=stopped)
        return render_case_page(
            request, case, failed_panel="conversation", form=returned, problem=Problem(NOT_SENT, "reply")
        )
    except keys.NoAccess:
        raise Http404 from None
    if message.held:
        messages.warning(request, _("Reply held: the person sees it only once a coordinator releases it."))
    else:
        messages.success(request, _("Reply sent."))
    return redirect("casework:case", public_id=case.public_id)


@staff_required
@require_POST
def decoy_reply(request: HttpRequest, public_id: str) -> HttpResponse:
    """A reply in the cover conversation shown after a danger-word login."""
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = DecoyReplyForm(request.POST)
    if not form.is_valid():
        returned = PanelForm("decoy", form)
        return render_case_page(
            request, case, failed_panel="conversation", form=returned, problem=Problem(NOT_SENT, "cover")
        )
    try:
        services.decoy_reply_post(
            case=case,
            member=member,
            member_private_key=staff_keys(request).private_key,
            signing_key=staff_keys(request).signing_key,
            body=form.cleaned_data["decoy_body"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.DuressActionRefused as refused:
        returned = PanelForm("decoy", form, error=str(refused))
        return render_case_page(
            request, case, failed_panel="conversation", form=returned, status=403, problem=Problem(NOT_SENT, "cover")
        )
    except hooks.ReplyStopped:  # the draft stays in the form
        returned = PanelForm("decoy", form, error=str(COVER_SENSITIVE_REFUSED))
        return render_case_page(
            request, case, failed_panel="conversation", form=returned, problem=Problem(NOT_SENT, "cover")
        )
    messages.success(request, _("Sent in the cover conversation."))
    return redirect("casework:case", public_id=case.public_id)


@staff_required
@require_POST
def case_mark_read(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    services.case_mark_read(case=case, member=member)
    messages.success(request, _("The person's messages are marked as read."))
    return redirect("casework:inbox")


@staff_required
@require_http_methods(["GET"])
def case_attachment(request: HttpRequest, public_id: str, attachment_id: uuid.UUID) -> HttpResponseBase:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    found = selectors.attachment_for_staff(case, member, staff_keys(request).private_key, attachment_id)
    if found is None:
        raise Http404
    view, chunks = found
    with transaction.atomic():
        audit_record(
            actor=member, action=Action.ATTACHMENT_DOWNLOAD, case=case, details={"attachment": str(attachment_id)}
        )
    return attachment_response(view.name, view.content_type, view.size, chunks)


@staff_required
@require_http_methods(["GET"])
def case_attachment_original(request: HttpRequest, public_id: str, attachment_id: uuid.UUID) -> HttpResponseBase:
    """The file as the person sent it, location and camera data included: evidence, for
    coordinators only (casework/originals.py). Everyone else gets the cleaned copy above."""
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_open_original_files(member):
        raise PermissionDenied
    found = selectors.original_for_member(case, member, staff_keys(request).private_key, attachment_id)
    if found is None:
        raise Http404
    view, chunks = found
    with transaction.atomic():
        audit_record(
            actor=member,
            action=Action.ATTACHMENT_ORIGINAL_DOWNLOAD,
            case=case,
            details={"attachment": str(attachment_id)},
        )
    return attachment_response(view.name, view.content_type, view.size, chunks)


# --- who can read a case ------------------------------------------------------------------


@staff_required
@require_POST
def case_member_add(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = CaseMemberForm(request.POST, case=case)
    if not form.is_valid():
        return render_case_page(
            request, case, failed_panel="holders", form=PanelForm("member", form), problem=Problem(NOT_DONE, "holders")
        )
    try:
        services.case_member_add(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            member=form.cleaned_data["member"],
        )
    except services.MembershipRefused as refused:
        returned = PanelForm("member", error=str(refused))
        return render_case_page(
            request, case, failed_panel="holders", form=returned, problem=Problem(NOT_DONE, "holders")
        )
    messages.success(request, _("Access given."))
    return redirect(case_page.case_url(case.public_id, ACCESS))


@staff_required
@require_POST
def case_member_remove(request: HttpRequest, public_id: str, member_id: int) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    removed = StaffMember.objects.filter(pk=member_id).first()
    if removed is None:
        raise Http404
    confirm = MemberRemoveForm(request.POST)
    if not confirm.is_valid():
        error = str(confirm.errors["confirm"][0])
        returned = PanelForm("member", error=error)
        return render_case_page(
            request, case, failed_panel="holders", form=returned, problem=Problem(NOT_DONE, "holders")
        )
    try:
        services.case_member_remove(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            member=removed,
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.MembershipRefused as refused:
        returned = PanelForm("member", error=str(refused))
        return render_case_page(
            request, case, failed_panel="holders", form=returned, problem=Problem(NOT_DONE, "holders")
        )
    if removed.pk == member.pk:  # left the case: its page is no longer theirs
        messages.success(request, _("You left the case."))
        return redirect("casework:inbox")
    messages.success(request, _("Removed from the case."))
    return redirect(case_page.case_url(case.public_id, ACCESS))


@coordinator_required
@require_GET
def cases_all(request: HttpRequest) -> HttpResponse:
    member = staff_member(request)
    with transaction.atomic():
        audit_record(actor=member, action=Action.CASES_LIST_ALL)
    page, rows = selectors.all_cases_page(member, request.GET.get("page"))
    return render(request, "casework/cases_all.html", {"page": page, "rows": rows})


@coordinator_required
@require_http_methods(["GET", "POST"])
def staff_disable(request: HttpRequest, member_id: int) -> HttpResponse:
    """GET asks for confirmation; POST disables the account and rotates every case it held."""
    actor = staff_member(request)
    target = StaffMember.objects.filter(pk=member_id).first()
    if target is None:
        raise Http404
    held = selectors.cases_visible_to(target).count()
    error = ""
    if request.method == "POST":
        try:
            services.staff_disable(actor=actor, actor_private_key=staff_keys(request).private_key, member=target)
        except services.MembershipRefused as refused:
            error = str(refused)
        else:
            return redirect("accounts:staff")
    context = {"target": target, "held": held, "error": error}
    return render(request, "casework/staff_disable.html", context, status=400 if error else 200)


# --- duress: held replies, clearing the duress state ----------------------------------------


@staff_required
@require_POST
def message_release(request: HttpRequest, public_id: str, message_id: uuid.UUID) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    if not permissions.can_release_held_reply(member):
        raise PermissionDenied
    confirm = MessageReleaseForm(request.POST)
    if not confirm.is_valid():
        returned = PanelForm("duress", error=str(confirm.errors["confirm"][0]))
        return render_case_page(
            request, case, failed_panel="case_warnings", form=returned, problem=Problem(NOT_SENT, "alerts")
        )
    try:
        released = services.message_release(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            actor_signing_key=staff_keys(request).signing_key,
            message_id=message_id,
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.DuressActionRefused as refused:
        returned = PanelForm("duress", error=str(refused))
        return render_case_page(
            request, case, failed_panel="case_warnings", form=returned, problem=Problem(NOT_SENT, "alerts")
        )
    note = services.held_reply_release_note(case, released.created_at)
    messages.success(request, _("Reply released. %(when)s") % {"when": note})
    return redirect("casework:case", public_id=case.public_id)


@staff_required
@require_POST
def case_duress_clear(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = DuressClearForm(request.POST)
    if not form.is_valid():
        returned = PanelForm("duress_clear", form)
        return render_case_page(
            request, case, failed_panel="duress_clear", form=returned, problem=Problem(NOT_DONE, "alerts")
        )
    try:
        services.case_duress_clear(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
            reason=form.cleaned_data["reason"],
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.DuressActionRefused as refused:
        returned = PanelForm("duress", error=str(refused))
        return render_case_page(
            request, case, failed_panel="case_warnings", form=returned, status=403, problem=Problem(NOT_DONE, "alerts")
        )
    messages.success(request, _("The danger-word state is cleared."))
    return redirect("casework:case", public_id=case.public_id)


@staff_required
@require_POST
@never_cache
def codename_burn(request: HttpRequest, public_id: str) -> HttpResponse:
    """Shows the new codename in this one response: it is not stored, so it cannot be shown again."""
    member = staff_member(request)
    case = case_for_member(member, public_id)
    confirm = CodenameReplaceForm(request.POST)
    if not confirm.is_valid():
        returned = PanelForm("codename", confirm)
        return render_case_page(
            request, case, failed_panel="codename", form=returned, problem=Problem(NOT_DONE, "codename")
        )
    try:
        issued = services.codename_burn(
            case=case,
            actor=member,
            actor_private_key=staff_keys(request).private_key,
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.DuressActionRefused as refused:
        returned = PanelForm("codename", error=str(refused))
        return render_case_page(
            request, case, failed_panel="codename", form=returned, status=403, problem=Problem(NOT_DONE, "codename")
        )
    context = {"case": case, "codename": issued.codename, "details": issued.details}
    return render(request, "casework/codename_issued.html", context)


@staff_required
@require_POST
def case_flags(request: HttpRequest, public_id: str) -> HttpResponse:
    member = staff_member(request)
    case = case_for_member(member, public_id)
    form = CaseFlagsForm(request.POST)
    if not form.is_valid():
        return render_case_page(
            request, case, failed_panel="flags", form=PanelForm("flags", form), problem=Problem(NOT_SAVED, "flags")
        )
    try:
        conflict = save_edit(
            form,
            lambda revision: services.case_flags_set(
                case=case,
                actor=member,
                actor_private_key=staff_keys(request).private_key,
                hostile_relative=form.cleaned_data["hostile_relative"],
                hostile_note=form.cleaned_data["hostile_note"],
                no_contact_via=form.cleaned_data["no_contact_via"],
                expected_revision=revision,
            ),
        )
    except keys.NoAccess:
        raise Http404 from None
    except services.DuressActionRefused as refused:
        returned = PanelForm("flags", error=str(refused))
        return render_case_page(
            request, case, failed_panel="flags", form=returned, status=403, problem=Problem(NOT_SAVED, "flags")
        )
    if conflict:
        # The page shows the case as it is now; the form keeps what was typed, based on the
        # current revision, so checking and saving again is one click.
        returned = PanelForm("flags", form, about=EDIT_CONFLICT_MESSAGE)
        return render_case_page(
            request, case, failed_panel="flags", form=returned, status=409, problem=Problem(NOT_SAVED, "flags")
        )
    messages.success(request, _("Warnings saved."))
    return redirect(case_page.case_url(case.public_id, STATE))
