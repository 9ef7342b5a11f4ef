"""Small readers of console pages shared by this app's tests."""

from __future__ import annotations

import html
import re

from accounts.keyring import staff_private_key_unlock
from tests.personas import PASSWORD, Staff


def private_key(staff: Staff) -> bytes:
    return staff_private_key_unlock(staff.member, PASSWORD)


def textarea(page: str, name: str) -> str:
    """The text inside a form's textarea, as the browser would show it."""
    found = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None, page[:3000]
    return html.unescape(found.group(1)).removeprefix("\r\n").removeprefix("\n")


def field_value(page: str, name: str) -> str:
    found = re.search(rf'<input type="[a-z]+" name="{name}" value="([^"]*)"', page)
    assert found is not None, page[:3000]
    return html.unescape(found.group(1))


def text(response: object) -> str:
    return html.unescape(response.content.decode())  # type: ignore[attr-defined]
