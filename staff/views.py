"""Staff sign-up (first coordinator and invites), TOTP enrolment, login and logout."""

from __future__ import annotations

import logging

import segno
from django.conf import settings
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth import login as django_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

import sealbox
from accounts import services
from accounts.access import coordinator_required, staff_keys, staff_member, staff_required
from accounts.forms import (
    CodeForm,
    EnrolForm,
    InviteForm,
    LoginForm,
    PasswordChangeForm,
    PasswordConfirmForm,
    SharePlanForm,
)
from accounts.keyring import (
    UnlockedKeys,
    session_remember_generation,
    session_remember_private_key,
    session_remember_signing_key,
    staff_keys_proven,
    staff_keys_unlock,
)
from accounts.models import RecoveryKey, Role, SignupLink, StaffMember
from audit.chain import handle_hash
from audit.models import Action
from audit.services import audit_record
from core.vault import vault_clear, vault_get, vault_put, vault_start_fresh
from notifications import services as notify_services
from notifications.forms import SignupChannelForm
from notifications.models import Channel
from notifications.outbound import WebhookRefused
from notifications.reach import reach_of
from staff.handout import Handout, handout_begin, handout_confirm, handout_context, handout_forget, handout_load

logger = logging.getLogger(__name__)

_ENROLLING = "enrolling_member"
_RECOVERY = "show_recovery"
_PENDING_RECOVERY = "pending_recovery_shares"
_NEW_CODES = "new_recovery_codes"
_AFTER_CODES = "after_recovery_codes"


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = services.signup_link_find(token)
    except services.LinkNotUsable:
        return render(request, "accounts/link_expired.html", status=410)
    form = EnrolForm(request.POST or None)
    channel_form = SignupChannelForm(request.POST or None)
    both_valid = request.method == "POST" and all([form.is_valid(), channel_form.is_valid()])
    if both_valid and _channel_allowed(channel_form):
        try:
            enrolment = services.staff_enrol(
                token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
        except services.LinkNotUsable:
            return render(request, "accounts/link_expired.html", status=410)
        _channel_save(enrolment.member, channel_form)
        vault_start_fresh(request)
        request.session[_ENROLLING] = enrolment.member.pk
        request.session[_RECOVERY] = link.purpose == SignupLink.Purpose.FIRST_COORDINATOR
        session_remember_private_key(request, enrolment.private_key)
        session_remember_signing_key(request, enrolment.signing_seed)
        return redirect("accounts:enrol_totp")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "channel_form": channel_form, "link": link}
    return render(request, "accounts/signup.html", context, status=status)


def _channel_allowed(channel_form: SignupChannelForm) -> bool:
    """The webhook address rule, checked before the sign-up link is used up."""
    try:
        notify_services.preference_check(
            channel=channel_form.cleaned_data["channel"], address=channel_form.cleaned_data["address"]
        )
    except WebhookRefused as refused:
        channel_form.add_error("address", refused.message)
        return False
    return True


def _channel_save(member: StaffMember, channel_form: SignupChannelForm) -> None:
    """Stored as the notifications page stores it. A webhook whose name was pointed elsewhere
    since the check just made is refused (and audited) there: the account is made already, so
    it starts with no channel, and its inbox says so."""
    channel, address, language = (
        channel_form.cleaned_data["channel"],
        channel_form.cleaned_data["address"],
        get_language(),
    )
    try:
        notify_services.preference_set(member=member, channel=channel, address=address, language=language or "ru")
    except WebhookRefused:
        notify_services.preference_set(member=member, channel=Channel.NONE, address="", language=language or "ru")


def _enrolling(request: HttpRequest) -> tuple[StaffMember, TOTPDevice] | None:
    member_pk: int | None = request.session.get(_ENROLLING)
    if member_pk is None:
        return None
    member = StaffMember.objects.filter(pk=member_pk, is_active=True).first()
    device = TOTPDevice.objects.filter(user=member, confirmed=False).first() if member else None
    return (member, device) if member and device else None


@require_http_methods(["GET", "POST"])
def enrol_totp(request: HttpRequest) -> HttpResponse:
    found = _enrolling(request)
    if found is None:
        return redirect("accounts:login")
    member, device = found
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_confirm(device, form.cleaned_data["code"]):
            del request.session[_ENROLLING]
            with transaction.atomic():
                django_login(request, member, backend="django.contrib.auth.backends.ModelBackend")
                otp_login(request, device)
                session_remember_generation(request, member)
                audit_record(actor=member, action=Action.LOGIN, details={"via": "enrolment"})
            _recovery_codes_stash(request, services.recovery_codes_create(member))
            request.session[_AFTER_CODES] = "/enrol/recovery/" if request.session.pop(_RECOVERY, False) else "/inbox/"
            return redirect("accounts:recovery_codes")
        form.add_error("code", _("This code is not right. Check the time on your phone and try the newest code."))
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4)
    secret = device.bin_key.hex()
    context = {"form": form, "qr_svg": qr_svg, "secret_b32": _base32(bytes.fromhex(secret)), "member": member}
    return render(request, "accounts/enrol_totp.html", context, status=400 if form.errors else 200)


def _base32(raw: bytes) -> str:
    import base64

    text = base64.b32encode(raw).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@coordinator_required
@require_http_methods(["GET", "POST"])
def recovery(request: HttpRequest) -> HttpResponse:
    """Once, right after the first coordinator enrols: choose how many trustees hold a share of
    the organisation recovery key and how many are needed, then show each share once, a page
    per share, to be written on paper. The public half is stored only when every trustee has
    typed back two words of theirs. Until then the key and its shares live only in the session
    vault, so a reload shows the share that is still the one that will count."""
    if RecoveryKey.objects.exists():
        return redirect("casework:inbox")
    handout = handout_load(request, _PENDING_RECOVERY)
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "plan":
        form = SharePlanForm(request.POST)
        if not form.is_valid():
            return render(request, "accounts/recovery.html", {"form": form}, status=400)
        plan = services.recovery_share_plan(threshold=form.cleaned_data["threshold"], holders=form.holders())
        return share_page(request, handout_begin(request, _PENDING_RECOVERY, plan))
    if handout is None:
        return render(request, "accounts/recovery.html", {"form": SharePlanForm()})
    if action == "confirm":
        if not handout_confirm(request, _PENDING_RECOVERY, handout):
            return share_page(request, handout, wrong=True)
        if handout.done:
            return _recovery_store(request, handout)
    return share_page(request, handout)


def _recovery_store(request: HttpRequest, handout: Handout) -> HttpResponse:
    try:
        stored = services.recovery_shares_confirm(handout.plan, created_by=staff_member(request))
    except services.RecoveryKeyExists:
        return redirect("casework:inbox")
    finally:
        handout_forget(request, _PENDING_RECOVERY)
    context = {"public_key": bytes(stored.public_key).hex(), "threshold": handout.plan.threshold}
    return render(request, "accounts/recovery_done.html", context)


def share_page(request: HttpRequest, handout: Handout, *, wrong: bool = False) -> HttpResponse:
    """The page that shows one trustee their share (the setup above and a reshare ceremony)."""
    context = handout_context(handout)
    holder_id = context["holder_id"]
    holder = StaffMember.objects.filter(pk=holder_id).first() if isinstance(holder_id, int) else None
    context |= {"holder": holder, "wrong": wrong}
    return render(request, "accounts/recovery_share.html", context, status=400 if wrong else 200)


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        claimed = StaffMember.objects.filter(username__iexact=data["username"]).first()
        # authenticate() runs the password hasher once whether or not the handle exists (Django
        # hashes against a dummy for unknown ones), and once for a locked account too: the
        # response and the work are the same for unknown, locked and merely wrong (T12).
        member = authenticate(request, username=data["username"], password=data["password"])
        locked = claimed is not None and claimed.is_locked()
        device = _second_factor(member, data["code"]) if isinstance(member, StaffMember) and not locked else None
        opened = (
            _keys_open(member, data["password"]) if isinstance(member, StaffMember) and device is not None else None
        )
        if isinstance(member, StaffMember) and device is not None and opened is not None:
            unlocked, signing_seed = opened
            vault_start_fresh(request)
            with transaction.atomic():
                services.login_success_reset(member)
                django_login(request, member)
                otp_login(request, device)
                session_remember_private_key(request, unlocked.private_key)
                session_remember_signing_key(request, signing_seed)
                session_remember_generation(request, member)
                audit_record(actor=member, action=Action.LOGIN)
                audit_record(actor=member, action=Action.KEY_UNLOCK)
            return redirect("casework:inbox")
        stage = "keys" if device is not None else None
        _login_failure_record(
            data["username"], claimed, password_right=isinstance(member, StaffMember), locked=locked, stage=stage
        )
        form.add_error(None, _("The handle, password or code is not right."))
    return render(request, "accounts/login.html", {"form": form}, status=400 if form.errors else 200)


def _keys_open(member: StaffMember, password: str) -> tuple[UnlockedKeys, bytes] | None:
    """The member's private keys and signing seed, or None unless both are the ones the server
    enrolled: certified, and the password opens their private halves. Everything else a login
    checks (password hash, sealed keys, 2FA device) a database writer can put in; a certificate
    needs the instance secret. Accounts enrolled before replies were signed get their signing
    key here, but only when their box key is proven (services.signing_key_add)."""
    try:
        unlocked = staff_keys_unlock(member, password)
        signing_seed = services.signing_key_add(member=member, unlocked=unlocked)
    except (sealbox.CryptoError, services.KeysNotProven):
        signing_seed = None
    if signing_seed is None or not staff_keys_proven(member, unlocked.private_key, signing_seed):
        logger.warning("staff member %s: login refused, the account's keys are not proven", member.pk)
        return None
    return unlocked, signing_seed


def _second_factor(member: StaffMember, code: str) -> Device | None:
    """The device that verifies this code: the TOTP app for 6 digits, else a recovery code."""
    code = code.replace(" ", "")
    if len(code) == 6 and code.isdigit():
        device = TOTPDevice.objects.filter(user=member, confirmed=True).first()
        return device if device is not None and device.verify_token(code) else None
    return services.recovery_code_use(member, code)


def _login_failure_record(
    handle: str, claimed: StaffMember | None, *, password_right: bool, locked: bool, stage: str | None = None
) -> None:
    # No actor: the handle is only a claim. Its keyed hash lets repeated attempts on one
    # handle be seen without storing what was typed (sometimes a password, in the wrong field).
    stage = stage or ("locked" if locked else "code" if password_right else "password")
    details = {"handle_hash": handle_hash(handle), "stage": stage}
    with transaction.atomic():
        if claimed is not None and not locked:
            services.login_failure_count(claimed)
        audit_record(actor=None, action=Action.LOGIN_FAILED, details=details)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    if isinstance(request.user, StaffMember):
        with transaction.atomic():
            audit_record(actor=request.user, action=Action.LOGOUT)
    vault_clear(request)
    return redirect("accounts:login")


@coordinator_required
@require_http_methods(["GET", "POST"])
def staff_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and "unlock" in request.POST:
        target = (
            StaffMember.objects.filter(pk=request.POST["unlock"]).first() if request.POST["unlock"].isdigit() else None
        )
        if target is not None:
            services.account_unlock(member=target, by=staff_member(request))
        return redirect("accounts:staff")
    form = InviteForm(request.POST or None)
    invite_url = ""
    if request.method == "POST" and form.is_valid():
        token = services.signup_link_create(
            purpose=SignupLink.Purpose.INVITE,
            role=form.cleaned_data["role"],
            team=form.cleaned_data["team"],
            created_by=staff_member(request),
        )
        invite_url = f"{settings.SP_CONSOLE_URL}/signup/{token}/"
        form = InviteForm()
    members = StaffMember.objects.order_by("username").prefetch_related("teams")
    # Who would be told of a case in danger now or a danger-word login: kinds and states only.
    reach = reach_of(members, timezone.now())
    context = {
        "form": form,
        "reach": reach,
        "told_at_once": [row.member for row in reach if row.told_at_once],
        "invite_url": invite_url,
        "roles": dict(Role.choices),
    }
    return render(request, "accounts/staff.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """The member's own account: change the password, sign out everywhere."""
    member = staff_member(request)
    form = PasswordChangeForm(member, request.POST if request.method == "POST" else None)
    changed = False
    if request.method == "POST" and form.is_valid():
        if services.code_check(member, form.cleaned_data["code"]):
            services.password_change(
                member=member,
                private_key=staff_keys(request).private_key,
                signing_key=staff_keys(request).signing_key,
                new_password=form.cleaned_data["password"],
            )
            # Keep this session (Django would end it on a new password hash); every other ends.
            update_session_auth_hash(request, member)
            session_remember_generation(request, member)
            form, changed = PasswordChangeForm(member), True
        else:
            form.add_error("code", _("This code is not right. Check the time on your phone and try the newest code."))
    status = 400 if form.errors else 200
    return render(request, "accounts/account.html", {"form": form, "changed": changed}, status=status)


@staff_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    services.sessions_end_all(staff_member(request))
    vault_clear(request)
    return redirect("accounts:login")


def _recovery_codes_stash(request: HttpRequest, codes: list[str]) -> None:
    # Kept in the session vault until shown, so a reload of the POST never makes new ones.
    vault_put(request, _NEW_CODES, "\n".join(codes).encode())


@staff_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes are shown here once; new ones can be made with the password."""
    member = staff_member(request)
    form = PasswordConfirmForm(member, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        _recovery_codes_stash(request, services.recovery_codes_create(member))
        return redirect("accounts:recovery_codes")
    stashed = vault_get(request, _NEW_CODES)
    codes = stashed.decode().split("\n") if stashed else []
    if codes:
        vault_put(request, _NEW_CODES, b"")  # shown once
    context = {
        "form": form,
        "codes": codes,
        "left": services.recovery_codes_left(member),
        "next": request.session.pop(_AFTER_CODES, "") if codes else "",
    }
    return render(request, "accounts/recovery_codes.html", context, status=400 if form.errors else 200)
