"""The whole path: a person asks for help, a caseworker reads and answers, the person reads it."""

from __future__ import annotations

import re

import pytest

from casework.models import Case
from tests.personas import INTAKE, FaceClient, Staff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def _start_and_get_codename(client: FaceClient) -> str:
    page = client.get("/start/").content.decode()
    words = re.findall(r"<span>([^<]+)</span>", page.split('class="codename"')[1].split("</p>")[0])
    assert len(words) == 6
    return " ".join(words)


@pytest.mark.django_db
def test_a_person_asks_for_help_and_reads_the_caseworkers_answer(caseworker: Staff, tmp_path) -> None:
    intake = FaceClient(INTAKE)
    codename = _start_and_get_codename(intake)
    photo = tmp_path / "photo.png"
    photo.write_bytes(PNG)
    with photo.open("rb") as handle:
        response = intake.post(
            "/request/",
            {
                "urgency": "danger_now",
                "region": "chechnya",
                "help_kinds": ["leave_region", "legal"],
                "message": "They took my friend yesterday.",
                "attachments": handle,
            },
        )
    assert response.status_code == 302 and response["Location"] == "/conversation/"
    assert "They took my friend yesterday." in intake.get("/conversation/").content.decode()

    case = Case.objects.get()
    console = caseworker.console()
    inbox = console.get("/inbox/").content.decode()
    assert case.public_id in inbox and "Чечня" in inbox
    page = console.get(f"/cases/{case.public_id}/").content.decode()
    assert "They took my friend yesterday." in page and "photo.png" in page
    attachment_url = re.search(r'href="(/cases/[^"]+/files/[^"]+/)"', page).group(1)
    download = console.get(attachment_url)
    assert b"".join(download.streaming_content) == PNG

    assert (
        console.post(f"/cases/{case.public_id}/reply/", {"body": "We can help. Stay where you are."}).status_code == 302
    )

    intake.post("/logout/")
    again = FaceClient(INTAKE)
    assert again.post("/login/", {"codename": codename.upper().replace(" ", ",  ")}).status_code == 302
    assert "We can help. Stay where you are." in again.get("/conversation/").content.decode()


def test_a_long_conversation_shows_the_newest_page_and_links_to_earlier_ones(person) -> None:  # type: ignore[no-untyped-def]
    client = person.intake(language="en")
    for number in range(1, 13):
        assert client.post("/conversation/", {"message": f"Update number {number:02d}"}).status_code == 302
    newest = client.get("/conversation/").content.decode()
    assert "Update number 12" in newest and "Update number 03" in newest
    assert "Update number 02" not in newest and "First message from the person." not in newest
    assert newest.index("Update number 03") < newest.index("Update number 12")  # oldest first on the page
    assert 'href="/conversation/?page=2"' in newest
    earlier = client.get("/conversation/?page=2").content.decode()
    assert "First message from the person." in earlier and "Update number 02" in earlier
    assert "Update number 03" not in earlier
    assert 'href="/conversation/"' in earlier  # back to the newest
