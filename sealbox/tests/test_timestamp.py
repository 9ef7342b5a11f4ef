"""RFC 3161 requests and tokens of sealbox.timestamp against a local timestamp authority run by
``openssl ts``: what we ask, openssl answers; what openssl signs, we accept, and openssl
accepts it too; what either of us must refuse, both refuse."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, pem, tsp, x509  # type: ignore[import-untyped]

from sealbox.tests.local_tsa import LocalTsa, make_local_tsa, needs_openssl, openssl, openssl_ok
from sealbox.timestamp import TimestampError, check_response, make_request, verify_token

pytestmark = needs_openssl

STATEMENT = b"\x00\x00\x00\x0fsp.tree-head.v1 the statement of one tree head"
OTHER_STATEMENT = b"\x00\x00\x00\x0fsp.tree-head.v1 the statement of another tree head"


@pytest.fixture(scope="module", params=["rsa, ESS v1", "ec, ESS v2"])
def tsa(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> LocalTsa:
    """The organisation's TSA: RSA naming its certificate by SHA-1 (signingCertificate), or
    ECDSA P-256 naming it by SHA-256 (signingCertificateV2), the two forms TSAs send."""
    key, ess_alg = ("rsa", "sha1") if request.param.startswith("rsa") else ("ec", "sha256")
    return make_local_tsa(tmp_path_factory.mktemp(f"tsa-{key}"), key=key, ess_alg=ess_alg)


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> LocalTsa:
    """A TSA under another CA, which the organisation does not trust."""
    return make_local_tsa(tmp_path_factory.mktemp("stranger"))


def token_for(tsa: LocalTsa, statement: bytes = STATEMENT) -> bytes:
    request = make_request(statement)
    return check_response(tsa.reply(request), request, tsa.tsa_pem)


def test_openssl_reads_our_request_as_sha256_with_our_nonce_and_cert_req(tmp_path: Path) -> None:
    nonce = 0x1F2E3D4C5B6A7988
    (tmp_path / "ours.tsq").write_bytes(make_request(STATEMENT, nonce=nonce))
    text = openssl_ok("ts", "-query", "-in", "ours.tsq", "-text", cwd=tmp_path)
    assert "Hash Algorithm: sha256" in text
    assert f"Nonce: 0x{nonce:X}" in text
    assert "Certificate required: yes" in text
    digest = re.search(r"Message data:\n((?:\s+\d{4} - .*\n)+)", text)
    assert digest is not None
    hex_digits = "".join(re.findall(r"(?<=[ -])([0-9a-f]{2})(?=[ -])", digest.group(1)))
    (tmp_path / "statement").write_bytes(STATEMENT)
    assert hex_digits in openssl_ok("dgst", "-sha256", "statement", cwd=tmp_path)


def test_requests_carry_fresh_random_nonces() -> None:
    nonces = {tsp.TimeStampReq.load(make_request(STATEMENT))["nonce"].native for _ in range(8)}
    assert len(nonces) == 8


def test_a_token_from_the_tsa_holds_for_us_and_for_openssl(tsa: LocalTsa) -> None:
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    token = token_for(tsa)
    gen_time = verify_token(token, STATEMENT, tsa.tsa_pem)
    assert before <= gen_time <= datetime.now(UTC) + timedelta(seconds=1)
    assert verify_token(token, STATEMENT, tsa.ca_pem) == gen_time, "the CA that issued the TSA is trusted too"
    result = tsa.openssl_verifies(token, STATEMENT)
    assert result.returncode == 0 and "Verification: OK" in result.stdout, result.stderr


def test_a_token_for_another_statement_is_refused_by_both(tsa: LocalTsa) -> None:
    token = token_for(tsa, OTHER_STATEMENT)
    with pytest.raises(TimestampError, match="another statement"):
        verify_token(token, STATEMENT, tsa.tsa_pem)
    assert tsa.openssl_verifies(token, STATEMENT).returncode != 0


def test_an_answer_to_another_request_is_refused(tsa: LocalTsa) -> None:
    asked = make_request(STATEMENT)
    same_statement_other_nonce = make_request(STATEMENT)
    with pytest.raises(TimestampError, match="nonce"):
        check_response(tsa.reply(same_statement_other_nonce), asked, tsa.tsa_pem)
    other_statement_same_nonce = make_request(OTHER_STATEMENT, nonce=tsp.TimeStampReq.load(asked)["nonce"].native)
    with pytest.raises(TimestampError, match="imprint"):
        check_response(tsa.reply(other_statement_same_nonce), asked, tsa.tsa_pem)
    check_response(tsa.reply(asked), asked, tsa.tsa_pem)


def test_a_token_from_an_untrusted_tsa_is_refused_by_both(tsa: LocalTsa, stranger: LocalTsa) -> None:
    request = make_request(STATEMENT)
    response = stranger.reply(request)
    assert check_response(response, request, stranger.tsa_pem), "a control: it holds for its own TSA"
    for trusted in (tsa.tsa_pem, tsa.ca_pem):
        with pytest.raises(TimestampError):
            check_response(response, request, trusted)
        with pytest.raises(TimestampError):
            verify_token(tsp.TimeStampResp.load(response)["time_stamp_token"].dump(), STATEMENT, trusted)
    assert tsa.openssl_verifies(tsp.TimeStampResp.load(response)["time_stamp_token"].dump(), STATEMENT).returncode


def flip_inside(token: bytes, part: bytes, offset: int | None = None) -> bytes:
    """The token with the lowest bit of one byte of ``part`` (which occurs in it once) flipped:
    the byte at ``offset`` in it, or its middle one."""
    assert token.count(part) == 1
    at = token.index(part) + (len(part) // 2 if offset is None else offset)
    return token[:at] + bytes([token[at] ^ 0x01]) + token[at + 1 :]


def signer_info(token: bytes) -> cms.SignerInfo:
    return cms.ContentInfo.load(token)["content"]["signer_infos"][0]


def test_a_corrupted_signature_is_refused_by_both(tsa: LocalTsa) -> None:
    token = token_for(tsa)
    corrupted = flip_inside(token, signer_info(token)["signature"].native)
    with pytest.raises(TimestampError, match="signature does not hold"):
        verify_token(corrupted, STATEMENT, tsa.tsa_pem)
    assert tsa.openssl_verifies(corrupted, STATEMENT).returncode != 0


def test_a_changed_time_or_nonce_breaks_the_signed_digest(tsa: LocalTsa) -> None:
    token = token_for(tsa)
    info = cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].parsed
    # The last digit of the seconds ("YYYYMMDDHHMMSS"): one second off, still a valid time.
    for field, offset in (("gen_time", 13), ("nonce", None)):
        changed = flip_inside(token, info[field].contents, offset)
        with pytest.raises(TimestampError, match="message digest"):
            verify_token(changed, STATEMENT, tsa.tsa_pem)
        assert tsa.openssl_verifies(changed, STATEMENT).returncode != 0


def with_certificates(token: bytes, certificate_pem: Path) -> bytes:
    """The token with its (unsigned) certificate set replaced by one certificate."""
    content_info = cms.ContentInfo.load(token)
    replacement = x509.Certificate.load(pem.unarmor(certificate_pem.read_bytes())[2])
    content_info["content"]["certificates"] = cms.CertificateSet([cms.CertificateChoices("certificate", replacement)])
    return bytes(content_info.dump(force=True))


def test_a_swapped_signing_certificate_is_refused(tsa: LocalTsa) -> None:
    """A twin of the TSA certificate, from the same CA with the same serial and the same key,
    put in the token in its place: issuer, serial, key and signature all fit, but the signed
    ESS attribute names the real certificate."""
    serial = x509.Certificate.load(pem.unarmor(tsa.tsa_pem)[2]).serial_number
    twin = tsa.issue(f"twin-{serial}", "tsa", key_of="tsa", serial=serial)
    # Asked after the twin exists: a token older than a certificate is refused for that alone.
    token = token_for(tsa)
    rebuilt = with_certificates(token, tsa.dir / "tsa.pem")
    assert verify_token(rebuilt, STATEMENT, tsa.ca_pem), "a control: rebuilding the token keeps it whole"
    with pytest.raises(TimestampError, match="another signing certificate"):
        verify_token(with_certificates(token, twin), STATEMENT, tsa.ca_pem)


def test_a_refused_request_is_reported_with_the_tsa_reason(tsa: LocalTsa, tmp_path: Path) -> None:
    (tmp_path / "statement").write_bytes(STATEMENT)
    openssl_ok("ts", "-query", "-data", "statement", "-sha1", "-cert", "-out", "sha1.tsq", cwd=tmp_path)
    request = (tmp_path / "sha1.tsq").read_bytes()
    with pytest.raises(TimestampError, match=r"did not grant.*rejection"):
        check_response(tsa.reply(request, "sha1"), request, tsa.tsa_pem)


def cms_signed_tst_info(tsa: LocalTsa, signer: str, tst_info: bytes) -> bytes:
    """A TSTInfo signed by ``openssl cms`` with any certificate: no ESS signing-certificate attribute."""
    (tsa.dir / "tst_info.der").write_bytes(tst_info)
    openssl_ok(
        "cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-in", "tst_info.der",
        "-econtent_type", "1.2.840.113549.1.9.16.1.4", "-md", "sha256",
        "-signer", f"{signer}.pem", "-inkey", f"{signer}.key", "-out", "cms.der",
        cwd=tsa.dir,
    )  # fmt: skip
    return (tsa.dir / "cms.der").read_bytes()


def test_a_certificate_not_for_timestamping_is_refused(tsa: LocalTsa) -> None:
    """A website certificate from the same trusted CA signs a TSTInfo: refused for its purpose.
    The same signature made with the TSA's own certificate gets further, and is refused only
    for lacking the ESS attribute RFC 3161 requires."""
    if not (tsa.dir / "plain.pem").exists():
        tsa.issue("plain", "plain", key="ec")
    tst_info = cms.ContentInfo.load(token_for(tsa))["content"]["encap_content_info"]["content"].contents
    with pytest.raises(TimestampError, match="not for timestamping"):
        verify_token(cms_signed_tst_info(tsa, "plain", tst_info), STATEMENT, tsa.ca_pem)
    with pytest.raises(TimestampError, match="names its signing certificate"):
        verify_token(cms_signed_tst_info(tsa, "tsa", tst_info), STATEMENT, tsa.ca_pem)


@pytest.mark.parametrize("junk", [b"", b"\x30\x03\x02\x01\x01", b"not DER at all"])
def test_malformed_input_is_refused_not_crashed(tsa: LocalTsa, junk: bytes) -> None:
    request = make_request(STATEMENT)
    with pytest.raises(TimestampError):
        check_response(junk, request, tsa.tsa_pem)
    with pytest.raises(TimestampError):
        verify_token(junk, STATEMENT, tsa.tsa_pem)
    with pytest.raises(TimestampError):
        verify_token(token_for(tsa) + b"\x00", STATEMENT, tsa.tsa_pem)


def test_openssl_is_what_answers(tsa: LocalTsa) -> None:
    """The local TSA is openssl itself, not this module: its reply text names its policy."""
    request = make_request(STATEMENT)
    (tsa.dir / "text.tsr").write_bytes(tsa.reply(request))
    text = openssl("ts", "-reply", "-in", "text.tsr", "-text", cwd=tsa.dir).stdout
    assert "Status: Granted." in text and "Policy OID: 1.3.6.1.4.1.99999.1" in text
