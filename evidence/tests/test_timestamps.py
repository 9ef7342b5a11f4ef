"""RFC 3161 timestamps of the custody log's heads from a local authority (openssl ts behind a
loopback HTTP server): stored only when they verify, carried by proofs and export packages."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from evidence import exports, selectors, timestamps
from evidence.custody import log_public_key
from evidence.models import TreeHead
from evidence.tests.test_exports import approved_item, export
from redaction.package import verify_package
from sealbox.proofbundle import verify_bundle
from sealbox.tests.local_tsa import LocalTsa, make_local_tsa, needs_openssl
from tests.personas import PersonAtRisk, Staff

pytestmark = needs_openssl


class Authority:
    """Answers as the local TSA does, or (``forge``) with its answer to another request."""

    def __init__(self, tsa: LocalTsa) -> None:
        self.tsa, self.forge, self.asked = tsa, False, 0

    def answer(self, request_der: bytes) -> bytes:
        self.asked += 1
        if self.forge:
            from sealbox.timestamp import make_request

            return self.tsa.reply(make_request(b"another statement"), name="forged")
        return self.tsa.reply(request_der)


@pytest.fixture
def authority(tmp_path: Path, settings: Any) -> Iterator[Authority]:
    tsa = make_local_tsa(tmp_path / "tsa")
    served = Authority(tsa)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = served.answer(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    (tmp_path / "tsa-ca.pem").write_bytes(tsa.ca_pem)
    settings.SP_TSA_URL = f"http://127.0.0.1:{server.server_address[1]}/tsa"
    settings.SP_TSA_CERT_FILE = str(tmp_path / "tsa-ca.pem")
    try:
        yield served
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_the_latest_head_is_timestamped_and_the_token_verifies_with_openssl(
    authority: Authority, caseworker: Staff, person: PersonAtRisk
) -> None:
    approved_item(caseworker, person)
    row = timestamps.latest_head_timestamp()
    assert row is not None and row.timestamp_token is not None and row.timestamped_at is not None
    head = timestamps.head_of(row)
    assert authority.tsa.openssl_verifies(bytes(row.timestamp_token), head.statement).returncode == 0
    assert timestamps.latest_head_timestamp() is None and authority.asked == 1  # nothing new to stamp


def test_a_forged_answer_is_not_stored(authority: Authority, caseworker: Staff, person: PersonAtRisk) -> None:
    approved_item(caseworker, person)
    authority.forge = True
    assert timestamps.latest_head_timestamp() is None
    assert not TreeHead.objects.filter(timestamp_token__isnull=False).exists()


def test_proofs_and_packages_carry_the_timestamp(authority: Authority, caseworker: Staff, person: PersonAtRisk) -> None:
    item, opened = approved_item(caseworker, person)
    timestamps.latest_head_timestamp()
    for bundle in selectors.custody_proofs(item, opened)[:2]:
        proven = verify_bundle(bundle, log_public_key(), tsa_cert_pem=authority.tsa.ca_pem)
        assert proven.timestamped_at is not None
    zipped, _ = export(caseworker, person, [item], opened)
    assert "tsa.pem" not in zipfile.ZipFile(io.BytesIO(zipped)).namelist()  # trust comes from elsewhere
    report = verify_package(
        zipped, public_key=exports.export_signing_key().public_key, tsa_cert_pem=authority.tsa.ca_pem
    )
    assert report.ok, report.render()
