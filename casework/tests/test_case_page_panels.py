"""The case page is built from panels that apps register (casework.case_page): every app's part
is registered in its own AppConfig.ready(), an app adds a panel without editing casework, each
panel sees only its own names, and a form that comes back opens its panel's section."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import QueryDict
from django.test import override_settings

from casework import case_page
from casework.case_page import WARNINGS, Panel, PanelForm, PanelRequest, Section
from tests.personas import PersonAtRisk, Staff

# Which app registers each panel, and where it goes: the page's whole shape in one place.
EXPECTED = {
    "case_warnings": ("casework", None, WARNINGS),
    "contact_warnings": ("casework", None, WARNINGS),
    "duress_clear": ("casework", "conversation", WARNINGS),
    "conversation": ("casework", "conversation", "main"),
    "holders": ("casework", "access", "main"),
    "codename": ("casework", "access", "main"),
    "flags": ("casework", "state", "main"),
    "vetting": ("vetting", "vetting", "main"),
    "red_flags": ("vetting", None, WARNINGS),
    "red_flag_contact": ("vetting", "conversation", "contact_badges"),
    "reply_stop": ("vetting", "conversation", "reply_checks"),
    "sensitive_share": ("vetting", "conversation", "after_reply"),
    "canned_replies": ("casenotes", "conversation", "reply_tools"),
    "notes": ("casenotes", "notes", "main"),
    "evidence": ("evidence", "evidence", "main"),
    "case_state": ("triage", "state", "main"),
    "evac_plan": ("evacuation.plans", "plan", "main"),
    "funds": ("evacuation.funds", "money", "main"),
    "safehouse": ("evacuation.safehouses", "safehouse", "main"),
    "checkins": ("evacuation.checkins", "checkins", "main"),
    "handoff": ("evacuation.handoff", "access", "main"),
    "retention": ("retention", "state", "main"),
    "deletion_asked": ("retention", None, WARNINGS),
}


def test_every_panel_is_registered_by_its_own_app_on_a_registered_section() -> None:
    registered = {panel.name: panel for panel in case_page.panels()}
    assert set(registered) == set(EXPECTED)
    sections = {section.key for section in case_page.sections()}
    for name, (app, section, slot) in EXPECTED.items():
        panel = registered[name]
        assert (panel.section, panel.slot) == (section, slot), name
        assert panel.section is None or panel.section in sections
        # The context function lives in the app that owns the panel, not in casework.
        owner = apps.get_containing_app_config(panel.context.__module__)
        assert owner is not None and owner.name == app, (name, panel.context.__module__)


def test_the_sections_keep_their_order() -> None:
    keys = [section.key for section in case_page.sections()]
    assert keys == [
        "conversation",
        "vetting",
        "plan",
        "money",
        "safehouse",
        "checkins",
        "notes",
        "evidence",
        "access",
        "state",
    ]


def test_a_panel_or_section_registered_twice_under_one_name_is_refused() -> None:
    existing = case_page.panel("notes")
    with pytest.raises(ImproperlyConfigured):
        case_page.register_panel(Panel("notes", "x.html", existing.context, 1, "notes"))
    with pytest.raises(ImproperlyConfigured):
        case_page.register_section(Section("notes", "Other", order=1))
    with pytest.raises(ImproperlyConfigured):
        case_page.register_panel(Panel("nowhere", "x.html", existing.context, 1, None))


@pytest.fixture
def extra_panels(tmp_path: Path) -> Iterator[Path]:
    """Two panels an app outside casework adds, with templates of their own, taken off again
    after the test (the registry is the process's)."""
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "first.html").write_text('<p id="first">first sees {{ own_name }}</p>')
    (tmp_path / "extra" / "second.html").write_text(
        '<p id="second">second sees {{ own_name|default:"nothing of the first" }} on {{ case.public_id }}'
        "{% if returned_error %}: {{ returned_error }}{% endif %}</p>"
    )

    def first(page: PanelRequest) -> dict[str, object]:
        return {"own_name": "its own name"}

    def second(page: PanelRequest) -> dict[str, object]:
        return {"returned_error": page.returned_error("extra")}

    case_page.register_section(Section("extra", "Extra", order=85))
    case_page.register_panel(Panel("extra_first", "extra/first.html", first, 10, "extra"))
    case_page.register_panel(Panel("extra_second", "extra/second.html", second, 20, "extra"))
    templates = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    try:
        with override_settings(TEMPLATES=templates):
            yield tmp_path
    finally:
        case_page._panels.pop("extra_first", None)
        case_page._panels.pop("extra_second", None)
        case_page._sections.pop("extra", None)


def test_an_app_adds_a_section_and_panels_without_casework_and_each_panel_sees_only_its_own_names(
    extra_panels: Path, person: PersonAtRisk, caseworker: Staff
) -> None:
    console = caseworker.console()
    page = html.unescape(console.get(f"/cases/{person.case.public_id}/?section=extra").content.decode())
    assert '<p id="first">first sees its own name</p>' in page
    assert f'<p id="second">second sees nothing of the first on {person.case.public_id}</p>' in page
    assert "?section=extra" in page  # linked from the section list
    # Not built on another section.
    conversation = console.get(f"/cases/{person.case.public_id}/").content.decode()
    assert 'id="first"' not in conversation


def test_a_form_that_comes_back_opens_its_panels_section_with_status_400(
    extra_panels: Path, person: PersonAtRisk, caseworker: Staff
) -> None:
    console = caseworker.console()
    request = console.get(f"/cases/{person.case.public_id}/").wsgi_request
    response = case_page.render_case_page(
        request, person.case, failed_panel="extra_second", form=PanelForm("extra", error="Not saved: a reason.")
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert ": Not saved: a reason.</p>" in page
    assert 'aria-current="page">Extra' in page


def test_an_existing_panel_moves_to_another_section_without_casework(person: PersonAtRisk, coordinator: Staff) -> None:
    """The hand-off panel (evacuation.handoff) registered on the state section instead of the
    access section: its app's registration is all that changes."""
    handoff = case_page.panel("handoff")
    case_page._panels["handoff"] = dataclasses.replace(handoff, section="state")
    try:
        console = coordinator.console()
        access = console.get(f"/cases/{person.case.public_id}/?section=access").content.decode()
        state = console.get(f"/cases/{person.case.public_id}/?section=state").content.decode()
    finally:
        case_page._panels["handoff"] = handoff
    assert 'id="handoff"' not in access and 'id="holders"' in access
    assert 'id="handoff"' in state and 'id="flags"' in state


def test_a_panel_inside_the_reply_box_sees_the_page_but_not_the_conversation_panels_names(
    tmp_path: Path, person: PersonAtRisk, caseworker: Staff
) -> None:
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "tool.html").write_text(
        '<p id="tool">{{ real_thread|default:"no thread" }} {{ form|default:"no form" }} on {{ case.public_id }}'
        "{% if may.work_case %} may work{% endif %}</p>"
    )
    case_page.register_panel(
        Panel("extra_tool", "extra/tool.html", lambda page: {}, 99, "conversation", slot="reply_tools")
    )
    templates = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    try:
        with override_settings(TEMPLATES=templates):
            page = caseworker.console().get(f"/cases/{person.case.public_id}/").content.decode()
    finally:
        case_page._panels.pop("extra_tool", None)
    assert f'<p id="tool">no thread no form on {person.case.public_id} may work</p>' in page


def test_what_a_panel_gets_never_prints_the_opened_keys_or_text() -> None:
    page = case_page.PanelRequest(
        query=QueryDict(""), case=None, member=None, opened={1: b"case-private-key"}, details=None, section="x"
    )  # type: ignore[arg-type]
    returned = PanelForm("address", about="Street 1, flat 2")
    assert "case-private-key" not in repr(page) and "Street 1" not in repr(returned)
