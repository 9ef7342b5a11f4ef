"""Export packages: what a recipient (a journalist, a prosecutor, a UN or OSCE mechanism) receives
and can check offline with nothing but this module and the organisation's published key.

A package is a ZIP (redaction/README.md, "Export packages and their verification"):

    manifest.json   UTF-8 JSON, sorted keys: the items, their derivatives, consent and custody
                    proofs, and the SHA-256 of every other file in the ZIP
    manifest.sig    Ed25519 over context("sp.package-manifest.v1", SHA-256(manifest.json)),
                    128 lowercase hex digits and a newline
    items/<id>/...  the derivative of each item (redacted text, image with metadata stripped, PDF)
    events.json ... further files the manifest lists (events, a summary)

``build_package`` writes it byte for byte the same for the same input (fixed timestamps, sorted
entries, stored uncompressed, no extra fields); ``verify_package`` checks every part and reports
each check, so a recipient sees what holds, not only a yes or no.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sealbox.boxes import context
from sealbox.custody import CustodyEntry, CustodyEntryError, parse_entry, parse_utc_text, utc_text
from sealbox.proofbundle import BundleError, VerifiedEntry, verify_bundle
from sealbox.signing import SIGNATURE_BYTES, SigningKeyPair, sign, signature_valid
from sealbox.treehead import parse_base64

PACKAGE_FORMAT = "sp.evidence-package.v1"
MANIFEST_LABEL = "sp.package-manifest.v1"
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
ITEM_KINDS = frozenset({"text", "image", "pdf"})
DERIVATIVE_METHODS = frozenset({"redacted", "metadata-stripped"})
ORIGINAL_ACTIONS = frozenset({"received", "promoted"})
KEY_BYTES = 32
# 1980-01-01 is the earliest time a ZIP entry can carry: a fixed one keeps packages reproducible.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_UNIX = 3
_COMPONENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_MAX_DEPTH = 4
_HEX_KEY = re.compile(r"[0-9a-f]{64}")
_HEX_HASH = _HEX_KEY
_HEX_ID = re.compile(r"[0-9a-f]{32}")
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{128}\n?")
_MANIFEST_KEYS = frozenset(
    {
        "format",
        "organisation",
        "recipient",
        "created_at",
        "log_public_key",
        "signing_public_key",
        "files",
        "items",
        "events",
    }
)
_ITEM_KEYS = frozenset({"id", "kind", "original_sha256", "derivative", "consent", "custody"})
_DERIVATIVE_KEYS = frozenset({"path", "sha256", "method", "removed", "reviewed_by"})
_CONSENT_KEYS = frozenset({"id", "scope", "given_at", "revoked_at"})


class PackageError(ValueError):
    """Input that cannot make a package, or a manifest that is not one."""


# --- what goes in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    kind: str  # "journalist", "prosecutor", "un-mechanism", ...: free text the organisation chooses
    name: str


@dataclass(frozen=True)
class Derivative:
    """What the recipient gets instead of the original; ``file_name`` is its name in items/<id>/."""

    file_name: str
    data: bytes = field(repr=False)
    method: str
    removed: tuple[str, ...]
    reviewed_by: str


@dataclass(frozen=True)
class Consent:
    id: str
    scope: tuple[str, ...]
    given_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class PackageItem:
    """One item. ``custody`` holds proof bundles (``sealbox.proofbundle.make_bundle`` with
    ``leaf_data``) of its custody entries: at least its receipt and the derivative's making."""

    item_id: bytes
    kind: str
    original_sha256: bytes
    derivative: Derivative
    consent: Consent
    custody: tuple[Mapping[str, Any], ...]

    @property
    def derivative_path(self) -> str:
        return f"items/{self.item_id.hex()}/{self.derivative.file_name}"


def build_package(
    *,
    organisation: str,
    recipient: Recipient,
    created_at: datetime,
    log_public_key: bytes,
    items: Sequence[PackageItem],
    signing_seed: bytes,
    events: Mapping[str, bytes] | None = None,
    extra_files: Mapping[str, bytes] | None = None,
    tsa_cert_pem: bytes | None = None,
) -> bytes:
    """The package as ZIP bytes, signed with the organisation's signing seed. ``events`` are
    files listed under "events" (events.json, events.csv); ``extra_files`` others (summary.pdf);
    ``tsa_cert_pem`` the TSA certificate when the custody proofs are timestamped.
    The package is verified before it is returned: one that would not verify is never handed
    out (PackageError naming the failed checks)."""
    events, extra_files = dict(events or {}), dict(extra_files or {})
    signing_public_key = SigningKeyPair.from_seed(signing_seed).public_key
    _check_build_input(organisation, recipient, created_at, log_public_key, items, events, extra_files)
    files = {**events, **extra_files} | {item.derivative_path: item.derivative.data for item in items}
    manifest = {
        "format": PACKAGE_FORMAT,
        "organisation": organisation,
        "recipient": {"kind": recipient.kind, "name": recipient.name},
        "created_at": utc_text(created_at),
        "log_public_key": log_public_key.hex(),
        "signing_public_key": signing_public_key.hex(),
        "files": {path: sha256_hex(data) for path, data in files.items()},
        "items": [_item_json(item) for item in sorted(items, key=lambda item: item.item_id)],
        "events": sorted(events),
    }
    manifest_bytes = (json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    signature = sign(signing_seed, manifest_statement(manifest_bytes))
    package = _deterministic_zip(
        files | {MANIFEST_NAME: manifest_bytes, SIGNATURE_NAME: (signature.hex() + "\n").encode()}
    )
    report = verify_package(package, public_key=signing_public_key, tsa_cert_pem=tsa_cert_pem)
    if not report.ok:
        raise PackageError(
            "the package would not verify: " + "; ".join(f"{c.name}: {c.detail}" for c in report.failures)
        )
    return package


def manifest_statement(manifest_bytes: bytes) -> bytes:
    """What the organisation's signing key signs for a package."""
    return context(MANIFEST_LABEL, hashlib.sha256(manifest_bytes).digest())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key_fingerprint(public_key: bytes) -> str:
    """The key itself in 16 groups of 4 hex digits, for comparing by eye or reading aloud; what
    the organisation publishes, and what ``--public-key`` accepts (spaces allowed)."""
    text = public_key.hex()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_public_key(text: str) -> bytes:
    compact = "".join(text.split()).lower()
    if not _HEX_KEY.fullmatch(compact):
        raise PackageError("a public key is 64 hex digits (spaces allowed)")
    return bytes.fromhex(compact)


def _check_build_input(
    organisation: str,
    recipient: Recipient,
    created_at: datetime,
    log_public_key: bytes,
    items: Sequence[PackageItem],
    events: Mapping[str, bytes],
    extra_files: Mapping[str, bytes],
) -> None:
    if not organisation or not recipient.kind or not recipient.name:
        raise PackageError("a package names its organisation and its recipient's kind and name")
    if created_at.tzinfo is None or len(log_public_key) != KEY_BYTES:
        raise PackageError("a package's time is aware and its log key is 32 bytes")
    if set(events) & set(extra_files):
        raise PackageError("a file is either an events file or another file, not both")
    for path in [*events, *extra_files]:
        _check_top_path(path)
    if len({item.item_id for item in items}) != len(items):
        raise PackageError("each item goes into a package once")
    for item in items:
        _check_item_input(item, created_at)


def _check_item_input(item: PackageItem, created_at: datetime) -> None:
    if len(item.item_id) != 16 or len(item.original_sha256) != 32:
        raise PackageError("an item id is 16 bytes and an original's SHA-256 32")
    if item.kind not in ITEM_KINDS or item.derivative.method not in DERIVATIVE_METHODS:
        raise PackageError(f"an item is one of {sorted(ITEM_KINDS)}, made one of {sorted(DERIVATIVE_METHODS)}")
    if not _COMPONENT.fullmatch(item.derivative.file_name) or not item.derivative.reviewed_by:
        raise PackageError(f"a derivative has a plain file name and a reviewer: {item.derivative.file_name!r}")
    problem = _consent_problem(item.consent.given_at, item.consent.revoked_at, created_at)
    if problem:
        raise PackageError(f"item {item.item_id.hex()}: {problem}")
    entries = [_bundle_entry(bundle) for bundle in item.custody]
    for problem in _custody_problems(entries, item.item_id, item.original_sha256, sha256_hex(item.derivative.data)):
        raise PackageError(f"item {item.item_id.hex()}: {problem}")


def _check_top_path(path: str) -> None:
    if not safe_path(path) or path.startswith("items/") or path in (MANIFEST_NAME, SIGNATURE_NAME):
        raise PackageError(f"not a name for a further file of a package: {path!r}")


def safe_path(name: str) -> bool:
    """A relative name of plain components (letters, digits, '.', '_', '-', never leading '.'),
    so extracting the ZIP anywhere writes only below the folder it is extracted into."""
    parts = name.split("/")
    return len(parts) <= _MAX_DEPTH and all(_COMPONENT.fullmatch(part) for part in parts)


def _item_json(item: PackageItem) -> dict[str, Any]:
    consent = item.consent
    return {
        "id": item.item_id.hex(),
        "kind": item.kind,
        "original_sha256": item.original_sha256.hex(),
        "derivative": {
            "path": item.derivative_path,
            "sha256": sha256_hex(item.derivative.data),
            "method": item.derivative.method,
            "removed": list(item.derivative.removed),
            "reviewed_by": item.derivative.reviewed_by,
        },
        "consent": {
            "id": consent.id,
            "scope": list(consent.scope),
            "given_at": utc_text(consent.given_at),
            "revoked_at": None if consent.revoked_at is None else utc_text(consent.revoked_at),
        },
        # Through JSON and back: what goes in the manifest is exactly what a reader will parse.
        "custody": [json.loads(json.dumps(bundle)) for bundle in item.custody],
    }


def _deterministic_zip(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.create_system = _UNIX
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, files[name])
    return buffer.getvalue()


# --- shared by building and checking ----------------------------------------------------------


def _bundle_entry(bundle: object) -> CustodyEntry:
    """The custody entry a bundle carries; PackageError when it carries none or not a valid one."""
    if not isinstance(bundle, Mapping) or "leaf_data" not in bundle:
        raise PackageError("a custody proof in a package carries its entry (leaf_data)")
    try:
        return parse_entry(parse_base64(bundle["leaf_data"], CustodyEntryError))
    except CustodyEntryError as exc:
        raise PackageError(f"a custody proof's entry is not a custody entry: {exc}") from exc


def _custody_problems(
    entries: Sequence[CustodyEntry], item_id: bytes, original_sha256: bytes, derivative_sha256: str
) -> Iterator[str]:
    others = [entry for entry in entries if entry.item_id != item_id]
    if others:
        yield f"{len(others)} custody entr{'y' if len(others) == 1 else 'ies'} of another item"
    own = [entry for entry in entries if entry.item_id == item_id]
    if not any(e.action in ORIGINAL_ACTIONS and e.subject == original_sha256 for e in own):
        yield "no custody entry records the original's receipt (received or promoted, with its SHA-256)"
    if not any(e.action == "derivative" and e.subject.hex() == derivative_sha256 for e in own):
        yield "no custody entry records the making of this derivative (derivative, with its SHA-256)"


def _consent_problem(given_at: datetime, revoked_at: datetime | None, created_at: datetime) -> str:
    if given_at > created_at:
        return "consent was given after the package was made"
    if revoked_at is not None and revoked_at <= created_at:
        return "consent was revoked before the package was made"
    return ""


# --- checking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZipLimits:
    """Bounds against ZIP bombs: a package is evidence for a person, not a disk image."""

    max_archive_bytes: int = 2 * 1024**3
    max_entries: int = 10_000
    max_file_bytes: int = 1024**3
    max_total_bytes: int = 2 * 1024**3
    max_ratio: int = 100  # uncompressed / compressed, for entries over 1 MiB


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class PackageReport:
    """Every check made, in order; the package holds when there is at least one and all hold."""

    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    signing_public_key: bytes | None = None
    organisation: str = ""
    recipient: str = ""
    created_at: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def render(self) -> str:
        lines = [f"Evidence package ({PACKAGE_FORMAT})"]
        if self.organisation:
            lines += [
                f"  from:    {self.organisation}",
                f"  for:     {self.recipient}",
                f"  made at: {self.created_at}",
            ]
        if self.signing_public_key is not None:
            lines.append(f"  signing key fingerprint: {key_fingerprint(self.signing_public_key)}")
        lines.append("")
        for check in self.checks:
            mark = "ok    " if check.ok else "FAILED"
            lines.append(f"[{mark}] {check.name}" + (f": {check.detail}" if check.detail else ""))
        lines += ["", *(f"WARNING: {warning}" for warning in self.warnings)] if self.warnings else []
        failed = len(self.failures)
        verdict = f"all {len(self.checks)} checks hold" if self.ok else f"{failed} of {len(self.checks)} checks FAILED"
        lines += ["", f"Result: {verdict}" if self.checks else "Result: nothing could be checked"]
        return "\n".join(lines)


def verify_package(
    zip_bytes: bytes,
    *,
    public_key: bytes | None = None,
    tsa_cert_pem: bytes | None = None,
    limits: ZipLimits | None = None,
) -> PackageReport:
    """Check a package offline. ``public_key`` is the organisation's published signing key; without
    it the manifest's own key is used, which proves integrity but not who signed. ``tsa_cert_pem``
    is the TSA certificate to trust for timestamped custody proofs."""
    report = PackageReport()
    files = _read_zip(zip_bytes, limits or ZipLimits(), report)
    if files is None:
        return report
    raw = _decode_manifest(files, report)
    if raw is None:
        return report
    _check_signature(files, raw, public_key, report)
    manifest = _parsed_manifest(raw, report)
    if manifest is None:
        return report
    report.organisation, report.created_at = manifest.organisation, manifest.created_at_text
    report.recipient = f"{manifest.recipient_name} ({manifest.recipient_kind})"
    _check_files(files, manifest, report)
    heads = [head for item in manifest.items for head in _check_item(item, files, manifest, tsa_cert_pem, report)]
    _check_one_log(heads, report)
    return report


def _read_zip(zip_bytes: bytes, limits: ZipLimits, report: PackageReport) -> dict[str, bytes] | None:
    name = "the ZIP archive is sane (no duplicate, absolute or climbing names, sizes within bounds)"
    if len(zip_bytes) > limits.max_archive_bytes:
        report.add(name, False, f"the archive is larger than {limits.max_archive_bytes} bytes")
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            infos = archive.infolist()
            problem = _zip_problem(infos, limits)
            files = {} if problem else {info.filename: _read_member(archive, info) for info in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, EOFError, OSError) as exc:
        problem = f"not a readable ZIP archive ({exc})"
    if problem:
        report.add(name, False, problem)
        return None
    report.add(name, True, f"{len(files)} files")
    return files


def _zip_problem(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> str:
    if len(infos) > limits.max_entries:
        return f"more than {limits.max_entries} entries"
    names = [info.filename for info in infos]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        return f"names more than once in the archive: {', '.join(map(repr, duplicates))}"
    for info in infos:
        if problem := _member_problem(info, limits):
            return f"{info.filename!r}: {problem}"
    if sum(info.file_size for info in infos) > limits.max_total_bytes:
        return f"more than {limits.max_total_bytes} bytes once extracted"
    return ""


def _member_problem(info: zipfile.ZipInfo, limits: ZipLimits) -> str:
    if not safe_path(info.filename):
        return "not a plain relative name (absolute, '..', backslash, hidden or unusual characters)"
    # Many ZIP writers leave the file type bits at zero; only a type other than a regular file
    # (a link, which an extractor would follow, or a device) is refused.
    kind = stat.S_IFMT(info.external_attr >> 16)
    if info.create_system == _UNIX and kind and kind != stat.S_IFREG:
        return "not a regular file (a link or a device)"
    if info.flag_bits & 0x1:
        return "encrypted"
    if info.file_size > limits.max_file_bytes:
        return f"larger than {limits.max_file_bytes} bytes"
    if info.file_size > 1024**2 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        return f"compressed more than {limits.max_ratio} to 1 (a ZIP bomb?)"
    return ""


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    # zipfile stops at the declared size and checks the CRC; reading one byte more makes sure a
    # member that inflates past its declared size is noticed rather than trusted.
    with archive.open(info) as member:
        data = member.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise zipfile.BadZipFile(f"{info.filename!r} is not the size it declares")
    return data


def _decode_manifest(files: Mapping[str, bytes], report: PackageReport) -> bytes | None:
    name = "manifest.json and manifest.sig are present"
    missing = [path for path in (MANIFEST_NAME, SIGNATURE_NAME) if path not in files]
    report.add(name, not missing, f"missing: {', '.join(missing)}" if missing else "")
    return None if missing else files[MANIFEST_NAME]


def _check_signature(files: Mapping[str, bytes], raw: bytes, public_key: bytes | None, report: PackageReport) -> None:
    name = "the manifest's signature holds"
    named = _named_signing_key(raw)
    key = public_key if public_key is not None else named
    report.signing_public_key = key
    signature = _signature(files[SIGNATURE_NAME])
    if key is None:
        report.add(name, False, "no key to check it with: give --public-key, the manifest names none")
    elif signature is None:
        report.add(name, False, "manifest.sig is not 128 lowercase hex digits")
    elif not signature_valid(key, manifest_statement(raw), signature):
        report.add(name, False, "manifest.json was changed after signing, or another key signed it")
    elif public_key is not None and named != public_key:
        report.add(name, False, "the given key signed it, but the manifest names another signing key")
    else:
        whose = "the key given" if public_key is not None else "the key the manifest names itself"
        report.add(name, True, f"under {whose}")
    if public_key is None:
        report.warnings.append(
            "No public key was given, so the signature was checked against the key the package names "
            "itself. That proves the package was not changed after it was signed, not who signed it: "
            "compare the signing key fingerprint above with the one the organisation publishes, or "
            "run again with --public-key."
        )


def _named_signing_key(raw: bytes) -> bytes | None:
    try:
        value = _load_json(raw).get("signing_public_key")
    except (PackageError, AttributeError):
        return None
    return bytes.fromhex(value) if isinstance(value, str) and _HEX_KEY.fullmatch(value) else None


def _signature(raw: bytes) -> bytes | None:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not _HEX_SIGNATURE.fullmatch(text):
        return None
    signature = bytes.fromhex(text.rstrip("\n"))
    return signature if len(signature) == SIGNATURE_BYTES else None


# --- the manifest, parsed strictly ------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    id: str
    original_sha256: str
    derivative_path: str
    derivative_sha256: str
    consent_given_at: datetime
    consent_revoked_at: datetime | None
    custody: list[Any]


@dataclass(frozen=True)
class _Manifest:
    organisation: str
    recipient_kind: str
    recipient_name: str
    created_at: datetime
    created_at_text: str
    log_public_key: bytes
    files: dict[str, str]
    items: list[_Item]


def _parsed_manifest(raw: bytes, report: PackageReport) -> _Manifest | None:
    name = f"manifest.json is a well-formed {PACKAGE_FORMAT} manifest"
    try:
        manifest = _manifest(_load_json(raw))
    except PackageError as exc:
        report.add(name, False, str(exc))
        return None
    report.add(name, True, f"{len(manifest.items)} items, {len(manifest.files)} files")
    return manifest


def _load_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PackageError(f"not UTF-8 JSON ({exc})") from exc


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two parsers may keep different copies of a repeated key; a signed manifest has one reading.
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise PackageError("a key appears twice in one object")
    return dict(pairs)


def _no_constant(name: str) -> None:
    raise PackageError(f"{name} is not JSON")


def _manifest(data: Any) -> _Manifest:
    _object(data, _MANIFEST_KEYS, "the manifest")
    if data["format"] != PACKAGE_FORMAT:
        raise PackageError(f"format is {data['format']!r}, not {PACKAGE_FORMAT!r}")
    recipient = _object(data["recipient"], {"kind", "name"}, "recipient")
    files = _object(data["files"], None, "files")
    for path, digest in files.items():
        if not safe_path(path) or path in (MANIFEST_NAME, SIGNATURE_NAME):
            raise PackageError(f"files lists a name a package cannot hold: {path!r}")
        _hex(digest, _HEX_HASH, f"the SHA-256 of {path}")
    events = _list(data["events"], "events")
    if not all(isinstance(path, str) and path in files for path in events):
        raise PackageError("every events file is one of the files listed")
    created_at = _time(data["created_at"], "created_at")
    items = [_item(value) for value in _list(data["items"], "items")]
    if len({item.id for item in items}) != len(items):
        raise PackageError("an item appears twice")
    return _Manifest(
        organisation=_text(data["organisation"], "organisation"),
        recipient_kind=_text(recipient["kind"], "recipient kind"),
        recipient_name=_text(recipient["name"], "recipient name"),
        created_at=created_at,
        created_at_text=data["created_at"],
        log_public_key=bytes.fromhex(_hex(data["log_public_key"], _HEX_KEY, "log_public_key")),
        files=files,
        items=items,
    )


def _item(data: Any) -> _Item:
    _object(data, _ITEM_KEYS, "an item")
    item_id = _hex(data["id"], _HEX_ID, "an item id")
    if data["kind"] not in ITEM_KINDS:
        raise PackageError(f"item {item_id}: kind is one of {sorted(ITEM_KINDS)}")
    derivative = _object(data["derivative"], _DERIVATIVE_KEYS, f"item {item_id}'s derivative")
    if derivative["method"] not in DERIVATIVE_METHODS:
        raise PackageError(f"item {item_id}: a derivative's method is one of {sorted(DERIVATIVE_METHODS)}")
    if not all(isinstance(value, str) for value in _list(derivative["removed"], "removed")):
        raise PackageError(f"item {item_id}: removed is a list of text")
    _text(derivative["reviewed_by"], "reviewed_by")
    consent = _object(data["consent"], _CONSENT_KEYS, f"item {item_id}'s consent")
    _text(consent["id"], "a consent id")
    if not all(isinstance(value, str) for value in _list(consent["scope"], "scope")):
        raise PackageError(f"item {item_id}: a consent's scope is a list of text")
    revoked = consent["revoked_at"]
    return _Item(
        id=item_id,
        original_sha256=_hex(data["original_sha256"], _HEX_HASH, "original_sha256"),
        derivative_path=_text(derivative["path"], "a derivative's path"),
        derivative_sha256=_hex(derivative["sha256"], _HEX_HASH, "a derivative's sha256"),
        consent_given_at=_time(consent["given_at"], "given_at"),
        consent_revoked_at=None if revoked is None else _time(revoked, "revoked_at"),
        custody=_list(data["custody"], "custody"),
    )


def _object(value: Any, keys: frozenset[str] | set[str] | None, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PackageError(f"{what} is a JSON object")
    if keys is not None and set(value) != keys:
        raise PackageError(f"{what} has exactly the fields {', '.join(sorted(keys))}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise PackageError(f"{what} is a JSON list")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise PackageError(f"{what} is non-empty text")
    return value


def _hex(value: Any, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise PackageError(f"{what} is lowercase hex of the right length")
    return value


def _time(value: Any, what: str) -> datetime:
    try:
        return parse_utc_text(value, PackageError)
    except PackageError as exc:
        raise PackageError(f"{what}: {exc}") from exc


# --- the checks on a parsed manifest ----------------------------------------------------------


def _check_files(files: Mapping[str, bytes], manifest: _Manifest, report: PackageReport) -> None:
    for path, digest in sorted(manifest.files.items()):
        if path not in files:
            report.add(f"{path}: listed and present", False, "missing from the archive")
        else:
            actual = sha256_hex(files[path])
            report.add(f"{path}: SHA-256 as listed", actual == digest, "" if actual == digest else f"is {actual}")
    unlisted = sorted(set(files) - set(manifest.files) - {MANIFEST_NAME, SIGNATURE_NAME})
    report.add("no file in the archive that the manifest does not list", not unlisted, ", ".join(unlisted))


def _check_item(
    item: _Item, files: Mapping[str, bytes], manifest: _Manifest, tsa_cert_pem: bytes | None, report: PackageReport
) -> list[VerifiedEntry]:
    label = f"item {item.id}"
    report.add(f"{label}: derivative present, hash as stated", *_derivative_state(item, files, manifest))
    problem = _consent_problem(item.consent_given_at, item.consent_revoked_at, manifest.created_at)
    report.add(f"{label}: consent in force when the package was made", not problem, problem)
    verified, entries = [], []
    for number, bundle in enumerate(item.custody, start=1):
        name = f"{label}: custody proof {number} of {len(item.custody)}"
        outcome = _check_bundle(bundle, manifest.log_public_key, tsa_cert_pem)
        if isinstance(outcome, str):
            report.add(name, False, outcome)
            continue
        entry, proof = outcome
        report.add(name, True, _describe(entry, proof))
        verified.append(proof)
        entries.append(entry)
    if not item.custody:
        report.add(f"{label}: custody proofs", False, "the item carries none")
    problems = list(
        _custody_problems(entries, bytes.fromhex(item.id), bytes.fromhex(item.original_sha256), item.derivative_sha256)
    )
    report.add(f"{label}: custody shows this item's receipt and derivative", not problems, "; ".join(problems))
    return verified


def _derivative_state(item: _Item, files: Mapping[str, bytes], manifest: _Manifest) -> tuple[bool, str]:
    if not item.derivative_path.startswith(f"items/{item.id}/"):
        return False, f"{item.derivative_path!r} is not under items/{item.id}/"
    if item.derivative_path not in files:
        return False, f"{item.derivative_path} is missing"
    if manifest.files.get(item.derivative_path) != item.derivative_sha256:
        return False, f"files lists another hash for {item.derivative_path}"
    actual = sha256_hex(files[item.derivative_path])
    if actual != item.derivative_sha256:
        return False, f"{item.derivative_path} has SHA-256 {actual}"
    return True, item.derivative_path


def _check_bundle(
    bundle: Any, log_public_key: bytes, tsa_cert_pem: bytes | None
) -> tuple[CustodyEntry, VerifiedEntry] | str:
    try:
        entry = _bundle_entry(bundle)
        return entry, verify_bundle(bundle, log_public_key, tsa_cert_pem=tsa_cert_pem)
    except (PackageError, BundleError) as exc:
        return str(exc)


def _describe(entry: CustodyEntry, proof: VerifiedEntry) -> str:
    head = proof.tree_head
    when = "not timestamped" if proof.timestamped_at is None else f"timestamped {utc_text(proof.timestamped_at)}"
    actor = f" by {entry.actor}" if entry.actor else ""
    return (
        f"'{entry.action}'{actor} at {utc_text(entry.at)}, index {proof.index} of log {head.log_id!r}"
        f" under its head of {head.tree_size} entries signed {utc_text(head.timestamp)} ({when})"
    )


def _check_one_log(heads: list[VerifiedEntry], report: PackageReport) -> None:
    name = "every custody proof leads to a head of one and the same log"
    log_ids = sorted({proof.tree_head.log_id for proof in heads})
    roots: dict[int, set[bytes]] = {}
    for proof in heads:
        roots.setdefault(proof.tree_head.tree_size, set()).add(proof.tree_head.root_hash)
    forked = sorted(size for size, found in roots.items() if len(found) > 1)
    if not heads:
        report.add(name, False, "no custody proof holds")
    elif len(log_ids) > 1:
        report.add(name, False, f"proofs lead to several logs: {', '.join(map(repr, log_ids))}")
    elif forked:
        # Two signed heads of one size with different roots prove the log was rewritten.
        report.add(name, False, f"two different roots signed for size {forked[0]}: the log was rewritten")
    else:
        report.add(name, True, f"log {log_ids[0]!r}")
