"""The tests can fail, and say what they prove.

A test that catches every exception and then returns or passes cannot fail: whatever broke is
swallowed. Catching a broad exception is fine only to hand it on (re-raise it, or collect it
for the main thread to assert on, as the tests with worker threads do). `pytest.raises` of a
broad exception passes on any bug at all; it names the exception meant.

Tests are named after what they prove, never after the review round that asked for them
(files such as test_review4.py held unrelated tests, one asserting the opposite of its name).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", "var", "node_modules", "locale", "docs", "requirements", "__pycache__"}
BROAD = {"Exception", "BaseException"}
ROUND_NAME = re.compile(r"(^|_)review|round_?\d", re.IGNORECASE)  # not "preview"


def _test_sources() -> list[Path]:
    """Test modules, their conftest files and helpers: everything under a tests folder."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if set(parts) & SKIPPED_DIRS:
            continue
        if "tests" in parts[:-1] or path.name.startswith("test_") or path.name == "conftest.py":
            found.append(path)
    return found


def _names(node: ast.expr | None) -> set[str]:
    if node is None:
        return {"a bare except"}
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Attribute):
        return {node.attr}
    if isinstance(node, ast.Tuple):
        return set().union(*(_names(element) for element in node.elts))
    return set()


def _does_nothing(body: list[ast.stmt]) -> bool:
    """A handler that only passes, returns, continues or breaks: the error goes nowhere."""
    for statement in body:
        if isinstance(statement, ast.Pass | ast.Continue | ast.Break):
            continue
        if isinstance(statement, ast.Return) and not _mentions_a_name(statement.value):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # a docstring or ...
        return False
    return True


def _mentions_a_name(node: ast.expr | None) -> bool:
    return node is not None and any(isinstance(child, ast.Name) for child in ast.walk(node))


def _swallowed(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            caught = _names(node.type)
            broad = caught & (BROAD | {"a bare except"})
            if broad and _does_nothing(node.body):
                found.append((node.lineno, f"catches {', '.join(sorted(broad))} and lets it go"))
        elif isinstance(node, ast.Call):
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if function in {"raises", "suppress"} and node.args and _names(node.args[0]) & BROAD:
                found.append((node.lineno, f"{function}({', '.join(sorted(_names(node.args[0]) & BROAD))})"))
    return sorted(found)


def test_no_test_swallows_a_broad_exception() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in _test_sources()
        for line, what in _swallowed(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    ]
    assert not found, "name the exception meant, or hand the error on:\n" + "\n".join(found)


def test_no_test_is_named_after_a_review_round() -> None:
    named = [str(path.relative_to(ROOT)) for path in _test_sources() if ROUND_NAME.search(path.stem)]
    for path in _test_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and re.search(r"review_?\d|round_?\d", node.name, re.I):
                named.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.name}")
    assert not named, "name these after what they prove:\n" + "\n".join(named)


def test_the_checks_catch_what_they_are_for() -> None:
    swallowing = """
def test_a():
    try:
        run()
    except Exception:
        return
def test_b():
    try:
        run()
    except:
        pass
def test_c():
    with pytest.raises(BaseException):
        run()
"""
    handing_on = """
def test_d():
    try:
        run()
    except BaseException as exc:
        errors.append(exc)
def test_e():
    try:
        run()
    except Exception:
        raise
def test_f():
    try:
        run()
    except ValueError:
        pass
"""
    assert [line for line, _ in _swallowed(ast.parse(swallowing))] == [5, 10, 13]
    assert _swallowed(ast.parse(handing_on)) == []
    assert (
        ROUND_NAME.search("test_review4")
        and ROUND_NAME.search("test_review")
        and not ROUND_NAME.search("test_url_preview")
    )
