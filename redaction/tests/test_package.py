"""Export packages over a real custody log (sealbox.merkle, signed heads, real Ed25519 keys): an
honest package verifies, by function and by ``python -m redaction verify``; each altered part is
caught by the check that names it."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from redaction.__main__ import main
from redaction.package import (
    Consent,
    Derivative,
    PackageError,
    PackageItem,
    PackageReport,
    Recipient,
    ZipLimits,
    build_package,
    key_fingerprint,
    manifest_statement,
    verify_package,
)
from sealbox import SigningKeyPair, merkle
from sealbox.custody import CustodyEntry, new_entry
from sealbox.proofbundle import make_bundle
from sealbox.signing import sign
from sealbox.tests.local_tsa import make_local_tsa, needs_openssl
from sealbox.timestamp import check_response, make_request
from sealbox.treehead import SignedTreeHead, sign_tree_head

ROOT = Path(__file__).resolve().parents[2]
ORG_KEY = SigningKeyPair.generate()  # signs packages
LOG_KEY = SigningKeyPair.generate()  # signs the custody log's heads
STRANGER = SigningKeyPair.generate()
MADE = datetime(2017, 5, 2, 9, 0, 0, 0, tzinfo=UTC)
LOG_ID = "safe-passage/custody"

TESTIMONY = b"He was held at the base on Kadyrova street for nine days."
REDACTED = b"He was held at [PLACE] for nine days."
PHOTO = b"\xff\xd8\xff\xe1 photo with GPS and camera serial \xff\xd9"
STRIPPED = b"\xff\xd8\xff\xd9 photo without metadata"
TESTIMONY_ID = bytes.fromhex("7f3a0c1e5b2d4a6f8e9d0c1b2a3f4e5d")
PHOTO_ID = bytes.fromhex("0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e")


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@dataclass
class Log:
    """The organisation's one custody log: entries of every item, in order, and a head over them."""

    entries: list[CustodyEntry]
    log_id: str = LOG_ID
    key: SigningKeyPair = LOG_KEY

    def append(self, item_id: bytes, action: str, subject: bytes = b"", actor: str = "cw12") -> int:
        at = MADE - timedelta(days=30) + timedelta(minutes=len(self.entries))
        self.entries.append(new_entry(item_id, action, actor=actor, subject=subject, at=at))
        return len(self.entries) - 1

    @property
    def hashes(self) -> list[bytes]:
        return [entry.leaf_hash for entry in self.entries]

    def head(self, size: int | None = None) -> SignedTreeHead:
        size = len(self.entries) if size is None else size
        root = merkle.root(self.hashes[:size])
        return sign_tree_head(self.key.seed, log_id=self.log_id, tree_size=size, root_hash=root, timestamp=MADE)

    def bundle(self, index: int, head: SignedTreeHead | None = None, token: bytes | None = None) -> dict[str, Any]:
        head = head or self.head()
        data = self.entries[index].to_bytes()
        return make_bundle(self.hashes, index, head, leaf_data=data, timestamp_token=token)


@dataclass
class World:
    log: Log
    marks: dict[str, int]


def the_log() -> World:
    log = Log([])
    marks = {
        "testimony received": log.append(TESTIMONY_ID, "received", sha(TESTIMONY), actor=""),
        "photo received": log.append(PHOTO_ID, "received", sha(PHOTO), actor=""),
        "testimony viewed": log.append(TESTIMONY_ID, "viewed"),
        "testimony consent": log.append(TESTIMONY_ID, "consent"),
        "testimony derivative": log.append(TESTIMONY_ID, "derivative", sha(REDACTED)),
        "photo derivative": log.append(PHOTO_ID, "derivative", sha(STRIPPED), actor="an3"),
        "testimony other derivative": log.append(TESTIMONY_ID, "derivative", sha(b"an earlier draft")),
    }
    return World(log, marks)


WORLD = the_log()


def consent() -> Consent:
    return Consent("consent-0042", ("journalist", "prosecutor"), MADE - timedelta(days=10))


def the_testimony(custody: tuple[dict[str, Any], ...] | None = None) -> PackageItem:
    marks, log = WORLD.marks, WORLD.log
    default = tuple(log.bundle(marks[m]) for m in ("testimony received", "testimony consent", "testimony derivative"))
    return PackageItem(
        item_id=TESTIMONY_ID,
        kind="text",
        original_sha256=sha(TESTIMONY),
        derivative=Derivative("testimony.txt", REDACTED, "redacted", ("place of detention",), "an3"),
        consent=consent(),
        custody=default if custody is None else custody,
    )


def the_photo() -> PackageItem:
    marks, log = WORLD.marks, WORLD.log
    return PackageItem(
        item_id=PHOTO_ID,
        kind="image",
        original_sha256=sha(PHOTO),
        derivative=Derivative("photo.jpg", STRIPPED, "metadata-stripped", ("EXIF", "GPS"), "an3"),
        consent=consent(),
        custody=(log.bundle(marks["photo received"]), log.bundle(marks["photo derivative"])),
    )


def package(items: list[PackageItem] | None = None, **overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "organisation": "Safe Passage",
        "recipient": Recipient("journalist", "Novaya Gazeta"),
        "created_at": MADE,
        "log_public_key": LOG_KEY.public_key,
        "items": [the_testimony(), the_photo()] if items is None else items,
        "signing_seed": ORG_KEY.seed,
        "events": {"events.json": b'[{"event": "detention"}]\n', "events.csv": b"event\ndetention\n"},
        "extra_files": {"summary.pdf": b"%PDF-1.7 summary"},
    }
    return build_package(**(arguments | overrides))


HONEST = package()


def members(zip_bytes: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def rezip(files: list[tuple[str, bytes]], *, compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in files:
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=compression)
    return buffer.getvalue()


def changed(zip_bytes: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    return rezip([(n, change(d) if n == name else d) for n, d in members(zip_bytes)])


def resigned(zip_bytes: bytes, change: Callable[[dict[str, Any]], None], key: SigningKeyPair = ORG_KEY) -> bytes:
    """The package with its manifest changed and signed again: what only a signing key holder can
    make, to show the checks that do not rest on the signature."""
    files = dict(members(zip_bytes))
    manifest = json.loads(files["manifest.json"])
    change(manifest)
    raw = json.dumps(manifest, sort_keys=True, indent=2).encode()
    files["manifest.json"] = raw
    files["manifest.sig"] = sign(key.seed, manifest_statement(raw)).hex().encode() + b"\n"
    return rezip(sorted(files.items()))


def verified(zip_bytes: bytes, **kwargs: Any) -> PackageReport:
    return verify_package(zip_bytes, **({"public_key": ORG_KEY.public_key} | kwargs))


def failed(report: PackageReport) -> list[str]:
    return [f"{check.name}: {check.detail}" for check in report.failures]


def only_failure(report: PackageReport, *fragments: str) -> None:
    """Exactly one check failed, and its name and detail mention every fragment."""
    failures = failed(report)
    assert len(failures) == 1, failures
    assert all(fragment in failures[0] for fragment in fragments), failures


# --- the honest package ----------------------------------------------------------------------


def test_an_honest_package_verifies_every_check() -> None:
    report = verified(HONEST)
    assert report.ok, failed(report)
    names = [check.name for check in report.checks]
    assert names[0].startswith("the ZIP archive is sane")
    assert "the manifest's signature holds" in names
    assert f"items/{TESTIMONY_ID.hex()}/testimony.txt: SHA-256 as listed" in names
    assert "no file in the archive that the manifest does not list" in names
    assert sum(name.startswith(f"item {TESTIMONY_ID.hex()}: custody proof") for name in names) == 3
    assert f"item {PHOTO_ID.hex()}: custody shows this item's receipt and derivative" in names
    assert names[-1] == "every custody proof leads to a head of one and the same log"
    assert report.warnings == []
    assert report.signing_public_key == ORG_KEY.public_key


def test_the_manifest_lists_every_other_file_with_its_hash() -> None:
    files = dict(members(HONEST))
    manifest = json.loads(files["manifest.json"])
    assert set(manifest["files"]) == set(files) - {"manifest.json", "manifest.sig"}
    assert all(hashlib.sha256(files[path]).hexdigest() == digest for path, digest in manifest["files"].items())
    assert manifest["events"] == ["events.csv", "events.json"]
    assert [item["id"] for item in manifest["items"]] == sorted([TESTIMONY_ID.hex(), PHOTO_ID.hex()])
    testimony = next(item for item in manifest["items"] if item["id"] == TESTIMONY_ID.hex())
    assert testimony["derivative"] == {
        "path": f"items/{TESTIMONY_ID.hex()}/testimony.txt",
        "sha256": hashlib.sha256(REDACTED).hexdigest(),
        "method": "redacted",
        "removed": ["place of detention"],
        "reviewed_by": "an3",
    }
    assert testimony["consent"]["revoked_at"] is None
    assert testimony["consent"]["given_at"] == "2017-04-22T09:00:00.000000+00:00"
    assert manifest["signing_public_key"] == ORG_KEY.public_key.hex()
    assert manifest["log_public_key"] == LOG_KEY.public_key.hex()
    assert (
        files["manifest.json"] == (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
    )


def test_the_signature_file_is_hex_of_ed25519_over_the_manifest_statement() -> None:
    files = dict(members(HONEST))
    signature = bytes.fromhex(files["manifest.sig"].decode("ascii").strip())
    assert files["manifest.sig"].endswith(b"\n")
    statement = (
        b"\x00\x00\x00\x16sp.package-manifest.v1\x00\x00\x00\x20" + hashlib.sha256(files["manifest.json"]).digest()
    )
    assert manifest_statement(files["manifest.json"]) == statement
    assert sign(ORG_KEY.seed, statement) == signature


def test_the_same_input_gives_the_same_bytes_and_a_plain_zip() -> None:
    assert package() == HONEST
    with zipfile.ZipFile(io.BytesIO(HONEST)) as archive:
        infos = archive.infolist()
        assert [info.filename for info in infos] == sorted(info.filename for info in infos)
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in infos)
        assert all(info.extra == b"" and info.comment == b"" for info in infos)
        assert all(stat.S_IMODE(info.external_attr >> 16) == 0o644 for info in infos)
        assert all(not info.filename.startswith("/") and ".." not in info.filename for info in infos)
        assert archive.comment == b""


def test_without_a_key_the_package_verifies_with_a_warning_that_it_proves_integrity_only() -> None:
    report = verify_package(HONEST)
    assert report.ok
    assert len(report.warnings) == 1
    assert "not who signed it" in report.warnings[0]
    assert "fingerprint" in report.warnings[0]
    assert key_fingerprint(ORG_KEY.public_key) in report.render()


def test_the_report_reads_as_text_with_each_check_and_the_fingerprint() -> None:
    text = verified(HONEST).render()
    assert "from:    Safe Passage" in text
    assert "for:     Novaya Gazeta (journalist)" in text
    assert f"signing key fingerprint: {key_fingerprint(ORG_KEY.public_key)}" in text
    assert (
        "'received' at 2017-04-02T09:00:00.000000+00:00, index 0 of log 'safe-passage/custody' under its head"
        " of 7 entries signed 2017-05-02T09:00:00.000000+00:00 (not timestamped)"
    ) in text
    assert "[FAILED]" not in text
    assert text.endswith(f"Result: all {len(verified(HONEST).checks)} checks hold")


def test_the_fingerprint_is_the_key_in_groups_of_four() -> None:
    fingerprint = key_fingerprint(bytes(range(32)))
    assert fingerprint.split(" ") == [bytes(range(32)).hex()[i : i + 4] for i in range(0, 64, 4)]


# --- tampering with the files ----------------------------------------------------------------


def test_a_changed_byte_of_a_derivative_is_caught_by_its_hash_and_the_item() -> None:
    path = f"items/{TESTIMONY_ID.hex()}/testimony.txt"
    report = verified(changed(HONEST, path, lambda data: data.replace(b"[PLACE]", b"Kadyrova")))
    assert sorted(check.name for check in report.failures) == [
        f"item {TESTIMONY_ID.hex()}: derivative present, hash as stated",
        f"{path}: SHA-256 as listed",
    ]


def test_a_changed_manifest_field_breaks_the_signature() -> None:
    altered = changed(HONEST, "manifest.json", lambda data: data.replace(b'"Novaya Gazeta"', b'"Kommersant"'))
    only_failure(verified(altered), "signature", "changed after signing")
    only_failure(verify_package(altered), "signature", "changed after signing")


def test_a_manifest_signed_again_by_another_key_fails_under_the_published_key() -> None:
    altered = resigned(HONEST, lambda m: m.update(signing_public_key=STRANGER.public_key.hex()), key=STRANGER)
    only_failure(verified(altered), "signature", "another key signed it")
    # Without the published key it holds as to integrity; the fingerprint shown is the stranger's.
    report = verify_package(altered)
    assert report.ok
    assert report.warnings
    assert key_fingerprint(STRANGER.public_key) in report.render()


def test_a_manifest_naming_another_key_than_the_signer_is_refused() -> None:
    altered = resigned(HONEST, lambda m: m.update(signing_public_key=STRANGER.public_key.hex()))
    only_failure(verified(altered), "signature", "names another signing key")


def test_a_changed_or_malformed_signature_is_refused() -> None:
    flip = changed(HONEST, "manifest.sig", lambda s: (b"1" if s[:1] == b"0" else b"0") + s[1:])
    only_failure(verified(flip), "signature", "changed after signing")
    raw = changed(HONEST, "manifest.sig", lambda s: bytes.fromhex(s.decode().strip()))
    only_failure(verified(raw), "signature", "128 lowercase hex")
    upper = changed(HONEST, "manifest.sig", lambda s: s.upper())
    only_failure(verified(upper), "signature", "128 lowercase hex")


def test_an_extra_file_is_refused() -> None:
    report = verified(rezip([*members(HONEST), ("items/notes.txt", b"the real name")]))
    only_failure(report, "no file in the archive that the manifest does not list", "items/notes.txt")


def test_a_removed_file_is_refused() -> None:
    report = verified(rezip([(n, d) for n, d in members(HONEST) if n != "summary.pdf"]))
    only_failure(report, "summary.pdf: listed and present", "missing")


def test_a_removed_derivative_fails_the_file_and_the_item() -> None:
    path = f"items/{PHOTO_ID.hex()}/photo.jpg"
    report = verified(rezip([(n, d) for n, d in members(HONEST) if n != path]))
    assert sorted(failed(report)) == [
        f"item {PHOTO_ID.hex()}: derivative present, hash as stated: {path} is missing",
        f"{path}: listed and present: missing from the archive",
    ]


def test_a_missing_manifest_or_signature_stops_the_checks() -> None:
    for name in ("manifest.json", "manifest.sig"):
        report = verified(rezip([(n, d) for n, d in members(HONEST) if n != name]))
        assert not report.ok
        assert report.failures[-1].name == "manifest.json and manifest.sig are present"
        assert name in report.failures[-1].detail


# --- tampering with what the manifest says (signed again, so only the content checks can tell) ---


def item_of(manifest: dict[str, Any], item_id: bytes) -> dict[str, Any]:
    found: dict[str, Any] = next(item for item in manifest["items"] if item["id"] == item_id.hex())
    return found


def test_the_resigning_helper_alone_changes_nothing_that_fails() -> None:
    assert verified(resigned(HONEST, lambda manifest: None)).ok


def test_a_custody_bundle_of_another_item_is_refused() -> None:
    stolen = WORLD.log.bundle(WORLD.marks["photo received"])
    report = verified(resigned(HONEST, lambda m: item_of(m, TESTIMONY_ID)["custody"].append(stolen)))
    only_failure(report, f"item {TESTIMONY_ID.hex()}: custody shows", "1 custody entry of another item")


def test_a_receipt_of_another_original_is_refused() -> None:
    def swap(manifest: dict[str, Any]) -> None:
        item_of(manifest, TESTIMONY_ID)["original_sha256"] = hashlib.sha256(b"another testimony").hexdigest()

    report = verified(resigned(HONEST, swap))
    only_failure(report, f"item {TESTIMONY_ID.hex()}: custody shows", "original's receipt")


def test_a_derivative_entry_with_another_subject_is_refused() -> None:
    other = WORLD.log.bundle(WORLD.marks["testimony other derivative"])

    def swap(manifest: dict[str, Any]) -> None:
        custody = item_of(manifest, TESTIMONY_ID)["custody"]
        custody[:] = [b for b in custody if b["leaf_index"] != WORLD.marks["testimony derivative"]] + [other]

    report = verified(resigned(HONEST, swap))
    only_failure(report, f"item {TESTIMONY_ID.hex()}: custody shows", "making of this derivative")


def test_an_altered_inclusion_proof_is_refused() -> None:
    def alter(manifest: dict[str, Any]) -> None:
        proof = item_of(manifest, PHOTO_ID)["custody"][0]["inclusion_proof"]
        proof[0] = hashlib.sha256(b"not a node").hexdigest()

    report = verified(resigned(HONEST, alter))
    assert sorted(check.name for check in report.failures) == [
        f"item {PHOTO_ID.hex()}: custody proof 1 of 2",
        f"item {PHOTO_ID.hex()}: custody shows this item's receipt and derivative",
    ]
    assert "inclusion proof does not hold" in report.failures[0].detail


def test_an_entry_swapped_under_a_valid_proof_is_refused() -> None:
    def swap(manifest: dict[str, Any]) -> None:
        bundle = item_of(manifest, PHOTO_ID)["custody"][0]
        entry = WORLD.log.entries[WORLD.marks["photo received"]]
        forged = replace(entry, subject=hashlib.sha256(b"another photo").digest())
        bundle["leaf_data"] = base64.b64encode(forged.to_bytes()).decode()

    report = verified(resigned(HONEST, swap))
    assert f"item {PHOTO_ID.hex()}: custody proof 1 of 2" in [check.name for check in report.failures]


def test_a_bundle_under_a_head_signed_by_another_log_key_is_refused() -> None:
    foreign = Log(list(WORLD.log.entries), key=STRANGER)
    bundle = foreign.bundle(WORLD.marks["photo received"])
    report = verified(resigned(HONEST, lambda m: item_of(m, PHOTO_ID)["custody"].__setitem__(0, bundle)))
    assert "the tree head" in report.failures[0].detail
    assert report.failures[0].name == f"item {PHOTO_ID.hex()}: custody proof 1 of 2"


def test_bundles_of_two_logs_are_refused() -> None:
    other_log = Log(list(WORLD.log.entries), log_id="safe-passage/other")
    bundle = other_log.bundle(WORLD.marks["photo received"])
    report = verified(resigned(HONEST, lambda m: item_of(m, PHOTO_ID)["custody"].__setitem__(0, bundle)))
    only_failure(report, "one and the same log", "several logs")


def test_two_heads_of_one_size_with_different_roots_are_refused_as_a_rewritten_log() -> None:
    rewritten = Log(list(WORLD.log.entries))
    rewritten.entries[-1] = new_entry(TESTIMONY_ID, "viewed", at=MADE)
    bundle = rewritten.bundle(WORLD.marks["photo received"])
    report = verified(resigned(HONEST, lambda m: item_of(m, PHOTO_ID)["custody"].__setitem__(0, bundle)))
    only_failure(report, "one and the same log", "the log was rewritten")


def test_bundles_under_earlier_heads_of_the_same_log_hold() -> None:
    earlier = WORLD.log.head(size=3)
    bundle = WORLD.log.bundle(WORLD.marks["photo received"], head=earlier)
    report = verified(resigned(HONEST, lambda m: item_of(m, PHOTO_ID)["custody"].__setitem__(0, bundle)))
    assert report.ok, failed(report)


def test_a_bundle_without_its_entry_is_refused() -> None:
    bundle = make_bundle(WORLD.log.hashes, WORLD.marks["photo received"], WORLD.log.head())
    report = verified(resigned(HONEST, lambda m: item_of(m, PHOTO_ID)["custody"].__setitem__(0, bundle)))
    assert "carries its entry" in report.failures[0].detail


def test_consent_revoked_before_the_package_was_made_is_refused() -> None:
    def revoke(manifest: dict[str, Any]) -> None:
        item_of(manifest, PHOTO_ID)["consent"]["revoked_at"] = "2017-05-01T00:00:00.000000+00:00"

    only_failure(verified(resigned(HONEST, revoke)), "consent in force", "revoked before")


def test_a_derivative_outside_its_items_folder_is_refused() -> None:
    def move(manifest: dict[str, Any]) -> None:
        item_of(manifest, PHOTO_ID)["derivative"] |= {"path": "summary.pdf", "sha256": manifest["files"]["summary.pdf"]}

    report = verified(resigned(HONEST, move))
    derivative = next(
        c for c in report.failures if c.name == f"item {PHOTO_ID.hex()}: derivative present, hash as stated"
    )
    assert derivative.detail == f"'summary.pdf' is not under items/{PHOTO_ID.hex()}/"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(format="sp.evidence-package.v2"), "format is"),
        (lambda m: m.pop("events"), "exactly the fields"),
        (lambda m: m.update(extra=1), "exactly the fields"),
        (lambda m: m.update(created_at="2017-05-02T09:00:00Z"), "created_at"),
        (lambda m: m.update(log_public_key="AB" * 32), "log_public_key"),
        (lambda m: m.update(events=["not-listed.json"]), "events file"),
        (lambda m: m["files"].update({"../outside": "00" * 32}), "cannot hold"),
        (lambda m: m["items"].append(m["items"][0]), "an item appears twice"),
        (lambda m: m["items"][0].update(kind="video"), "kind"),
        (lambda m: m["items"][0]["derivative"].update(method="blurred"), "method"),
        (lambda m: m["items"][0]["consent"].update(scope="journalist"), "scope"),
    ],
)
def test_a_manifest_that_is_not_well_formed_is_refused(change: Callable[[dict[str, Any]], None], message: str) -> None:
    report = verified(resigned(HONEST, change))
    assert report.failures[-1].name.startswith("manifest.json is a well-formed")
    assert message in report.failures[-1].detail


def test_a_manifest_with_a_repeated_key_is_refused() -> None:
    def repeat(raw: bytes) -> bytes:
        return raw.replace(b'"organisation": "Safe Passage"', b'"organisation": "Safe Passage", "organisation": "X"')

    files = dict(members(HONEST))
    raw = repeat(files["manifest.json"])
    files |= {"manifest.json": raw, "manifest.sig": sign(ORG_KEY.seed, manifest_statement(raw)).hex().encode()}
    report = verified(rezip(sorted(files.items())))
    assert "a key appears twice" in report.failures[-1].detail


# --- the ZIP itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../x", "items/../../x", "/etc/passwd", "items\\x", "C:/x", ".hidden", "a//b", "dir/"]
)
def test_names_that_could_write_outside_the_folder_are_refused(name: str) -> None:
    report = verified(rezip([*members(HONEST), (name, b"x")]))
    only_failure(report, "the ZIP archive is sane", repr(name))


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_a_name_twice_in_the_archive_is_refused() -> None:
    files = members(HONEST)
    twice = [*files, next((n, b"another summary") for n, _ in files if n == "summary.pdf")]
    only_failure(verified(rezip(twice)), "the ZIP archive is sane", "more than once", "summary.pdf")


def test_a_symbolic_link_is_refused() -> None:
    buffer = io.BytesIO(HONEST)
    with zipfile.ZipFile(buffer, "a") as archive:
        link = zipfile.ZipInfo("link", date_time=(1980, 1, 1, 0, 0, 0))
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    only_failure(verified(buffer.getvalue()), "the ZIP archive is sane", "not a regular file")


def test_a_zip_bomb_is_refused_before_it_is_inflated() -> None:
    bomb = rezip([*members(HONEST), ("bomb.bin", bytes(50 * 1024**2))], compression=zipfile.ZIP_DEFLATED)
    assert len(bomb) < 1024**2
    only_failure(verified(bomb), "the ZIP archive is sane", "compressed more than 100 to 1")


def test_size_limits_are_kept() -> None:
    only_failure(verified(HONEST, limits=ZipLimits(max_file_bytes=100)), "the ZIP archive is sane", "larger than 100")
    only_failure(verified(HONEST, limits=ZipLimits(max_entries=3)), "the ZIP archive is sane", "more than 3 entries")
    only_failure(verified(HONEST, limits=ZipLimits(max_total_bytes=500)), "the ZIP archive is sane", "500 bytes")
    only_failure(verified(HONEST, limits=ZipLimits(max_archive_bytes=500)), "the ZIP archive is sane", "larger")


def test_a_member_whose_bytes_do_not_match_its_crc_is_refused() -> None:
    corrupt = HONEST.replace(b"[PLACE]", b"[PLACF]")
    only_failure(verified(corrupt), "the ZIP archive is sane", "not a readable ZIP")


def test_bytes_that_are_not_a_zip_are_refused() -> None:
    only_failure(verified(b"%PDF-1.7 not a zip"), "the ZIP archive is sane", "not a readable ZIP")
    assert not verified(b"").ok


# --- building refuses what could not verify --------------------------------------------------


def test_an_item_without_its_receipt_or_derivative_entry_is_not_packaged() -> None:
    log, marks = WORLD.log, WORLD.marks
    without_receipt = the_testimony((log.bundle(marks["testimony derivative"]),))
    with pytest.raises(PackageError, match="original's receipt"):
        package([without_receipt])
    without_derivative = the_testimony((log.bundle(marks["testimony received"]),))
    with pytest.raises(PackageError, match="making of this derivative"):
        package([without_derivative])
    with pytest.raises(PackageError, match="another item"):
        package([the_testimony((*the_testimony().custody, log.bundle(marks["photo received"])))])


def test_a_bundle_without_its_entry_is_not_packaged() -> None:
    bare = make_bundle(WORLD.log.hashes, WORLD.marks["testimony received"], WORLD.log.head())
    with pytest.raises(PackageError, match="carries its entry"):
        package([the_testimony((bare, *the_testimony().custody))])


def test_revoked_or_later_consent_is_not_packaged() -> None:
    revoked = replace(the_testimony(), consent=replace(consent(), revoked_at=MADE - timedelta(days=1)))
    with pytest.raises(PackageError, match="revoked"):
        package([revoked])
    later = replace(the_testimony(), consent=replace(consent(), given_at=MADE + timedelta(days=1)))
    with pytest.raises(PackageError, match="given after"):
        package([later])


@pytest.mark.parametrize("name", ["../x.txt", "a/b.txt", ".hidden", ""])
def test_an_unsafe_derivative_file_name_is_not_packaged(name: str) -> None:
    item = replace(the_testimony(), derivative=replace(the_testimony().derivative, file_name=name))
    with pytest.raises(PackageError, match="plain file name"):
        package([item])


@pytest.mark.parametrize("name", ["../events.json", "/events.json", "manifest.json", "items/x.txt", "a\\b"])
def test_an_unsafe_further_file_name_is_not_packaged(name: str) -> None:
    with pytest.raises(PackageError, match="not a name"):
        package(extra_files={name: b"x"})


def test_a_bundle_the_log_key_did_not_sign_is_not_packaged() -> None:
    foreign = Log(list(WORLD.log.entries), key=STRANGER)
    item = replace(the_photo(), custody=(foreign.bundle(WORLD.marks["photo received"]), *the_photo().custody[1:]))
    with pytest.raises(PackageError, match=r"would not verify: .*custody proof 1 of 2: the tree head"):
        package([item])


def test_an_item_twice_is_not_packaged() -> None:
    with pytest.raises(PackageError, match="once"):
        package([the_testimony(), the_testimony()])


# --- timestamped proofs ----------------------------------------------------------------------


@needs_openssl
def test_timestamped_proofs_need_the_tsa_certificate(tmp_path: Path) -> None:
    tsa = make_local_tsa(tmp_path / "tsa")
    log, marks = WORLD.log, WORLD.marks
    head = log.head()
    request = make_request(head.statement)
    token = check_response(tsa.reply(request), request, tsa.tsa_pem)
    stamped = tuple(log.bundle(marks[m], head, token) for m in ("photo received", "photo derivative"))
    with pytest.raises(PackageError, match="give the TSA certificate"):
        package([replace(the_photo(), custody=stamped)])
    zip_bytes = package([replace(the_photo(), custody=stamped)], tsa_cert_pem=tsa.tsa_pem)
    report = verified(zip_bytes, tsa_cert_pem=tsa.tsa_pem)
    assert report.ok, failed(report)
    assert "timestamped 20" in report.render()
    unchecked = verified(zip_bytes)
    assert [check.name for check in unchecked.failures][:2] == [
        f"item {PHOTO_ID.hex()}: custody proof 1 of 2",
        f"item {PHOTO_ID.hex()}: custody proof 2 of 2",
    ]
    assert "give the TSA certificate" in unchecked.failures[0].detail


# --- the command line ------------------------------------------------------------------------


def run_verify(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "redaction", "verify", *arguments]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_command_passes_an_honest_package_and_fails_a_changed_one(tmp_path: Path) -> None:
    honest, altered = tmp_path / "honest.zip", tmp_path / "altered.zip"
    honest.write_bytes(HONEST)
    altered.write_bytes(changed(HONEST, "summary.pdf", lambda data: data + b" edited"))
    fingerprint = key_fingerprint(ORG_KEY.public_key)
    good = run_verify(str(honest), "--public-key", ORG_KEY.public_key.hex())
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"signing key fingerprint: {fingerprint}" in good.stdout
    assert "Result: all" in good.stdout
    bad = run_verify(str(altered), "--public-key", fingerprint)
    assert bad.returncode == 1
    assert "[FAILED] summary.pdf: SHA-256 as listed" in bad.stdout
    assert "Result: 1 of" in bad.stdout


def test_the_command_without_a_key_passes_with_the_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "package.zip"
    path.write_bytes(HONEST)
    assert main(["verify", str(path)]) == 0
    assert "WARNING: No public key was given" in capsys.readouterr().out
    assert main(["verify", str(path), "--public-key", STRANGER.public_key.hex()]) == 1
    assert "[FAILED] the manifest's signature holds" in capsys.readouterr().out


def test_the_command_refuses_a_malformed_key_or_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "package.zip"
    path.write_bytes(HONEST)
    with pytest.raises(SystemExit, match="64 hex digits"):
        main(["verify", str(path), "--public-key", "abcd"])
    with pytest.raises(SystemExit, match="cannot read"):
        main(["verify", str(tmp_path / "absent.zip")])
