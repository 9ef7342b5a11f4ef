"""The anonymous portal. Every page works without JavaScript and carries no identifier in
its URL; everything about the person is in the session vault."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict, UnreadablePostError
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect

import sealbox
from casework import keys, selectors, services
from casework.models import Message
from core.body import NOT_WHOLE, body_incomplete
from core.downloads import attachment_response
from core.vault import vault_clear, vault_start_fresh
from core.views import expired_page
from intake import throttle
from intake.entries import ConversationShown, entries_for
from intake.forms import FirstRequestForm, LoginForm, ReplyForm
from intake.session import pending_codename, pending_codename_keep, person_session, person_session_start
from intake.uploads import EncryptingUploadHandler, FileSkippingUploadHandler, UploadProblems

_NOTICE = "notice"

View = Callable[..., HttpResponseBase]


def _allow(*methods: str) -> Callable[[View], View]:
    """Like require_http_methods, but a wrong method gets a small page in the person's language
    (with the quick exit) rather than an empty body."""

    def decorator(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method not in methods:
                response = render(request, "intake/error.html", {"kind": "not_allowed"}, status=405)
                response["Allow"] = ", ".join(methods)
                return response
            return view(request, *args, **kwargs)

        return checked

    return decorator


def _closed() -> bool:
    """Whether the intake cannot take a new request now (services.intake_readiness): then
    no page offers the request form, so nobody types into a dead end."""
    return not services.intake_readiness().accepts_requests


@_allow("GET")
def landing(request: HttpRequest) -> HttpResponse:
    if person_session(request) is not None:
        return redirect("conversation")
    return render(request, "intake/landing.html", {"closed": _closed()})


@_allow("GET")
def connect(request: HttpRequest) -> HttpResponse:
    """What to do when Tor, or this site, is blocked where the person is. The same page for
    everyone, logged in or not: it shows nothing about anyone."""
    return render(request, "intake/connect.html", _addresses())


def _addresses() -> dict[str, str]:
    """The onion address to copy into Tor Browser (when the intake is an onion service), and
    the ordinary address for people who cannot use Tor (when there is one, and it is another)."""
    intake = settings.SP_INTAKE_URL.rstrip("/")
    clearnet = settings.SP_INTAKE_CLEARNET_URL.rstrip("/")
    onion = intake if (urlsplit(intake).hostname or "").endswith(".onion") else ""
    return {"onion_address": onion, "clearnet_address": clearnet if clearnet != intake else ""}


@_allow("GET")
def quick_exit(request: HttpRequest) -> HttpResponse:
    """Ends the session and leaves for an ordinary website, in one step."""
    response = HttpResponseRedirect(settings.SP_QUICK_EXIT_URL)
    vault_clear(request)
    return response


@_allow("GET")
def start(request: HttpRequest) -> HttpResponse:
    if _closed():  # no phrase either: the landing page says the line is not open
        return redirect("landing")
    codename = pending_codename(request)
    if codename is None:
        codename = sealbox.generate_codename(translation.get_language() or "ru")
        pending_codename_keep(request, codename)
    return render(request, "intake/start.html", {"codename": codename, "words": codename.split()})


def _problems_text(problems: UploadProblems) -> list[str]:
    limit_mb = settings.SP_ATTACHMENT_MAX_BYTES // (1024 * 1024)
    texts = []
    for name in problems.too_big:
        texts.append(_("“%(name)s” is too big. Each file can be at most %(mb)d MB.") % {"name": name, "mb": limit_mb})
    for name in problems.wrong_type:
        texts.append(
            _("“%(name)s” cannot be sent: only photos (JPEG, PNG, GIF, WebP, HEIC) and PDF files.") % {"name": name}
        )
    for name in problems.cannot_clean:
        texts.append(
            _(
                "“%(name)s” cannot be sent: we cannot remove the place where it was taken from this kind of photo. "
                "Please send a screenshot of it instead, or save it as JPEG."
            )
            % {"name": name}
        )
    if problems.no_space:
        names = ", ".join(f"“{name}”" for name in problems.no_space)
        texts.append(
            _(
                "The service cannot take files right now (%(names)s). "
                "Please send your message without them, or try again later."
            )
            % {"names": names}
        )
    if problems.too_many:
        count = settings.SP_ATTACHMENTS_PER_MESSAGE
        texts.append(
            ngettext("At most %(count)d file at a time.", "At most %(count)d files at a time.", count)
            % {"count": count}
        )
    return texts


def _files_paused_text() -> str:
    minutes = throttle.minutes_until_next_window(throttle.UPLOAD_BYTES)
    return ngettext(
        "The service cannot take files right now. Please try again in %(minutes)s minute.",
        "The service cannot take files right now. Please try again in %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}


def _file_bytes_claimed(request: HttpRequest) -> int:
    """The most this request could store in files: what its body declares, rounded up to its
    padding bucket (the reservation is written to a plaintext row, so it must not give a
    database reader the body's exact size), and never more than one message may carry."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0  # Django then reads no body at all
    cap = settings.SP_ATTACHMENTS_PER_MESSAGE * sealbox.stream_size(settings.SP_ATTACHMENT_MAX_BYTES)
    return min(sealbox.stream_size(declared), cap) if declared > 0 else 0


@contextmanager
def _encrypting_uploads(request: HttpRequest) -> Iterator[EncryptingUploadHandler]:
    """Install the encrypting handler; whatever it encrypted is removed again unless the view
    recorded it (invalid form, refused CSRF token, malformed body, crash: no orphaned
    ciphertext is left, not even the partial blob of a file cut off while being written).

    The upload budget is reserved first, for all the body could hold in files: without room,
    every file is skipped unwritten, not even encrypted, and the words still go through. What
    was not stored is given back afterwards."""
    with throttle.budget_reserved(throttle.UPLOAD_BYTES, _file_bytes_claimed(request)) as room:
        handler = EncryptingUploadHandler(request, files_allowed=room is not None)
        request.upload_handlers = [handler]
        try:
            yield handler
        finally:
            if not handler.recorded:
                handler.abandon()
                handler.discard_all()
            if room is not None:
                room.use(handler.stored_bytes())


class _NotWhole(Exception):
    """The request body did not arrive whole. Nothing of it is stored; what did arrive goes
    back into the form, so the person can check it and send it again."""

    def __init__(self, received: QueryDict) -> None:
        super().__init__("the request body did not arrive whole")
        self.received = received


def _posted(request: HttpRequest, handler: EncryptingUploadHandler) -> QueryDict:
    """The form fields, once the whole body has been read through the handler. A body that
    did not arrive whole (a cut connection, a truncated request, a client the server cut off
    for not sending) is refused as a whole: its last field or file may be cut short."""
    try:
        data = request.POST
    except UnreadablePostError:  # the connection broke while the body was arriving
        raise _NotWhole(QueryDict()) from None
    if handler.interrupted or body_incomplete(request):
        raise _NotWhole(data)
    return data


def _files_were_sent(request: HttpRequest, handler: EncryptingUploadHandler) -> bool:
    return bool(request.FILES) or handler.interrupted


@csrf_exempt  # the upload handler must be in place before the CSRF check reads the body
@_allow("GET", "POST")
def first_request(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # Refusals are decided before the body is read, so the files of a refused request are
        # never written, not even encrypted; what was typed comes back in the form.
        if _closed():
            return _first_request_kept(request, _files_skipped(request), closed=True)
        with throttle.budget_reserved(throttle.NEW_CASES) as unit:
            if unit is None:
                return _first_request_kept(request, _files_skipped(request), busy=True)
            with _encrypting_uploads(request) as handler:
                return _first_request_post(request, handler, unit)
    if _closed():
        return redirect("landing")
    codename = pending_codename(request)
    if codename is None:
        return redirect("start")
    return render(request, "intake/request.html", {"form": FirstRequestForm(codename=codename)})


@csrf_protect
def _first_request_post(
    request: HttpRequest, handler: EncryptingUploadHandler, unit: throttle.Reservation
) -> HttpResponse:
    codename = pending_codename(request)
    if codename is None:  # the session ended while the form was being filled in
        return expired_page(request)
    try:
        posted = _posted(request, handler)
    except _NotWhole as cut:
        return _first_request_not_whole(request, codename, cut.received, _files_were_sent(request, handler))
    form = FirstRequestForm(posted, codename=codename)
    problems = _problems_text(handler.problems)
    if not form.is_valid() or problems:
        if handler.held_back:
            problems.append(_files_paused_text())
        return _render_request_again(request, form, problems)
    data = form.cleaned_data
    details = services.CaseDetails(
        region=data["region"],
        help_kinds=data["help_kinds"],
        language=translation.get_language() or "ru",
        contact_kind=data["contact_kind"],
        contact_value=data["contact_value"],
        cover_phrase=data["cover_phrase"],
    )
    # The derivations run from here on: the unit stays spent, whether or not a case opens.
    unit.use()
    try:
        login, opened = _case_open_once(
            codename=codename,
            duress_word=data["duress_word"],
            decoy_opening=data["decoy_opening"],
            urgency=data["urgency"],
            details=details,
            body=data["message"],
            attachments=handler.accepted,
        )
    except services.IntakeUnavailable:  # closed while this request was on its way
        return _render_request_again(request, form, [], closed=True)
    except (services.DuressWordInCodename, services.DuressWordNotInList):  # the form checked it already
        form.add_error("duress_word", _("This word cannot be your danger word. Please choose another word."))
        return _render_request_again(request, form, [])
    if opened:
        handler.recorded = True
        notice = _sent_notice(handler)
    else:
        notice = _first_request_added(login, data["message"], handler)
    vault_start_fresh(request)
    person_session_start(request, login)
    request.session[_NOTICE] = notice
    return redirect("conversation")


def _sent_notice(handler: EncryptingUploadHandler) -> str:
    return "sent_without_files" if handler.held_back else "sent"


def _case_open_once(*, codename: str, **request_fields: Any) -> tuple[services.PersonSession, bool]:
    """Open the case for this pending codename, or, if it is already open, log in to it.

    A form can arrive twice (a double click, a resend while the first was working, a second
    window of the same browser): the first request opens the case, and the second then fails
    on the codename's unique lookup id. It is the same person, so the second is logged in to
    that case rather than shown an error and left without the session that held the
    codename (_first_request_added keeps what it brought). Returns the session and whether
    this request opened the case."""
    try:
        return services.case_open_from_intake(codename=codename, **request_fields), True
    except IntegrityError:
        existing = services.person_login(sealbox.normalise_codename(codename))
        if existing is None:  # not this codename's case after all: a real failure
            raise
        return existing, False


def _files_skipped(request: HttpRequest) -> FileSkippingUploadHandler:
    skipper = FileSkippingUploadHandler(request)
    request.upload_handlers = [skipper]
    return skipper


def _first_request_added(session: services.PersonSession, body: str, handler: EncryptingUploadHandler) -> str:
    """Keep a first request that reached a case another request had just opened for the same
    codename, and return the notice that tells the truth about it. The very words and files
    already stored (a double click) are not stored twice. Anything else becomes the person's
    next message in that case, since "Sent" must never be said of text that was not kept;
    the rest of the form (urgency, contact, danger word) stays as the first request set it,
    and the notice says so."""
    if _already_stored(session, body, handler.accepted):
        return _sent_notice(handler)
    services.message_post_from_person(session=session, body=body, attachments=handler.accepted)
    handler.recorded = True
    return "added"


def _already_stored(session: services.PersonSession, body: str, attachments: list[services.NewAttachment]) -> bool:
    files = sorted((item.name, item.size) for item in attachments)
    conversation = selectors.conversation_for_person(
        session.credential, session.keypair.private_key, decoy=session.shows_decoy, since=session.shows_since
    )
    return any(
        message.sender == Message.Sender.PERSON
        and message.body == body
        and sorted((item.name, item.size) for item in message.attachments) == files
        for message in conversation.messages
    )


@csrf_protect
def _first_request_kept(
    request: HttpRequest, skipper: FileSkippingUploadHandler, *, busy: bool = False, closed: bool = False
) -> HttpResponse:
    """The request cannot be taken (the new-case budget is spent, or the intake is closed):
    nothing is stored, and what was typed is shown back in the form so it can be sent again
    later, or copied."""
    codename = pending_codename(request)
    if codename is None:
        return expired_page(request)
    context: dict[str, Any] = {
        # Unbound, so the typed text comes back without the form's error messages.
        "form": FirstRequestForm(initial=_typed_initial(request.POST), codename=codename),
        "busy_minutes": throttle.minutes_until_next_window(throttle.NEW_CASES) if busy else 0,
        "closed": closed,
        "reattach": skipper.skipped > 0,
    }
    return render(request, "intake/request.html", context, status=503 if closed else 429)


def _typed_initial(typed: QueryDict) -> dict[str, Any]:
    return {
        name: typed.getlist(name) if name == "help_kinds" else typed.get(name, "")
        for name in FirstRequestForm.base_fields
    }


def _first_request_not_whole(request: HttpRequest, codename: str, received: QueryDict, files: bool) -> HttpResponse:
    """Nothing is stored and the pending codename stays: what arrived is given back in the
    form (unbound, so without error messages about fields that did not arrive)."""
    context: dict[str, Any] = {
        "form": FirstRequestForm(initial=_typed_initial(received), codename=codename),
        "problems": [str(NOT_WHOLE)],
        "reattach": files,
    }
    return render(request, "intake/request.html", context, status=400)


def _render_request_again(
    request: HttpRequest, form: FirstRequestForm, problems: list[str], *, closed: bool = False
) -> HttpResponse:
    files_sent = bool(request.FILES) or bool(problems)
    context: dict[str, Any] = {"form": form, "problems": problems, "reattach": files_sent, "closed": closed}
    return render(request, "intake/request.html", context, status=503 if closed else 400)


@_allow("GET", "POST")
def login(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "intake/login.html", {"form": LoginForm()})
    form = LoginForm(request.POST)
    if not form.is_valid():
        return render(request, "intake/login.html", {"form": form}, status=400)
    # One unit per derivation, taken before it runs, whatever the phrase turns out to be.
    if throttle.budget_take(throttle.LOGINS) is None:
        minutes = throttle.minutes_until_next_window(throttle.LOGINS)
        return render(request, "intake/login.html", {"form": form, "paused_minutes": minutes}, status=429)
    session = services.person_login(form.cleaned_data["codename"])
    if session is None:
        return render(request, "intake/login.html", {"form": LoginForm(), "not_found": True}, status=400)
    vault_start_fresh(request)
    person_session_start(request, session)
    return redirect("conversation")


@csrf_exempt  # the upload handler must be in place before the CSRF check reads the body
@_allow("GET", "POST")
def conversation(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        with _encrypting_uploads(request) as handler:
            return _conversation_post(request, handler)
    session = person_session(request)
    if session is None:
        return redirect("login")
    return _render_conversation(request, session, ReplyForm(), notice=request.session.pop(_NOTICE, ""))


def _render_conversation(
    request: HttpRequest,
    session: services.PersonSession,
    form: ReplyForm,
    *,
    notice: str = "",
    problems: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    page = request.GET.get("page") if request.method == "GET" else None
    conversation = selectors.conversation_for_person(
        session.credential,
        session.keypair.private_key,
        decoy=session.shows_decoy,
        since=session.shows_since,
        page=page,
    )
    context = {
        "messages": conversation.messages,
        "conversation": conversation,
        "form": form,
        "notice": notice,
        "problems": problems or [],
        # What other apps add to the page (intake.entries: the check-in button).
        "entries": entries_for(ConversationShown(case=session.case, decoy=session.under_duress)),
        "files_paused_minutes": throttle.minutes_until_next_window(throttle.UPLOAD_BYTES),
    }
    return render(request, "intake/conversation.html", context, status=status)


@csrf_protect
def _conversation_post(request: HttpRequest, handler: EncryptingUploadHandler) -> HttpResponse:
    session = person_session(request)
    if session is None:  # the session ended while the reply was being written
        return expired_page(request)
    try:
        posted = _posted(request, handler)
    except _NotWhole as cut:
        # Nothing is stored and the session stays; what arrived is given back in the form.
        problems = [str(NOT_WHOLE)]
        if _files_were_sent(request, handler):
            problems.append(_("Your message was not sent yet. Please attach the files again."))
        form = ReplyForm(initial={"message": cut.received.get("message", "")})
        return _render_conversation(request, session, form, problems=problems, status=400)
    form = ReplyForm(posted)
    problems = _problems_text(handler.problems)
    words = form.is_valid() and bool(form.cleaned_data["message"])
    if handler.held_back and not words:  # the files cannot come, and there is nothing else to send
        problems.append(_files_paused_text())
    if form.is_valid() and not words and not handler.accepted and not problems:
        form.add_error("message", _("Please write a message or attach a file."))
    if not form.is_valid() or problems:
        if request.FILES or problems:
            problems.append(_("Your message was not sent yet. Please attach the files again."))
        status = 429 if handler.held_back and form.is_valid() else 400
        return _render_conversation(request, session, form, problems=problems, status=status)
    # Over the upload budget, the words are sent without the files: whoever presses Send and
    # leaves at once has still reached us.
    try:
        services.message_post_from_person(
            session=session, body=form.cleaned_data["message"], attachments=handler.accepted
        )
    except keys.UntrustedRecord:
        # Nothing was stored (the files are removed again); what was typed stays on the page.
        problems = [_("Your message could not be sent right now. It is still here: please try again later.")]
        if request.FILES:
            problems.append(_("Your message was not sent yet. Please attach the files again."))
        return _render_conversation(request, session, form, problems=problems, status=503)
    handler.recorded = True
    request.session[_NOTICE] = _sent_notice(handler)
    return HttpResponseRedirect(reverse("conversation"))


@_allow("POST")
def download(request: HttpRequest) -> HttpResponseBase:
    session = person_session(request)
    if session is None:
        return redirect("login")
    try:
        attachment_id = uuid.UUID(request.POST.get("attachment", ""))
    except ValueError:
        raise Http404 from None
    found = selectors.attachment_for_person(
        session.credential,
        session.keypair.private_key,
        attachment_id,
        decoy=session.shows_decoy,
        since=session.shows_since,
    )
    if found is None:
        raise Http404
    view, chunks = found
    return attachment_response(view.name, view.content_type, view.size, chunks)


@_allow("POST")
def logout(request: HttpRequest) -> HttpResponse:
    vault_clear(request)
    return redirect("landing")


# The URLconf's error handlers: the intake's own layout (quick exit, neutral site name) in the
# person's language, never Django's bare English pages.


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "intake/error.html", {"kind": "bad_request"}, status=400)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "intake/error.html", {"kind": "forbidden"}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "intake/error.html", {"kind": "not_found"}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/error.html", {"kind": "server_error"}, status=500)
