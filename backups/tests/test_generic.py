"""The backups app works on the whole database through its catalogue (django.apps, connection
introspection), never through a feature app's models: a new app's tables are backed up and
checked without anyone touching backups/. This test keeps it so: outside its tests, backups
imports only the apps below the features (jobs, audit, accounts, notifications), and retention
for one figure, the shortest time a closed case is kept, which bounds how old a backup may get."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_app_layers import LAYERS

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {"backups", "jobs", "audit", "accounts", "notifications", "retention"}


def _imported_apps() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        if "tests" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for name in names:
                app = next((unit for unit in LAYERS if name == unit or name.startswith(unit + ".")), None)
                if app is not None:
                    found.setdefault(app, set()).add(str(path.relative_to(ROOT)))
    return found


def test_backups_imports_no_feature_app() -> None:
    imported = _imported_apps()
    assert {"audit", "jobs", "notifications"} <= set(imported)  # the scan sees imports at all
    assert set(imported) <= ALLOWED, {app: files for app, files in imported.items() if app not in ALLOWED}
