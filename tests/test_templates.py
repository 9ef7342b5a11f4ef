"""Templates name their links and stay readable.

Every internal link, form action and subresource is written `{% url 'namespace:name' … %}`, so a
path is defined once, in a urls.py, and a renamed path cannot leave a dead link behind in a
branch that no test renders. The intake's links carry nothing (T2: no case data in URLs or
history): its `{% url %}` tags take no argument but a static file's name.

The staff (console) templates are laid out one element or block per line with nested
indentation. Only the intake is kept compact, for its page-weight budget (test_page_weight).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver

from tests.personas import CONSOLE, INTAKE

ROOT = Path(__file__).resolve().parent.parent

# Written by hand on purpose, with the reason.
LITERAL_URLS = {
    ("core/expired.html", 'href="/"'): "shown by both faces inside each face's own layout: the start of whichever face "
    "serves it, which no single URL name covers",
}
# A console line may hold one element with its text, indented, but not a page or a table row
# with its cells: the staff templates used to be minified, whole pages on one line (up to 1,849
# characters). The text of a translatable message is not counted, because it cannot be wrapped
# without changing its message id ({% translate %} cannot span lines; a line break inside
# {% blocktranslate %} is part of the msgid): a long sentence on a line of its own is fine.
LINE_LIMIT = 200
# Lines that cannot be wrapped without changing what they render, with the reason.
LONG_LINES = {
    ("casework/_message.html", '<li class="{{ message.sender }}'): "a class attribute built from conditions: a line "
    "break in it would be a newline in the attribute",
    ("casework/inbox.html", '<tr class="{% if row.unread %}'): "a class attribute built from conditions: a line "
    "break in it would be a newline in the attribute",
    ("handoff/case_panel.html", '<strong>{% if message.from == "person" %}'): "a label chosen inside <strong>: a "
    "line break in it would put a space into the bold text",
}

URL_ATTRIBUTE = re.compile(r"""\b(?:href|src|action|formaction|poster|hx-[a-z]+)\s*=\s*(["']?)(/[^"'\s>]*)""")
URL_TAG = re.compile(r"""\{%\s*url\s+(["'])([^"']+)\1((?:\s+(?!as\s)[^\s%]+)*)(?:\s+as\s+\w+)?\s*%\}""")
EXTENDS = re.compile(r"""\{%\s*extends\s+(["']?)([^"'\s%]+)\1\s*%\}""")
INCLUDES = re.compile(r"""\{%\s*include\s+["']([^"']+)["']""")
MESSAGE = re.compile(
    r"""\{%\s*translate\s+("[^"]*"|'[^']*')|\{%\s*blocktranslate\b.*?%\}.*?\{%\s*endblocktranslate\s*%\}""", re.S
)


@dataclass(frozen=True)
class Template:
    name: str  # as the loader knows it, "casework/inbox.html"
    path: Path

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def where(self, number: int) -> str:
        return f"{self.path.relative_to(ROOT)}:{number}"


@cache
def _templates() -> dict[str, Template]:
    found: dict[str, Template] = {}
    for app in apps.get_app_configs():
        folder = Path(app.path) / "templates"
        if ROOT not in folder.parents or "site-packages" in folder.parts or not folder.is_dir():
            continue  # the project's own apps only
        for path in sorted(folder.rglob("*.html")):
            name = path.relative_to(folder).as_posix()
            found.setdefault(name, Template(name, path))
    return found


# Shown on the intake although no intake template names them: included by name at run time
# (intake/conversation.html includes what apps register with intake.entries).
INTAKE_BY_NAME = {"checkins/checkin_button.html"}


@cache
def _faces() -> dict[str, frozenset[str]]:
    """The faces each template is shown on: the intake's layout, what extends it and what they
    include; a template that extends a layout chosen at run time is shown on both."""
    templates = _templates()
    intake = {"intake/base.html", *INTAKE_BY_NAME}
    both = set()
    for template in templates.values():
        extends = EXTENDS.search(template.source)
        if extends and extends.group(2) == "intake/base.html":
            intake.add(template.name)
        elif extends and not extends.group(1):  # a variable
            both.add(template.name)
    for shown in (intake, both):
        todo = list(shown)
        while todo:
            for included in INCLUDES.findall(templates[todo.pop()].source):
                if included not in shown:
                    shown.add(included)
                    todo.append(included)
    return {
        name: frozenset({"intake", "console"} if name in both else {"intake"} if name in intake else {"console"})
        for name in templates
    }


def _patterns(urlconf: str) -> dict[str, int]:
    """Every named pattern of a face, "namespace:name", with the number of arguments it takes."""
    found: dict[str, int] = {}

    def walk(entries: list[URLPattern | URLResolver], namespaces: tuple[str, ...], taken: int) -> None:
        for entry in entries:
            converters = len(getattr(entry.pattern, "converters", {}))
            if isinstance(entry, URLResolver):
                walk(
                    entry.url_patterns,
                    (*namespaces, *([entry.namespace] if entry.namespace else [])),
                    taken + converters,
                )
            elif entry.name:
                found.setdefault(":".join((*namespaces, entry.name)), taken + converters)

    walk(get_resolver(urlconf).url_patterns, (), 0)
    return found


def test_the_templates_are_found() -> None:
    faces = _faces()
    assert "console/base.html" in faces and "intake/conversation.html" in faces
    assert faces["intake/field.html"] == {"intake"} and faces["checkins/checked_in.html"] == {"intake"}
    assert faces["core/expired.html"] == {"intake", "console"} and faces["casework/inbox.html"] == {"console"}


def test_no_template_writes_an_internal_url_by_hand() -> None:
    found: list[str] = []
    used: set[tuple[str, str] | str] = set()
    for template in _templates().values():
        for number, line in enumerate(template.source.splitlines(), start=1):
            for match in URL_ATTRIBUTE.finditer(line):
                literal = f"{match.group(0)}{match.group(1)}"  # href="/…"
                if (template.name, literal) in LITERAL_URLS:
                    used.add((template.name, literal))
                else:
                    found.append(f"{template.where(number)}: {literal}: write {{% url 'namespace:name' … %}}")
    stale = [
        f"{entry}: no longer written by hand, remove it from the list" for entry in LITERAL_URLS if entry not in used
    ]
    assert not found and not stale, "\n".join(found + stale)


def test_every_url_tag_names_a_pattern_of_its_face_with_the_arguments_it_takes() -> None:
    patterns = {"console": _patterns(CONSOLE), "intake": _patterns(INTAKE)}
    wrong = []
    for template in _templates().values():
        for number, line in enumerate(template.source.splitlines(), start=1):
            for match in URL_TAG.finditer(line):
                name, arguments = match.group(2), match.group(3).split()
                for face in sorted(_faces()[template.name]):
                    if name not in patterns[face]:
                        wrong.append(f"{template.where(number)}: no pattern {name!r} on the {face}")
                    elif patterns[face][name] != len(arguments):
                        wrong.append(
                            f"{template.where(number)}: {name!r} takes {patterns[face][name]} arguments, "
                            f"given {len(arguments)}"
                        )
    assert not wrong, "\n".join(wrong)


def test_the_intake_links_carry_nothing_but_a_static_file_name() -> None:
    carrying = []
    for template in _templates().values():
        if "intake" not in _faces()[template.name]:
            continue
        for number, line in enumerate(template.source.splitlines(), start=1):
            for match in URL_TAG.finditer(line):
                arguments = match.group(3).split()
                is_static_file = match.group(2) == "static" and all(re.fullmatch(r"'[\w.-]+'", a) for a in arguments)
                if arguments and not is_static_file:
                    carrying.append(f"{template.where(number)}: {match.group(0)}")
    assert not carrying, "an intake URL must not carry anything (T2):\n" + "\n".join(carrying)


def _counted(line: str) -> str:
    return MESSAGE.sub("{% translate … %}", line)


def test_the_console_templates_have_no_line_longer_than_the_limit() -> None:
    limit = LINE_LIMIT
    too_long: list[str] = []
    used: set[tuple[str, str] | str] = set()
    for template in _templates().values():
        if _faces()[template.name] != {"console"}:
            continue
        for number, line in enumerate(template.source.splitlines(), start=1):
            if len(_counted(line)) <= limit:
                continue
            allowed = [key for key in LONG_LINES if key[0] == template.name and line.strip().startswith(key[1])]
            if allowed:
                used.update(allowed)
            else:
                too_long.append(f"{template.where(number)}: {len(_counted(line))} characters")
    stale = [f"{entry}: no longer too long, remove it from LONG_LINES" for entry in LONG_LINES if entry not in used]
    assert not too_long and not stale, (
        f"lay these out one element or block per line (at most {limit} characters, messages not counted):\n"
        + "\n".join(too_long + stale)
    )
