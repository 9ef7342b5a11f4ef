"""`make lint` runs `mypy --strict` over the packages named in pyproject.toml's [tool.mypy] files:
a new app (or plain package) cannot be left out of the type check by mistake."""

from __future__ import annotations

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
