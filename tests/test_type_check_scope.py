"""`make lint` runs `mypy --strict` over the packages named in pyproject.toml's [tool.mypy] files:
a new app (or plain package) cannot be left out of the type check by mistake."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_CHECKED = {"tests"}  # the test tree is left out on purpose (so are each app's tests/)


def test_every_package_and_manage_py_is_type_checked() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    checked = set(config["files"])
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - NOT_CHECKED
    assert packages <= checked, f"add to [tool.mypy] files: {sorted(packages - checked)}"
    assert "manage.py" in checked
    assert all((ROOT / name).exists() for name in checked), "[tool.mypy] files names a path that is gone"
    assert config["strict"] is True


def test_every_type_ignore_in_checked_code_names_its_error_and_says_why() -> None:
    """`# type: ignore[code]  # why`: a bare ignore would hide any error on its line."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    marked = re.compile(r"#\s*type:\s*ignore(?P<rest>.*)$")
    explained = re.compile(r"\[[a-z-]+(,\s*[a-z-]+)*\]\s+#\s*\S")
    bare = []
    for name in config["files"]:
        paths = [ROOT / name] if name.endswith(".py") else (ROOT / name).rglob("*.py")
        for path in paths:
            relative = path.relative_to(ROOT)
            if {"tests", "migrations"} & set(relative.parts) or path.name.startswith("test_"):
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                found = marked.search(line)
                if found and not explained.match(found.group("rest")):
                    bare.append(f"{relative}:{number}: {line.strip()}")
    assert bare == []
