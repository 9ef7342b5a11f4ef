"""While the intake cannot take requests, nobody is offered a form to type into.

Before setup was finished, a person could write a whole request and lose it to a 503. Now
the landing page says the line is not open before anything is typed, /start/ gives no
secret phrase, and the request form is not shown (casework.services.intake_readiness).
A request already typed when the line closed comes back with its text (test_robustness).
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session

from accounts import services as account_services
from tests.personas import INTAKE, FaceClient, Staff, enrol

NOTICE = "The line is not open yet"


def _english() -> FaceClient:
    client = FaceClient(INTAKE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _forms(page: str) -> list[str]:
    return re.findall(r'<form[^>]*action="([^"]*)"', page)


@pytest.mark.django_db
def test_the_landing_page_says_the_line_is_not_open_and_offers_nothing_to_type_into() -> None:
    response = _english().get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert NOTICE in page and "Please come back later." in page
    assert 'href="/start/"' not in page and "<textarea" not in page
    assert _forms(page) == ["/language/"]  # the language buttons only


@pytest.mark.django_db
def test_no_secret_phrase_and_no_request_form_while_the_line_is_not_open() -> None:
    client = _english()
    started = client.get("/start/")
    assert started.status_code == 302 and started["Location"] == "/"
    assert client.get("/request/")["Location"] == "/"
    assert not Session.objects.exists(), "no phrase was made, so nothing was kept for it"


@pytest.mark.django_db
def test_the_line_stays_closed_until_the_recovery_key_is_made() -> None:
    token = account_services.first_coordinator_link_create()
    assert token is not None
    coordinator = enrol(token, "coordinator")
    assert NOTICE in _english().get("/").content.decode()

    account_services.recovery_key_create(created_by=coordinator.member)

    page = _english().get("/").content.decode()
    assert NOTICE not in page and 'href="/start/"' in page


def test_once_open_the_landing_page_leads_to_the_request_form(caseworker: Staff) -> None:
    client = _english()
    page = client.get("/").content.decode()
    assert NOTICE not in page and 'href="/start/"' in page
    assert client.get("/start/").status_code == 200
    form = client.get("/request/")
    assert form.status_code == 200 and "<textarea" in form.content.decode()
