"""Who may do what is decided in accounts/permissions.py alone (T3, T12).

Views, forms, panels, selectors, template tags and templates read its capabilities as
booleans; none of them spells out a role. A role tuple copied into a view drifts from the rule
the service enforces (a review found a verifier who could evict every other key holder), so
this test reads their source and fails on any role spelled out there."""

from __future__ import annotations

import re
from pathlib import Path

from accounts import permissions

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", "var", "node_modules", "tests", "migrations", "bench", "locale", "docs", "requirements"}
PYTHON_NAMES = re.compile(r"^(views|\w+_views|forms|\w+_forms|panels|selectors|context)\.py$")
ROLE_NAMES = "coordinator|caseworker|verifier|logistics|analyst"

PYTHON_PATTERNS = {
    "a Role member": re.compile(r"\bRole\.(?!choices\b)"),
    "a member's role": re.compile(r"\.role\b"),
    "a role comparison": re.compile(r"\brole\s*(==|!=|\bin\b|\bnot\s+in\b)"),
    "a role filter": re.compile(r"\brole__in\b"),
    "a role tuple": re.compile(r"\b[A-Z_]*ROLES\b"),
    "is_coordinator": re.compile(r"\bis_coordinator\b"),
    # Compared or listed; a field that happens to share a role's name ("verifier") is not a role.
    "a role name": re.compile(
        rf"""(==|!=)\s*["']({ROLE_NAMES})["']|["']({ROLE_NAMES})["']\s*(==|!=|,)|\bin\s*[(\[{{]\s*["']({ROLE_NAMES})["']"""
    ),
}
TEMPLATE_PATTERNS = {
    "a member's role": re.compile(r"\.role\b"),
    "a role comparison": re.compile(r"\brole\s*(==|!=|\bin\b)"),
    "is_coordinator": re.compile(r"\bis_coordinator\b"),
    "a role name": re.compile(rf"""["']({ROLE_NAMES})["']"""),
}


def _sources() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & SKIPPED_DIRS or not path.is_file():
            continue
        in_templatetags = path.parent.name == "templatetags"
        if path.suffix == ".py" and (PYTHON_NAMES.match(path.name) or in_templatetags):
            found.append(path)
        elif path.suffix == ".html" and "templates" in path.relative_to(ROOT).parts:
            found.append(path)
    return sorted(found)


def _spelled_out_roles(path: Path, root: Path = ROOT) -> list[tuple[str, str]]:
    """(where, what) for each way a line of ``path`` spells out a role."""
    patterns = PYTHON_PATTERNS if path.suffix == ".py" else TEMPLATE_PATTERNS
    return [
        (f"{path.relative_to(root)}:{number}: {line.strip()[:120]}", what)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for what, pattern in patterns.items()
        if pattern.search(line)
    ]


def test_the_scan_reads_the_views_forms_and_templates_of_every_app() -> None:
    names = {str(path.relative_to(ROOT)) for path in _sources()}
    for expected in (
        "casework/views.py",
        "casework/forms.py",
        "casework/templates/casework/case.html",
        "triage/forms.py",
        "evacuation/checkins/templates/checkins/case_panel.html",
        "evacuation/safehouses/panels.py",
        "vetting/selectors.py",
        "triage/templatetags/triage.py",
        "core/templates/console/base.html",
    ):
        assert expected in names


def test_the_scan_finds_every_way_of_spelling_out_a_role(tmp_path: Path) -> None:
    """A positive control: each pattern catches what it is for, and a field named like a role
    does not count."""
    view = tmp_path / "views.py"
    view.write_text(
        "if member.role in READER_ROLES: pass\n"
        "if member.is_coordinator: pass\n"
        "x = Role.ANALYST\n"
        "y = StaffMember.objects.filter(role__in=z)\n"
        'if writer == "verifier": pass\n'
        'SignOff.objects.select_related("verifier")\n'
    )
    template = tmp_path / "page.html"
    template.write_text('{% if request.user.role == "logistics" or request.user.is_coordinator %}{% endif %}\n')
    found = _spelled_out_roles(view, tmp_path)
    assert {what for _where, what in found} == set(PYTHON_PATTERNS)
    assert not any(where.startswith("views.py:6:") for where, _what in found)
    assert {what for _where, what in _spelled_out_roles(template, tmp_path)} == set(TEMPLATE_PATTERNS)


def test_no_view_form_or_template_spells_out_a_role() -> None:
    found = [f"{where} ({what})" for path in _sources() for where, what in _spelled_out_roles(path)]
    assert not found, "ask accounts.permissions instead:\n" + "\n".join(found)


def test_every_capability_a_template_asks_for_exists() -> None:
    asked = {
        (str(path.relative_to(ROOT)), name)
        for path in _sources()
        if path.suffix == ".html"
        for name in re.findall(r"\bmay\.(\w+)", path.read_text(encoding="utf-8"))
    }
    assert asked, "no template asks accounts.permissions anything"
    unknown = sorted(f"{where}: may.{name}" for where, name in asked if name not in permissions.MEMBER_CAPABILITIES)
    assert not unknown, unknown
