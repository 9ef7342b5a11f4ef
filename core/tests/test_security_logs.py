"""Requests Django refuses as suspicious are logged as one line each, with nothing the sender
chose in it: no Host value, no traceback, no address, no path or query.

Attacker: anonymous, on the network, sending whatever Host header and body size they like to
fill the operators' logs with text of their choosing (or with tracebacks that hide real errors).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

from tests.personas import INTAKE, FaceClient
from tests.served import served_face

EVIL_HOST = "evil-host-canary.example"
QUERY_CANARY = "querycanary"


def _traceback_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("Traceback", "  File ", "During handling"))]


@pytest.mark.django_db(transaction=True)
def test_a_served_face_logs_a_refused_host_and_an_oversized_post_as_one_line_each(tmp_path: Path) -> None:
    with served_face("intake", tmp_path) as face:
        visitor = face.browser()
        refused = visitor.get(f"/login/?{QUERY_CANARY}=1", headers={"Host": f"{EVIL_HOST}:80"})  # type: ignore[arg-type]
        assert refused.status == 400

        token = visitor.csrf_token("/login/")
        body = urlencode({"csrfmiddlewaretoken": token, "codename": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        too_big = visitor.request("POST", f"/login/?{QUERY_CANARY}=2", body.encode(), headers)
        assert too_big.status == 400
        assert visitor.get("/").status == 200  # the face is still there

    log = face.log()
    assert EVIL_HOST not in log
    assert QUERY_CANARY not in log and "/login/" not in log
    assert "127.0.0.1" not in log
    assert not _traceback_lines(log), log
    lines = [line for line in log.splitlines() if "request refused" in line]
    assert len(lines) == 2, log
    assert "Host header" in lines[0]
    assert f"{len(body)} bytes" in lines[1] and str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in lines[1]


@pytest.mark.django_db
def test_the_configured_handlers_write_one_line_without_the_host() -> None:
    console = next(handler for handler in logging.getLogger().handlers if handler.name == "console")
    written = io.StringIO()
    earlier = console.setStream(written)
    try:
        response = FaceClient(INTAKE).get(f"/?{QUERY_CANARY}=3", HTTP_HOST=EVIL_HOST)
    finally:
        console.setStream(earlier)  # type: ignore[arg-type]
    assert response.status_code == 400
    text = written.getvalue()
    assert EVIL_HOST not in text and QUERY_CANARY not in text
    assert not _traceback_lines(text), text
    assert len([line for line in text.splitlines() if "request refused: Host header" in line]) == 1, text
