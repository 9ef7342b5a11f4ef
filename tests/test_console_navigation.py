"""Every staff page can be found: each console page a role may open is linked from the console
navigation for that role, or from the page it belongs to (the page whose address it extends,
itself in the navigation); and the navigation shows a role only links it can use.

Generated, not listed: the pages are the console URL patterns that need no object id, behind
the staff login (anonymous visitors are sent to it); who may open one is what the running
console answers each role (accounts.permissions through the views' checks), so a new page, or
a page opened to another role, fails here until it is linked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Role
from tests.personas import CONSOLE, FaceClient, make_coordinator, make_staff

pytestmark = pytest.mark.django_db
ROLES = [str(role) for role in Role.values]


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, route)
        else:
            yield route


def staff_pages() -> list[str]:
    """Console addresses that need no object id and send an anonymous visitor to the login."""
    anonymous = FaceClient(CONSOLE)
    pages = []
    for route in _routes(get_resolver(CONSOLE).url_patterns):
        if "<" in route:
            continue
        response = anonymous.get(f"/{route}")
        if response.status_code == 302 and response["Location"].startswith("/login/"):
            pages.append(f"/{route}")
    return pages


class _Links(HTMLParser):
    """The links of a page, and separately those of the console navigation (<header><nav>)."""

    def __init__(self) -> None:
        super().__init__()
        self.all: set[str] = set()
        self.nav: set[str] = set()
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("header", "nav"):
            self._open.append(tag)
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.all.add(href)
            if self._open[:2] == ["header", "nav"]:
                self.nav.add(href)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()


def links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def parent_page(page: str, pages: list[str]) -> str | None:
    """The page whose address this one extends (/account/recovery-codes/ → /account/)."""
    above = [other for other in pages if other != page and page.startswith(other)]
    return max(above, key=len) if above else None


@dataclass
class Seen:
    nav: set[str]
    opens: dict[str, bool]  # page → answers 200 to this role
    links_on: dict[str, set[str]]  # page this role opens → the links on it


@dataclass
class World:
    pages: list[str]
    roles: dict[str, Seen]


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """What each role is shown: built once, rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        coordinator = make_coordinator()
        members = {str(Role.COORDINATOR): coordinator}
        for role in ROLES:
            if role != Role.COORDINATOR:
                members[role] = make_staff(f"nav-{role}", role=role, invited_by=coordinator)
        pages = staff_pages()
        roles = {}
        for role, staff in members.items():
            client = staff.console(language="en")
            nav = links(client.get("/inbox/").content.decode()).nav
            opens, links_on = {}, {}
            for page in sorted(set(pages) | {href for href in nav if href.startswith("/")}):
                response = client.get(page)
                opens[page] = response.status_code == 200
                if opens[page] and response["Content-Type"].startswith("text/html"):
                    links_on[page] = links(response.content.decode()).all
            roles[role] = Seen(nav, opens, links_on)
        yield World(pages, roles)
        transaction.set_rollback(True)


def test_the_pages_are_found_from_the_urlconf(world: World) -> None:
    for expected in ("/inbox/", "/safe-houses/", "/rota/", "/destinations/", "/account/recovery-codes/"):
        assert expected in world.pages
    assert "/login/" not in world.pages and "/" not in world.pages


@pytest.mark.parametrize("role", ROLES)
def test_every_page_a_role_may_open_is_linked_from_its_navigation(world: World, role: str) -> None:
    shown = world.roles[role]
    unlinked = []
    for page in world.pages:
        if not shown.opens[page] or page in shown.nav:
            continue
        parent = parent_page(page, world.pages)
        if parent is not None and parent in shown.nav and page in shown.links_on.get(parent, set()):
            continue
        unlinked.append(page)
    assert not unlinked, f"{role} may open these pages, but nothing in the navigation leads there: {unlinked}"


@pytest.mark.parametrize("role", ROLES)
def test_the_navigation_shows_only_pages_the_role_may_open(world: World, role: str) -> None:
    shown = world.roles[role]
    assert "/inbox/" in shown.nav
    refused = sorted(page for page in shown.nav if not shown.opens.get(page, False))
    assert not refused, f"{role} is shown links it cannot use: {refused}"
