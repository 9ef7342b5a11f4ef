"""The plain-Python cores never import Django, so they cannot reach settings, the database or a request."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLAIN_PACKAGES = ("sealbox", "blobstore", "scrub", "redaction")
IMPORT_CHECK = "import sealbox, blobstore, scrub, redaction.pipeline, redaction.package, redaction.__main__, sys; assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)"


def is_django(module: str) -> bool:
    return module == "django" or module.startswith("django.")


def django_imports(source: str, filename: str = "<source>") -> Iterator[str]:
    """Every way a module could name Django: import statements and import_module/__import__ calls."""
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if is_django(alias.name))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and is_django(node.module):
            yield node.module
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            target = node.args[0].value
            if name in {"import_module", "__import__"} and isinstance(target, str) and is_django(target):
                yield target


def python_files() -> list[Path]:
    return sorted(path for package in PLAIN_PACKAGES for path in (PROJECT_ROOT / package).rglob("*.py"))


def test_importing_the_plain_cores_loads_no_django_module() -> None:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_no_module_of_the_plain_cores_imports_django() -> None:
    files = python_files()
    assert PROJECT_ROOT / "sealbox" / "boxes.py" in files
    assert PROJECT_ROOT / "blobstore" / "__init__.py" in files
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): found
        for path in files
        if (found := list(django_imports(path.read_text(encoding="utf-8"), str(path))))
    }
    assert offenders == {}


def test_the_import_scan_recognises_every_form_of_django_import() -> None:
    caught = [
        "import django",
        "import os, django.conf",
        "from django.conf import settings",
        "from django import forms",
        "def f():\n    from django.db import models",
        "import importlib\nimportlib.import_module('django.conf')",
        "from importlib import import_module\nimport_module('django')",
        "__import__('django.db')",
    ]
    allowed = ["import djangoish", "from .django import x", "import sealbox", "x = 'django'", "print('django')"]
    assert all(list(django_imports(source)) for source in caught)
    assert not any(list(django_imports(source)) for source in allowed)
