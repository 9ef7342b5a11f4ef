"""The intake holds up under floods, a full disk, broken bodies, double clicks and hostile sites.

Each test names what a person (or an attacker) does and what the portal must still do: answer
with a calm page in the person's language, keep what was typed, and leave nothing half-written
in the database or the file store.
"""

from __future__ import annotations

import base64
import copy
import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.files.uploadhandler import SkipFile
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings
from django.utils import translation

import sealbox
from accounts.models import TeamMembership
from casework import services
from casework.files import blob_store
from casework.models import Attachment, Case, Message, PersonCredential
from config import urls_intake
from core.tests.test_translations import untranslated
from intake import views
from intake.models import BudgetKind, BudgetWindow
from intake.uploads import EncryptingUploadHandler
from tests.personas import INTAKE, FaceClient, PersonAtRisk, Staff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BIGGER_PNG = PNG + b"\x00" * 4096
REQUEST = {"urgency": "in_hiding", "region": "moscow", "message": "I am hiding at a friend's flat."}
KEPT_TEXT = "I am hiding at a friend&#x27;s flat."
HUGE = 1 << 62  # more free space than any disk has
BOUNDARY = "sp-robustness-7f3a"


def _upload(name: str, content: bytes) -> io.BytesIO:
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def _started(language: str = "en") -> FaceClient:
    client = FaceClient(INTAKE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.get("/start/")
    return client


def _stored_files() -> list[str]:
    """Every file under the store's root, unfinished (.partial) ones included."""
    root = blob_store().root
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def _language_of(page: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', page)
    assert match, "page without a language"
    return match.group(1)


# --- a flood of new requests (T11) ---------------------------------------------------------------


def _open_a_case(language: str = "en") -> None:
    response = _started(language).post("/request/", REQUEST)
    assert response.status_code == 302 and response["Location"] == "/conversation/"


@override_settings(SP_NEW_CASE_BUDGET=2)
def test_new_requests_pause_for_everyone_once_the_case_budget_is_spent(caseworker: Staff) -> None:
    _open_a_case()
    _open_a_case()
    client = _started()
    long_text = "They came to my parents' house at night and asked where I am. " * 10
    response = client.post("/request/", {**REQUEST, "message": long_text, "attachments": _upload("p.png", PNG)})
    page = response.content.decode()
    assert response.status_code == 429
    assert "The line is very busy right now" in page and "Please try again in" in page
    assert long_text.strip()[:300].replace("'", "&#x27;") in page  # typed text kept in the form
    assert "files have to be attached again" in page
    assert 'href="/exit/"' in page
    assert Case.objects.count() == 2
    assert _stored_files() == []  # the file was never written, not even encrypted


def _case_budget_count() -> int:
    window = BudgetWindow.objects.filter(kind=BudgetKind.NEW_CASE).first()
    return window.count if window else 0


def _danger_word(client: FaceClient, language: str = "en") -> str:
    """A word from the codename's own list that is not one of the pending codename's words."""
    words = client.get("/start/").context["words"]
    return next(word for word in sealbox.wordlist(language) if word not in words)


@override_settings(SP_NEW_CASE_BUDGET=1)
def test_forms_refused_before_any_derivation_spend_nothing(caseworker: Staff, derivations: list[str]) -> None:
    client = _started()
    assert client.post("/request/", {**REQUEST, "message": " "}).status_code == 400
    assert client.post("/request/", {**REQUEST, "region": "mars"}).status_code == 400
    assert derivations == [] and _case_budget_count() == 0
    _open_a_case()
    assert _case_budget_count() == 1
    assert _started().post("/request/", REQUEST).status_code == 429


def test_a_first_request_costs_the_same_with_or_without_a_danger_word(
    caseworker: Staff, derivations: list[str]
) -> None:
    """Attacker: someone who times the request on the network between the phone and the
    server, or spends the new-case budget to see how much of it is left, to learn whether the
    person set a danger word (and so whether a phrase forced out of them later may be the
    danger phrase). With or without one, a first request runs two Argon2id derivations and
    takes one unit of the budget."""
    costs = []
    for with_word in (False, True):
        client = _started()
        fields = {**REQUEST, "duress_word": _danger_word(client)} if with_word else REQUEST
        before = len(derivations)
        assert client.post("/request/", fields).status_code == 302
        costs.append((len(derivations) - before, _case_budget_count()))
    assert costs == [(2, 1), (2, 2)]
    assert PersonCredential.objects.filter(is_duress=True).count() == 1


@override_settings(SP_NEW_CASE_BUDGET=1)
def test_the_last_unit_of_the_case_budget_takes_a_request_with_a_danger_word_too(caseworker: Staff) -> None:
    """A danger word needs no more budget than none: a pause that came sooner for requests with
    one would show that one was given."""
    client = _started()
    assert client.post("/request/", {**REQUEST, "duress_word": _danger_word(client)}).status_code == 302
    assert _started().post("/request/", REQUEST).status_code == 429


def _close_the_line() -> None:
    """The on-call team loses its last member who reads new cases: the intake closes."""
    TeamMembership.objects.filter(team__is_on_call=True).delete()


def test_a_request_sent_after_the_line_closed_costs_nothing_and_keeps_its_text(
    caseworker: Staff, derivations: list[str]
) -> None:
    """Attacker: anonymous, posting well-formed first requests while no team is on call. They
    are refused before any derivation; the person who typed one gets the text back."""
    client = _started()
    _close_the_line()
    response = client.post("/request/", {**REQUEST, "attachments": _upload("p.png", PNG)})
    assert response.status_code == 503
    page = response.content.decode()
    assert "The line is not open yet" in page and KEPT_TEXT in page
    assert derivations == [] and _case_budget_count() == 0
    assert not Case.objects.exists() and _stored_files() == []


def test_a_request_whose_keys_were_derived_spends_its_unit_even_when_no_case_opens(
    caseworker: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The line closes while a request's Argon2id derivations run: its unit stays spent (the
    work was done), nothing is stored, and what was typed comes back."""
    derive = services.derive_secrets

    def closing_meanwhile(normalised: str) -> object:
        _close_the_line()
        return derive(normalised)

    monkeypatch.setattr(services, "derive_secrets", closing_meanwhile)
    response = _started().post("/request/", {**REQUEST, "attachments": _upload("p.png", PNG)})
    assert response.status_code == 503
    page = response.content.decode()
    assert "The line is not open yet" in page and KEPT_TEXT in page
    assert "files have to be attached again" in page
    assert _case_budget_count() == 1
    assert not Case.objects.exists() and not Attachment.objects.exists() and _stored_files() == []


@override_settings(SP_NEW_CASE_BUDGET=1)
def test_new_requests_resume_in_the_next_window(caseworker: Staff) -> None:
    _open_a_case()
    window = BudgetWindow.objects.get(kind=BudgetKind.NEW_CASE)
    window.window_start -= timedelta(hours=1)  # the window has passed
    window.save(update_fields=["window_start"])
    _open_a_case()
    assert Case.objects.count() == 2


@override_settings(SP_NEW_CASE_BUDGET=1, SP_LOGIN_BUDGET=1)
def test_the_case_budget_and_the_login_budget_are_counted_apart(person: PersonAtRisk) -> None:
    """A flood of logins does not stop people asking for help, nor a flood of requests people
    reading their replies."""
    assert FaceClient(INTAKE).post("/login/", {"codename": "not the words anyone was given"}).status_code == 400
    _open_a_case()  # the spent login budget does not pause new requests
    assert FaceClient(INTAKE).post("/login/", {"codename": person.codename}).status_code == 429
    counts = dict(BudgetWindow.objects.filter(count__gt=0).values_list("kind", "count"))
    assert counts == {BudgetKind.LOGIN: 1, BudgetKind.NEW_CASE: 1}


@override_settings(SP_NEW_CASE_BUDGET=1)
def test_the_busy_page_speaks_the_persons_language(caseworker: Staff) -> None:
    _open_a_case()
    pages = {}
    for language in ("en", "ru"):
        # Typed in Cyrillic: what the person wrote comes back in the form, and is no interface text.
        response = _started(language).post("/request/", {**REQUEST, "message": "Помогите, пожалуйста"})
        assert response.status_code == 429
        pages[language] = response.content.decode()
        assert _language_of(pages[language]) == language
    assert "Сейчас" in pages["ru"]
    assert untranslated(pages["en"], pages["ru"]) == []


# --- a nearly full disk ------------------------------------------------------------------------


@override_settings(SP_MIN_FREE_BYTES=HUGE)
def test_files_are_refused_while_the_disk_is_nearly_full_and_the_text_is_kept(caseworker: Staff) -> None:
    response = _started().post("/request/", {**REQUEST, "attachments": _upload("scan.png", PNG)})
    page = response.content.decode()
    assert response.status_code == 400
    assert "The service cannot take files right now (“scan.png”)" in page
    assert "send your message without them, or try again later" in page
    assert KEPT_TEXT in page
    assert not Case.objects.exists() and _stored_files() == []


@override_settings(SP_MIN_FREE_BYTES=HUGE)
def test_a_reply_without_files_still_goes_through_while_the_disk_is_nearly_full(person: PersonAtRisk) -> None:
    client = person.intake(language="en")
    refused = client.post("/conversation/", {"message": "With a photo", "attachments": _upload("p.png", PNG)})
    assert refused.status_code == 400
    assert "cannot take files right now" in refused.content.decode()
    assert client.post("/conversation/", {"message": "Without the photo"}).status_code == 302
    assert not Attachment.objects.exists() and _stored_files() == []


def test_a_file_is_refused_when_the_disk_fills_while_it_arrives(db: None) -> None:
    handler = EncryptingUploadHandler()
    handler.new_file("attachments", "video.png", "image/png", None)
    handler.receive_data_chunk(BIGGER_PNG, 0)
    assert [name.endswith(".partial") for name in _stored_files()] == [True]  # being written
    with override_settings(SP_MIN_FREE_BYTES=HUGE), pytest.raises(SkipFile):
        handler.receive_data_chunk(BIGGER_PNG, len(BIGGER_PNG))
    assert handler.problems.no_space == ["video.png"]
    assert handler.accepted == [] and _stored_files() == []


# --- malformed and cut-off bodies -------------------------------------------------------------


def _part(name: str, value: bytes, *, filename: str = "", extra_headers: str = "") -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if filename:
        head += "Content-Type: image/png\r\n"
    return (head + extra_headers + "\r\n").encode() + value + b"\r\n"


def _fields(fields: dict[str, str]) -> bytes:
    return b"".join(_part(name, value.encode()) for name, value in fields.items())


def _complete_png() -> bytes:
    return _part("attachments", PNG, filename="first.png")


END = f"--{BOUNDARY}--\r\n".encode()
# After one complete file: a base64 part whose data stops one character short of a full group.
BROKEN_BASE64 = (
    _part(
        "attachments",
        base64.b64encode(BIGGER_PNG) + b"Q",
        filename="second.png",
        extra_headers="Content-Transfer-Encoding: base64\r\n",
    )
    + END
)
# After one complete file: a part whose header never ends within the size Django accepts.
HEADER_TOO_LONG = (
    (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="third.png"\r\n'
        f"X-Padding: {'a' * 3000}\r\n\r\n"
    ).encode()
    + BIGGER_PNG
    + b"\r\n"
    + END
)
# After one complete file: a second file whose body stops mid-way, with no closing boundary.
CUT_OFF = (
    f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="cut.png"\r\n\r\n'.encode()
    + BIGGER_PNG
)
MALFORMED_TAILS = {"broken base64": BROKEN_BASE64, "header too long": HEADER_TOO_LONG}


def _post_raw(client: FaceClient, path: str, body: bytes, **extra: object) -> HttpResponse:
    return client.generic("POST", path, body, content_type=f"multipart/form-data; boundary={BOUNDARY}", **extra)


def _assert_bad_request_page(response: HttpResponse, language: str = "en") -> None:
    page = response.content.decode()
    assert response.status_code == 400, page[:500]
    assert _language_of(page) == language
    assert 'href="/exit/"' in page and "<title>Information desk</title>" in page
    assert "This could not be read" in page and "Nothing was kept" in page


def _assert_not_whole_page(response: HttpResponse, typed: str) -> None:
    """A body that did not arrive whole: the form again, with what arrived and the reason."""
    page = response.content.decode()
    assert response.status_code == 400, page[:500]
    assert "Your message did not arrive whole. Please check it and send again." in page
    assert typed in page and "attach" in page and 'name="attachments"' in page


def test_a_first_request_cut_off_inside_a_file_is_given_back_and_keeps_nothing(caseworker: Staff) -> None:
    body = _fields(REQUEST) + _complete_png() + CUT_OFF
    _assert_not_whole_page(_post_raw(_started(), "/request/", body), KEPT_TEXT)
    assert not Case.objects.exists()
    assert _stored_files() == []


def test_a_reply_cut_off_inside_a_file_is_given_back_and_changes_nothing(person: PersonAtRisk) -> None:
    client = person.intake(language="en")
    body = _fields({"message": "A reply with photos"}) + _complete_png() + CUT_OFF
    _assert_not_whole_page(_post_raw(client, "/conversation/", body), "A reply with photos")
    assert Message.objects.filter(case=person.case, sender="person", is_decoy=False).count() == 1
    assert not Attachment.objects.exists() and _stored_files() == []


@pytest.mark.parametrize("tail", MALFORMED_TAILS.values(), ids=MALFORMED_TAILS.keys())
def test_a_malformed_first_request_gets_the_bad_request_page_and_keeps_nothing(caseworker: Staff, tail: bytes) -> None:
    body = _fields(REQUEST) + _complete_png() + tail
    _assert_bad_request_page(_post_raw(_started(), "/request/", body))
    assert not Case.objects.exists()
    assert _stored_files() == []


@pytest.mark.parametrize("tail", MALFORMED_TAILS.values(), ids=MALFORMED_TAILS.keys())
def test_a_malformed_reply_gets_the_bad_request_page_and_changes_nothing(person: PersonAtRisk, tail: bytes) -> None:
    client = person.intake(language="en")
    body = _fields({"message": "A reply with photos"}) + _complete_png() + tail
    _assert_bad_request_page(_post_raw(client, "/conversation/", body))
    assert Message.objects.filter(case=person.case, sender="person", is_decoy=False).count() == 1
    assert not Attachment.objects.exists() and _stored_files() == []


class _DroppedConnection:
    """A request body whose connection breaks after some bytes, as a server's reader reports it."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(size)
        if not chunk:
            raise OSError("connection reset by peer")
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def test_a_connection_dropped_in_the_middle_of_a_file_keeps_nothing(caseworker: Staff) -> None:
    complete = _fields(REQUEST) + _complete_png() + _part("attachments", BIGGER_PNG, filename="second.png") + END
    sent = complete[: len(complete) - 1000]  # inside the second file
    response = _post_raw(_started(), "/request/", complete, **{"wsgi.input": _DroppedConnection(sent)})
    # Nothing of a body whose reading failed can be given back: the form comes back empty.
    _assert_not_whole_page(response, "")
    assert not Case.objects.exists() and _stored_files() == []


# --- the same first request sent twice --------------------------------------------------------


def test_a_first_request_sent_twice_opens_one_case_and_its_conversation(caseworker: Staff) -> None:
    """A double click sends the form twice with one session. Both requests read that session
    before the first one replaces it, so the second still holds the pending codename."""
    first = _started()
    session_key = first.cookies[settings.SESSION_COOKIE_NAME].value
    session_before = Session.objects.get(session_key=session_key)
    second = FaceClient(INTAKE)
    second.cookies = copy.deepcopy(first.cookies)  # the same browser, a second request
    assert first.post("/request/", REQUEST).status_code == 302
    session_before.save()  # as the second request read it, before the first one replaced it

    response = second.post("/request/", REQUEST)
    assert response.status_code == 302 and response["Location"] == "/conversation/"
    page = second.get("/conversation/").content.decode()
    assert page.count("I am hiding at a friend&#x27;s flat.") == 1 and "Sent. We will answer here." in page
    assert Case.objects.count() == 1
    assert Message.objects.filter(sender="person").count() == 1  # the same words are not kept twice
    # Two requests of one browser with different words or files: test_concurrent_first_requests.
    # Both copies ran their derivations, so both count: the budget bounds work, not cases.
    assert _case_budget_count() == 2


# --- the expired-form page and other sites ----------------------------------------------------


def _expired_post(headers: dict[str, str]) -> str:
    client = FaceClient(INTAKE, enforce_csrf_checks=True)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/request/", {**REQUEST, "message": "TEXT-FROM-THE-FORM"}, headers=headers)
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page has expired" in page
    return page


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another host under the same domain is another site too
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"},  # the browser's word wins
        {"Origin": "https://attacker.example"},
        {"Origin": "null"},
        {},
    ],
    ids=["cross-site", "same-site", "cross-site with own origin", "other origin", "null origin", "no headers"],
)
def test_a_post_from_another_site_gets_the_expired_page_without_its_text(db: None, headers: dict[str, str]) -> None:
    page = _expired_post(headers)
    assert "TEXT-FROM-THE-FORM" not in page
    assert "Copy it before you leave this page" not in page


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://testserver"}],
    ids=["fetch metadata", "origin only"],
)
def test_a_post_from_this_site_gets_its_text_back(db: None, headers: dict[str, str]) -> None:
    page = _expired_post(headers)
    assert "TEXT-FROM-THE-FORM" in page and "Copy it before you leave this page" in page


# --- error pages of the intake's own ----------------------------------------------------------


def test_the_intake_urlconf_names_its_own_error_pages() -> None:
    assert urls_intake.handler400 == "intake.views.bad_request"
    assert urls_intake.handler403 == "intake.views.forbidden"


@pytest.mark.parametrize(
    ("handler", "status", "heading"),
    [
        (views.bad_request, 400, "This could not be read"),
        (views.forbidden, 403, "This page cannot be opened this way"),
    ],
)
def test_the_error_pages_have_the_quick_exit_and_speak_russian_too(
    handler: Callable[[HttpRequest, Exception], HttpResponse], status: int, heading: str
) -> None:
    pages = {}
    for language in ("en", "ru"):
        # Called directly, with the intake's URLconf as its process would have it.
        with translation.override(language), override_settings(ROOT_URLCONF="config.urls_intake"):
            response = handler(RequestFactory().get("/"), Exception("reason not shown"))
        assert response.status_code == status
        pages[language] = response.content.decode()
        assert _language_of(pages[language]) == language
        assert 'href="/exit/"' in pages[language]
        assert "reason not shown" not in pages[language]
    assert heading in pages["en"] and heading not in pages["ru"]
    assert untranslated(pages["en"], pages["ru"]) == []


@pytest.mark.parametrize(("method", "path", "allowed"), [("post", "/start/", "GET"), ("get", "/logout/", "POST")])
def test_a_wrong_method_gets_a_small_page_not_an_empty_one(db: None, method: str, path: str, allowed: str) -> None:
    client = FaceClient(INTAKE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = getattr(client, method)(path)
    page = response.content.decode()
    assert response.status_code == 405 and response["Allow"] == allowed
    assert 'href="/exit/"' in page and "This page cannot be opened this way" in page
    russian = getattr(FaceClient(INTAKE), method)(path).content.decode()
    assert _language_of(russian) == "ru" and untranslated(page, russian) == []
