"""RFC 3161 timestamps of signed tree heads, checked without trusting the organisation's clock.

A signed tree head carries the organisation's own time, which the organisation could backdate.
A timestamp authority (TSA) countersigns a hash of the head's statement with its own time, so a
head that existed by then cannot have been made up later. Sending the request is left to the
caller (the transport is not the core's business); this module makes the request and checks
what comes back, entirely offline:

- ``make_request(statement)``: a DER TimeStampReq with a SHA-256 imprint of the statement, a
  random 64-bit nonce and certReq set, so the token carries the TSA's certificate;
- ``check_response(response, request, tsa_cert_pem)``: the TimeStampResp must be granted, and
  its token must hold (below) for the request's imprint and nonce; returns the token's DER;
- ``verify_token(token, statement, tsa_cert_pem)``: the same checks later, for the statement,
  returning the TSA's genTime.

A token holds when it is a CMS SignedData over a TSTInfo with exactly one signer; the signed
attributes name the TSTInfo content type, their message digest equals the digest of the
TSTInfo bytes, and their ESS signing-certificate attribute names the signer's certificate; the
signature over the attributes holds under that certificate's key (RSA PKCS#1 v1.5 or ECDSA,
with SHA-256, -384 or -512); that certificate is the trusted one, or was issued by it
(a CA certificate); it is valid at genTime and its only, critical, extended key usage is
timeStamping (RFC 3161 section 2.3). Revocation is not checked: there is no network here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

NONCE_BITS = 64
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

_RSA_PKCS1 = frozenset({"rsassa_pkcs1v15", "sha256_rsa", "sha384_rsa", "sha512_rsa"})


class TimestampError(ValueError):
    """A timestamp response or token that is refused, malformed or does not hold."""


class _TimeStampResp(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped: its base class is Any
    """RFC 3161 TimeStampResp. asn1crypto's own makes the token mandatory, so a refusal (which
    has none) would not parse and its reason would be lost."""

    _fields = [("status", tsp.PKIStatusInfo), ("time_stamp_token", cms.ContentInfo, {"optional": True})]


def make_request(statement: bytes, *, nonce: int | None = None) -> bytes:
    """A DER TimeStampReq for ``statement``; the nonce is random unless given."""
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": _imprint(statement),
            "nonce": secrets.randbits(NONCE_BITS) if nonce is None else nonce,
            "cert_req": True,
        }
    )
    return bytes(request.dump())


def check_response(response_der: bytes, request_der: bytes, tsa_cert_pem: bytes) -> bytes:
    """The token in a TSA's answer to ``request_der``, once it holds; TimestampError otherwise."""
    request = _load(tsp.TimeStampReq, request_der, "request")
    response = _load(_TimeStampResp, response_der, "response")
    status = response["status"]
    if status["status"].native not in ("granted", "granted_with_mods"):
        texts = status["status_string"].native or []
        raise TimestampError(f"the TSA did not grant the timestamp: {status['status'].native} {texts}")
    token = response["time_stamp_token"]
    if not isinstance(token, cms.ContentInfo):
        raise TimestampError("a granted response without a token")
    token_der = bytes(token.dump())
    info = _verified_tst_info(token_der, tsa_cert_pem)
    if info["message_imprint"].dump() != request["message_imprint"].dump():
        raise TimestampError("the token is for another message imprint")
    if info["nonce"].native != request["nonce"].native:
        raise TimestampError("the token's nonce is not the request's")
    return token_der


def verify_token(token_der: bytes, statement: bytes, tsa_cert_pem: bytes) -> datetime:
    """When the trusted TSA saw ``statement`` (genTime, aware UTC); TimestampError otherwise."""
    info = _verified_tst_info(token_der, tsa_cert_pem)
    imprint = info["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if algorithm not in _HASHES:
        raise TimestampError(f"an imprint made with {algorithm} is not accepted")
    digest = hashlib.new(algorithm, statement).digest()
    if not hmac.compare_digest(bytes(imprint["hashed_message"].native), digest):
        raise TimestampError("the token is for another statement")
    return _gen_time(info)


def _imprint(statement: bytes) -> tsp.MessageImprint:
    return tsp.MessageImprint(
        {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": hashlib.sha256(statement).digest()}
    )


def _load(spec: Any, der: bytes, what: str) -> Any:
    try:
        value = spec.load(der, strict=True)
        value.native  # noqa: B018 - parses every field now, so malformed input fails here
    except (ValueError, TypeError, KeyError) as exc:
        raise TimestampError(f"the {what} is not valid DER") from exc
    return value


def _verified_tst_info(token_der: bytes, tsa_cert_pem: bytes) -> Any:
    """The TSTInfo of a token whose signature holds under the trusted TSA (module docstring)."""
    signed_data = _signed_data(_load(cms.ContentInfo, token_der, "token"))
    signer = _only_signer(signed_data)
    content = bytes(signed_data["encap_content_info"]["content"].contents)
    info = _load(tsp.TSTInfo, content, "TSTInfo")
    certificate = _signer_certificate(signed_data, signer, tsa_cert_pem)
    _check_usable_at(certificate, _gen_time(info))
    _check_signed_attributes(signer, content, certificate)
    _check_signature(signer, certificate)
    return info


def _signed_data(token: Any) -> Any:
    if token["content_type"].native != "signed_data":
        raise TimestampError("a token is a CMS SignedData")
    signed_data = token["content"]
    if signed_data["encap_content_info"]["content_type"].native != "tst_info":
        raise TimestampError("the token does not sign a TSTInfo")
    return signed_data


def _only_signer(signed_data: Any) -> Any:
    signers = signed_data["signer_infos"]
    if len(signers) != 1:
        raise TimestampError("a token has exactly one signer")
    return signers[0]


def _signer_certificate(signed_data: Any, signer: Any, tsa_cert_pem: bytes) -> x509.Certificate:
    """The certificate ``sid`` names (in the token, or the trusted one), checked against the anchor."""
    trusted = _load_pem(tsa_cert_pem)
    candidates = [c.chosen for c in signed_data["certificates"] or [] if c.name == "certificate"]
    candidates.append(_as_asn1(trusted))
    for candidate in candidates:
        if _names_certificate(signer["sid"], candidate):
            certificate = x509.load_der_x509_certificate(bytes(candidate.dump()))
            _check_anchored(certificate, trusted)
            return certificate
    raise TimestampError("the token's signer certificate is not in the token nor the trusted one")


def _load_pem(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise TimestampError("the trusted TSA certificate is not a PEM certificate") from exc


def _as_asn1(certificate: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def _names_certificate(sid: Any, certificate: Any) -> bool:
    if sid.name == "issuer_and_serial_number":
        wanted = sid.chosen
        return bool(
            certificate.issuer == wanted["issuer"] and certificate.serial_number == wanted["serial_number"].native
        )
    return bool(certificate.key_identifier == sid.chosen.native)


def _check_anchored(certificate: x509.Certificate, trusted: x509.Certificate) -> None:
    """The signer is the pinned TSA certificate itself, or directly issued by a trusted CA."""
    if certificate == trusted:
        return
    if not _is_ca(trusted):
        raise TimestampError("the token is signed by another TSA than the trusted one")
    try:
        certificate.verify_directly_issued_by(trusted)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise TimestampError("the token's TSA certificate was not issued by the trusted CA") from exc


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _check_signed_attributes(signer: Any, content: bytes, certificate: x509.Certificate) -> None:
    attributes = signer["signed_attrs"]
    if not attributes:
        raise TimestampError("a token's signer has signed attributes")
    if _one_attribute(attributes, "content_type").native != "tst_info":
        raise TimestampError("the signed content type is not TSTInfo")
    digest = _hash(signer["digest_algorithm"]["algorithm"].native, content)
    if not hmac.compare_digest(bytes(_one_attribute(attributes, "message_digest").native), digest):
        raise TimestampError("the signed message digest is not the TSTInfo's")
    _check_signing_certificate(attributes, certificate)


def _one_attribute(attributes: Any, name: str) -> Any:
    found = [a["values"] for a in attributes if a["type"].native == name]
    if len(found) != 1 or len(found[0]) != 1:
        raise TimestampError(f"a token's signer has exactly one {name} attribute")
    return found[0][0]


def _check_signing_certificate(attributes: Any, certificate: x509.Certificate) -> None:
    """RFC 2634 / RFC 5035: the signed attributes name the certificate, so it cannot be swapped."""
    names = {a["type"].native for a in attributes}
    der = certificate.public_bytes(Encoding.DER)
    if "signing_certificate_v2" in names:
        first = _first_cert_id(_one_attribute(attributes, "signing_certificate_v2"))
        expected = _hash(first["hash_algorithm"]["algorithm"].native, der)
    elif "signing_certificate" in names:
        first = _first_cert_id(_one_attribute(attributes, "signing_certificate"))
        expected = hashlib.sha1(der).digest()  # noqa: S324 - RFC 2634 ESSCertID names certificates by SHA-1
    else:
        raise TimestampError("a token names its signing certificate in its signed attributes")
    if not hmac.compare_digest(bytes(first["cert_hash"].native), expected):
        raise TimestampError("the signed attributes name another signing certificate")


def _first_cert_id(signing_certificate: Any) -> Any:
    """The first ESSCertID is the signer's (RFC 2634 section 5.4); the rest would be its chain."""
    if not len(signing_certificate["certs"]):
        raise TimestampError("the signing-certificate attribute names no certificate")
    return signing_certificate["certs"][0]


def _check_signature(signer: Any, certificate: x509.Certificate) -> None:
    # The signature covers the attributes DER-encoded as a SET, not with their [0] tag (RFC 5652 5.4).
    signed = b"\x31" + bytes(signer["signed_attrs"].dump())[1:]
    signature = bytes(signer["signature"].native)
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed, _rsa_padding(signer), _hash_algorithm(signer))
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed, ec.ECDSA(_hash_algorithm(signer)))
        else:
            raise TimestampError("the TSA's key is neither RSA nor ECDSA")
    except InvalidSignature as exc:
        raise TimestampError("the TSA's signature does not hold") from exc


def _rsa_padding(signer: Any) -> padding.AsymmetricPadding:
    # RSA-PSS TSAs are rare; refusing them keeps one RSA path, and one that is tested.
    if signer["signature_algorithm"]["algorithm"].native not in (
        "rsassa_pkcs1v15",
        "sha256_rsa",
        "sha384_rsa",
        "sha512_rsa",
    ):
        raise TimestampError("only RSA PKCS#1 v1.5 and ECDSA TSA signatures are accepted")
    return padding.PKCS1v15()


def _hash_algorithm(signer: Any) -> hashes.HashAlgorithm:
    return _named_hash(signer["digest_algorithm"]["algorithm"].native)


def _named_hash(name: str) -> hashes.HashAlgorithm:
    if name not in _HASHES:
        raise TimestampError(f"a token hashed with {name} is not accepted")
    return _HASHES[name]()


def _hash(name: str, data: bytes) -> bytes:
    _named_hash(name)
    return hashlib.new(name, data).digest()


def _gen_time(info: Any) -> datetime:
    moment = info["gen_time"].native
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise TimestampError("a token's genTime is a UTC time")
    return moment


def _check_usable_at(certificate: x509.Certificate, moment: datetime) -> None:
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        raise TimestampError("the TSA's certificate was not valid at the token's genTime")
    try:
        usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound as exc:
        raise TimestampError("the TSA's certificate is not for timestamping") from exc
    if not usage.critical or list(usage.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise TimestampError("the TSA's certificate is not for timestamping alone (critical)")
