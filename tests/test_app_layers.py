"""The apps form layers, declared once below (LAYERS): each app imports only apps in layers below
its own, so their import graph has no cycle.

The graph is read from the source of every module of every app except tests and migrations:
every ``import`` and ``from ... import`` counts, at module level, inside functions and under
``if TYPE_CHECKING`` alike (a lower app names a higher one's types with a Protocol instead).
A function-level import of another app is refused even downward: it is how cycles used to be
hidden. The one exception is AppConfig.ready() in apps.py, where Django lets an app register
with the apps below it (casework.hooks, intake.entries, audit.details) once every model is
loaded; those imports are checked against the layers like any other.

To add an app: put it in LAYERS, above everything it imports and below everything that imports
it. When a lower app must let a higher one act on its events, it declares a core.hooks.HookPoint
and the higher app registers with it in ready().
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. An app may import the apps (and plain-Python packages) listed before it, never
# one listed after it.
LAYERS: tuple[str, ...] = (
    # Plain-Python cores: no app at all.
    "sealbox",
    "scrub",
    "redaction",
    "blobstore",
    # The ground floor: background jobs, then request handling, serving and row certificates.
    "jobs",
    "core",
    # The hash-chained audit log knows no app above it (it records ids and codes).
    "audit",
    # Who staff are: accounts, keys, roles, permissions, teams, the on-call rota.
    "accounts",
    # How each staff member is told (channels, deliveries, who would be told).
    "notifications",
    # The pages about staff: sign-up, log-in, own account, the staff list, the audit log.
    "staff",
    # The case aggregate: cases, keys, messages, states (casework.lifecycle), hooks.
    "casework",
    # Feature apps, each importing only the ones before it.
    "intake",
    # Retention policies, holds and shredding (walks every app's models through Django's meta;
    # the person's own deletion is asked from the intake's pages, so it sits above intake).
    "retention",
    "triage",
    "vetting",
    "casenotes",
    # The evidence locker and the custody log (consent, items promoted from the conversation).
    "evidence",
    "evacuation.plans",
    "evacuation.funds",
    "evacuation.safehouses",
    "evacuation.checkins",
    "evacuation.handoff",
    # Reads across every feature.
    "evacuation.dashboard",
    # The recovery ceremony acts on every app's recovery wraps.
    "recovery",
    # Backups and restore: the whole database through its catalogue, no feature app.
    "backups",
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    path: str  # its file, relative to the root
    line: int
    target: str  # the imported module, dotted
    in_function: str  # the enclosing function's name, "" at module or class level


def unit_of(module: str, units: tuple[str, ...]) -> str | None:
    """The app (or plain package) ``module`` belongs to: the longest unit that prefixes it."""
    found = [unit for unit in units if module == unit or module.startswith(unit + ".")]
    return max(found, key=len) if found else None


def _is_test_or_migration(relative: Path) -> bool:
    parts = relative.parts
    return (
        "tests" in parts or "migrations" in parts or relative.name.startswith("test_") or relative.name == "conftest.py"
    )


def modules_of(root: Path, unit: str) -> Iterator[tuple[str, Path]]:
    base = root.joinpath(*unit.split("."))
    for path in sorted(base.rglob("*.py")):
        relative = path.relative_to(root)
        if _is_test_or_migration(relative):
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    # ``from package import name`` may import a module: count both the package and the name.
    names = [f"{base}.{alias.name}" if base else alias.name for alias in node.names if alias.name != "*"]
    return [base, *names] if base else names


def imports_in(root: Path, module: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    relative = str(path.relative_to(root))
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST, function: str) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from visit(child, function or child.name)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(module, relative, child.lineno, alias.name, function)
            elif isinstance(child, ast.ImportFrom):
                for target in _resolve(module, is_package, child):
                    yield Import(module, relative, child.lineno, target, function)
            yield from visit(child, function)

    yield from visit(tree, "")


def _in_app_ready(found: Import) -> bool:
    return found.path.endswith("apps.py") and found.in_function == "ready"


@dataclass(frozen=True)
class Report:
    upward: list[str]
    in_functions: list[str]
    cycles: list[list[str]]
    edges: dict[str, set[str]]


def check(root: Path, layers: tuple[str, ...]) -> Report:
    rank = {unit: position for position, unit in enumerate(layers)}
    upward: list[str] = []
    in_functions: list[str] = []
    edges: dict[str, set[str]] = {unit: set() for unit in layers}
    seen: set[tuple[str, int, str]] = set()
    for unit in layers:
        for module, path in modules_of(root, unit):
            for found in imports_in(root, module, path):
                target = unit_of(found.target, layers)
                if target is None or target == unit:
                    continue
                key = (found.path, found.line, target)
                if key in seen:
                    continue
                seen.add(key)
                where = f"{found.path}:{found.line} imports {found.target}"
                if found.in_function and not _in_app_ready(found):
                    in_functions.append(f"{where} inside {found.in_function}() (import it at the top, downward)")
                edges[unit].add(target)
                if rank[target] > rank[unit]:
                    upward.append(f"{where}: {unit} is below {target} in LAYERS")
    return Report(upward, in_functions, find_cycles(edges), edges)


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one app (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return components


def installed_apps(root: Path) -> set[str]:
    """Every app of the project: a package with an apps.py (outside tests and the virtualenv)."""
    found = set()
    for path in root.rglob("apps.py"):
        relative = path.parent.relative_to(root)
        if relative.parts and not relative.parts[0].startswith(".") and "tests" not in relative.parts:
            found.add(".".join(relative.parts))
    return found


# --- the project --------------------------------------------------------------------------


def test_every_app_has_its_place_in_the_layers() -> None:
    apps = installed_apps(ROOT)
    assert apps - set(LAYERS) == set(), "add each new app to LAYERS"
    assert len(set(LAYERS)) == len(LAYERS)
    assert all(ROOT.joinpath(*unit.split(".")).is_dir() for unit in LAYERS)


def test_no_app_imports_an_app_above_it_and_the_apps_form_no_cycle() -> None:
    report = check(ROOT, LAYERS)

    assert report.upward == []
    assert report.cycles == []


def test_no_app_imports_another_inside_a_function() -> None:
    assert check(ROOT, LAYERS).in_functions == []


# --- the check itself fails when it should ------------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_an_upward_import_and_the_cycle_it_makes_are_reported(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "low/__init__.py": "",
            "low/models.py": "from high.models import Thing\n",
            "high/__init__.py": "",
            "high/models.py": "from low import models\nThing = 1\n",
        },
    )

    report = check(root, ("low", "high"))

    assert report.upward == ["low/models.py:1 imports high.models: low is below high in LAYERS"]
    assert report.cycles == [["high", "low"]]


def test_a_type_checking_import_counts(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "low/__init__.py": "",
            "low/services.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from high.models import Thing\n",
            "high/__init__.py": "",
        },
    )

    assert check(root, ("low", "high")).upward == ["low/services.py:3 imports high.models: low is below high in LAYERS"]


def test_a_function_level_import_is_reported_except_in_app_ready(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "low/__init__.py": "",
            "high/__init__.py": "",
            "high/services.py": "def work():\n    from low import models\n",
            "high/apps.py": "class HighConfig:\n    def ready(self):\n        from low import hooks\n",
            "high/tests/test_it.py": "def test():\n    from low import models\n",
        },
    )

    report = check(root, ("low", "high"))

    assert report.in_functions == ["high/services.py:2 imports low inside work() (import it at the top, downward)"]
    assert report.upward == [] and report.cycles == []


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "low/__init__.py": "",
            "low/a/__init__.py": "from ... import high\n",
            "high/__init__.py": "",
        },
    )

    assert check(root, ("low", "high")).upward == ["low/a/__init__.py:1 imports high: low is below high in LAYERS"]
