"""The Matrix option on the preferences page, and the system check on the bot's settings.
No homeserver needed here (see test_matrix.py for delivery)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from notifications.checks import check_matrix_bot
from notifications.models import NotificationPreference
from notifications.services import preference_address
from tests.personas import Staff

SERVER_NAME = "example.org"
ROOT = Path(__file__).resolve().parents[2]


# --- the preferences page ---------------------------------------------------------------


@pytest.mark.django_db
def test_matrix_is_offered_only_when_the_bot_is_set_up(caseworker: Staff, settings: Any) -> None:
    client = caseworker.console(language="en")
    assert 'value="matrix"' not in client.get("/account/notifications/").content.decode()
    response = client.post("/account/notifications/", {"channel": "matrix", "address": f"!abc:{SERVER_NAME}"})
    assert response.status_code == 400 and not NotificationPreference.objects.exists()

    settings.SP_MATRIX_HOMESERVER, settings.SP_MATRIX_USER_ID = "https://matrix.example.org", "@bot:example.org"
    settings.SP_MATRIX_ACCESS_TOKEN = "syt_token"
    assert 'value="matrix"' in client.get("/account/notifications/").content.decode()


@pytest.fixture
def bot_configured(settings: Any) -> None:
    settings.SP_MATRIX_HOMESERVER, settings.SP_MATRIX_USER_ID = "https://matrix.example.org", "@bot:example.org"
    settings.SP_MATRIX_ACCESS_TOKEN = "syt_token"


@pytest.mark.django_db
@pytest.mark.usefixtures("bot_configured")
@pytest.mark.parametrize(
    "address", ["!AbC123_x-y:example.org", "@Name:example.org".lower(), "!r:matrix.example.org:8448"]
)
def test_a_room_or_user_id_is_stored_encrypted_and_read_back(caseworker: Staff, address: str) -> None:
    client = caseworker.console(language="en")
    assert client.post("/account/notifications/", {"channel": "matrix", "address": f" {address} "}).status_code == 302
    preference = NotificationPreference.objects.get(member=caseworker.member)
    assert preference.channel == "matrix"
    assert address.encode() not in bytes(preference.address_ct)
    assert preference_address(preference) == address
    assert address in client.get("/account/notifications/").content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("bot_configured")
@pytest.mark.parametrize(
    ("language", "address", "error"),
    [
        ("en", "my room", "Enter a Matrix room id like !abc123:example.org or a user id like @name:example.org."),
        ("en", "#hotline:example.org", "Enter a Matrix room id like !abc123:example.org or a user id like @name"),
        ("en", "!noserver", "Enter a Matrix room id like"),
        ("en", "", "Enter where to send notifications."),
        ("ru", "https://matrix.to/#/!abc:example.org", "Введите id комнаты Matrix"),
        ("ru", "@Имя:example.org", "Введите id комнаты Matrix"),
    ],
)
def test_a_bad_matrix_id_is_refused_with_a_clear_message(
    caseworker: Staff, language: str, address: str, error: str
) -> None:
    form = {"channel": "matrix", "address": address}
    response = caseworker.console(language=language).post("/account/notifications/", form)
    assert response.status_code == 400
    page = response.content.decode()
    assert error in page
    assert address.replace("&", "&amp;") in page  # nothing typed is lost
    assert not NotificationPreference.objects.exists()


# --- the bot's settings -----------------------------------------------------------------


def test_matrix_switched_off_passes_the_check(settings: Any) -> None:
    settings.SP_MATRIX_HOMESERVER = settings.SP_MATRIX_USER_ID = settings.SP_MATRIX_ACCESS_TOKEN = ""
    assert check_matrix_bot(None) == []


@pytest.mark.parametrize(
    ("homeserver", "user_id", "token", "problem"),
    [
        ("https://matrix.example.org", "@bot:example.org", "", "SP_MATRIX_ACCESS_TOKEN"),
        ("", "@bot:example.org", "syt_token", "SP_MATRIX_HOMESERVER is not set"),
        ("https://matrix.example.org", "bot", "syt_token", "SP_MATRIX_USER_ID"),
        ("http://matrix.example.org", "@bot:example.org", "syt_token", "https://"),
        ("ftp://127.0.0.1", "@bot:example.org", "syt_token", "https://"),
    ],
)
def test_a_half_set_up_bot_fails_the_check(
    settings: Any, homeserver: str, user_id: str, token: str, problem: str
) -> None:
    settings.SP_MATRIX_HOMESERVER, settings.SP_MATRIX_USER_ID = homeserver, user_id
    settings.SP_MATRIX_ACCESS_TOKEN = token
    errors = check_matrix_bot(None)
    assert [error.id for error in errors] == ["notifications.E001"]
    assert problem in errors[0].msg


def test_a_complete_bot_passes_the_check(settings: Any) -> None:
    settings.SP_MATRIX_HOMESERVER, settings.SP_MATRIX_USER_ID = "https://matrix.example.org", "@bot:example.org"
    settings.SP_MATRIX_ACCESS_TOKEN = "syt_token"
    assert check_matrix_bot(None) == []
    settings.SP_MATRIX_HOMESERVER = "http://127.0.0.1:8008"  # a relay on this machine
    assert check_matrix_bot(None) == []


def _run(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """A fresh process with the real (not the test) settings, as an operator would start it."""
    base = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SP_VAR_DIR": str(tmp_path / "var"),
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_half_set_up_bot_stops_the_start(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        ["manage.py", "check"],
        SP_MATRIX_HOMESERVER="https://matrix.example.org",
        SP_MATRIX_USER_ID="@bot:example.org",
    )
    assert result.returncode != 0
    assert "notifications.E001" in result.stderr and "SP_MATRIX_ACCESS_TOKEN" in result.stderr


def test_the_token_can_come_from_a_file(tmp_path: Path) -> None:
    token = tmp_path / "matrix_token"
    token.write_text("syt_from_a_file\n")
    bot = {"SP_MATRIX_HOMESERVER": "https://matrix.example.org", "SP_MATRIX_USER_ID": "@bot:example.org"}
    result = _run(tmp_path, ["manage.py", "check"], **bot, SP_MATRIX_ACCESS_TOKEN_FILE=str(token))
    assert result.returncode == 0, result.stderr
    code = "from django.conf import settings; print(settings.SP_MATRIX_ACCESS_TOKEN)"
    shown = _run(tmp_path, ["-c", code], **bot, SP_MATRIX_ACCESS_TOKEN_FILE=str(token))
    assert shown.stdout.strip() == "syt_from_a_file", shown.stderr
