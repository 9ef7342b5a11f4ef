"""The page for people whom Tor, or this site, is blocked for (T1): Russia blocks Tor and many
VPNs, and a person who cannot connect must still learn how to reach the line.

It is reached from the landing page by a plain link, works without JavaScript, loads nothing
from elsewhere, and gives the site's onion address (to copy into Tor Browser) and its ordinary
address (for people who cannot use Tor) only when the operator configured them.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import override_settings

from tests.personas import INTAKE, FaceClient, PersonAtRisk

ONION = "http://" + "a" * 56 + ".onion"
CLEARNET = "https://desk.example.org"
# What a person who cannot connect needs, whatever the language: the names they will see or type.
KEY_CONTENT = ("Snowflake", "@GetBridgesBot", "bridges@torproject.org", "gettor@torproject.org", "@gettor_bot")
HEADINGS = {
    "en": ("If this site or Tor is blocked", "Settings → Connection → Bridges"),
    "ru": ("Если этот сайт или Tor заблокированы", "«Настройки» → «Соединение» → «Мосты» → «Выбрать встроенный мост»"),
}


def _page(language: str) -> str:
    client = FaceClient(INTAKE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response: HttpResponse = client.get("/connect/")
    assert response.status_code == 200
    assert response["Content-Language"] == language
    return response.content.decode()


def _addresses(page: str) -> list[str]:
    return re.findall(r'<p class="address">([^<]*)</p>', page)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "ru"])
def test_it_tells_how_to_get_through_a_block_in_each_language(language: str) -> None:
    page = _page(language)
    for text in (*KEY_CONTENT, *HEADINGS[language]):
        assert text in page, f"{text!r} missing from the {language} page"
    assert f'<html lang="{language}">' in page
    assert 'href="/exit/"' in page, "the quick exit is on this page too"


@pytest.mark.django_db
def test_the_landing_page_links_to_it_with_a_plain_link() -> None:
    for language, words in (("en", "If this site or Tor is blocked where you are"), ("ru", "Если у вас заблокирован")):
        client = FaceClient(INTAKE)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        landing = client.get("/").content.decode()
        link = re.search(r'<a href="/connect/">([^<]*)</a>', landing)
        assert link is not None and words in link.group(1), landing


@pytest.mark.django_db
def test_a_logged_in_person_sees_the_same_page(person: PersonAtRisk) -> None:
    response = person.intake().get("/connect/")
    assert response.status_code == 200 and "@GetBridgesBot" in response.content.decode()


@pytest.mark.django_db
def test_it_needs_no_script_and_loads_nothing_from_elsewhere() -> None:
    with override_settings(SP_INTAKE_URL=ONION, SP_INTAKE_CLEARNET_URL=CLEARNET):
        page = _page("ru")
    scripts = re.findall(r"<script\b[^>]*>", page)
    # The layout's quick-exit script only keeps "back" from returning; the link works without it.
    assert scripts == ['<script src="/static/exit.js" defer>']
    urls = re.findall(r'\b(?:href|src|action)="([^"]*)"', page)
    assert urls and all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "<form" not in page.replace('<form method="post" action="/language/" class="lang">', "")
    # The addresses are text to copy, never links that leave the site.
    assert ONION not in "".join(urls) and CLEARNET not in "".join(urls)


@pytest.mark.django_db
@override_settings(SP_INTAKE_URL="http://127.0.0.1:8000", SP_INTAKE_CLEARNET_URL="")
def test_no_address_is_shown_when_none_is_configured() -> None:
    page = _page("en")
    assert _addresses(page) == []
    assert "Addresses of this site" not in page and "Without Tor" not in page and "127.0.0.1" not in page


@pytest.mark.django_db
@override_settings(SP_INTAKE_URL=ONION + "/", SP_INTAKE_CLEARNET_URL="")
def test_the_onion_address_is_shown_to_copy_when_the_intake_is_an_onion_service() -> None:
    page = _page("ru")
    assert _addresses(page) == [ONION]
    assert "В Tor Browser (скопируйте адрес в адресную строку):" in page
    assert "Без Tor" not in page


@pytest.mark.django_db
@override_settings(SP_INTAKE_URL=ONION, SP_INTAKE_CLEARNET_URL=CLEARNET + "/")
def test_the_ordinary_address_is_shown_with_what_it_gives_away_when_configured() -> None:
    page = _page("en")
    assert _addresses(page) == [ONION, CLEARNET]
    assert "your internet provider can see that you open this site, but not what you write here" in page


@pytest.mark.django_db
@override_settings(SP_INTAKE_URL=CLEARNET, SP_INTAKE_CLEARNET_URL=CLEARNET + "/")
def test_the_ordinary_address_is_not_offered_when_it_is_this_same_address() -> None:
    assert _addresses(_page("en")) == []


@pytest.mark.django_db
def test_it_takes_no_post() -> None:
    assert FaceClient(INTAKE).post("/connect/").status_code == 405
