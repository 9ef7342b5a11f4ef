"""What a backup and a restore refuse, and that a refusal writes nothing.

Attackers: someone who can change the backup file on its way to or in storage (a byte
flipped, the file cut short), and an operator's mistake (restoring over a live server,
running without a recipient in production). A refused restore leaves the target exactly as it
was: no row, no file, no secret, no staging directory.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pyrage
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from backups.archive import NO_RECIPIENT, backup_write
from backups.restore import restore, target_problems
from backups.tests.conftest import AgeKey, age_key_write
from backups.unpack import DAMAGED, RestoreRefused
from blobstore import LocalBlobStore
from casework.models import Case
from tests.personas import Staff, open_case


@pytest.fixture
def backup_file(coordinator: Staff, age_key: AgeKey, tmp_path: Path) -> Path:
    open_case(body="A case for the backup")
    store = LocalBlobStore(Path(settings.SP_FILE_STORE))
    with store.writer(store.new_name()) as sink:
        sink.write(b"ciphertext of a file " * 5000)
    path = tmp_path / "backup.age"
    backup_write(path)
    return path


def _wipe(tmp_path: Path) -> Path:
    call_command("flush", interactive=False, verbosity=0)
    settings.SP_FILE_STORE = tmp_path / "empty" / "files"
    return tmp_path / "empty" / "secrets"


def _nothing_written(secrets_dir: Path) -> None:
    assert target_problems() == []
    assert not Path(settings.SP_FILE_STORE).exists() or not any(Path(settings.SP_FILE_STORE).rglob("*"))
    assert not secrets_dir.exists()
    assert not list(Path(settings.VAR_DIR).glob(".restore-*")), "the staging directory was left behind"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cut", ["end", "middle"])
def test_a_truncated_backup_is_refused_and_writes_nothing(
    backup_file: Path, age_key: AgeKey, tmp_path: Path, cut: str
) -> None:
    data = backup_file.read_bytes()
    backup_file.write_bytes(data[:-200] if cut == "end" else data[: len(data) // 2])
    secrets_dir = _wipe(tmp_path)
    with pytest.raises(RestoreRefused) as refused:
        restore(backup_file, age_key.identity_file, secrets_dir=secrets_dir)
    assert str(refused.value) == DAMAGED
    _nothing_written(secrets_dir)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", [0.3, 0.9])
def test_a_backup_with_one_byte_changed_is_refused_and_writes_nothing(
    backup_file: Path, age_key: AgeKey, tmp_path: Path, where: float
) -> None:
    data = bytearray(backup_file.read_bytes())
    data[int(len(data) * where)] ^= 0x01
    backup_file.write_bytes(bytes(data))
    secrets_dir = _wipe(tmp_path)
    with pytest.raises(RestoreRefused) as refused:
        restore(backup_file, age_key.identity_file, secrets_dir=secrets_dir)
    assert str(refused.value) == DAMAGED
    _nothing_written(secrets_dir)


@pytest.mark.django_db(transaction=True)
def test_another_key_does_not_open_a_backup(backup_file: Path, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other = age_key_write(tmp_path / "other")
    secrets_dir = _wipe(tmp_path)
    with pytest.raises(RestoreRefused):
        restore(backup_file, other.identity_file, secrets_dir=secrets_dir)
    _nothing_written(secrets_dir)


@pytest.mark.django_db(transaction=True)
def test_a_restore_over_a_database_with_rows_is_refused(backup_file: Path, age_key: AgeKey, tmp_path: Path) -> None:
    settings.SP_FILE_STORE = tmp_path / "empty" / "files"
    cases = Case.objects.count()
    with pytest.raises(RestoreRefused, match=r"The target is not empty: the database holds rows \(accounts_"):
        restore(backup_file, age_key.identity_file, secrets_dir=tmp_path / "secrets")
    assert Case.objects.count() == cases and not (tmp_path / "secrets").exists()


@pytest.mark.django_db(transaction=True)
def test_a_restore_over_a_file_store_with_files_is_refused(backup_file: Path, age_key: AgeKey, tmp_path: Path) -> None:
    call_command("flush", interactive=False, verbosity=0)
    kept = sorted(path for path in Path(settings.SP_FILE_STORE).rglob("*") if path.is_file())
    assert kept
    with pytest.raises(CommandError, match=r"the file store .* is not empty"):
        call_command("restore", str(backup_file), "--identity", str(age_key.identity_file))
    assert sorted(path for path in Path(settings.SP_FILE_STORE).rglob("*") if path.is_file()) == kept
    assert not Case.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("production", [True, False])
def test_without_a_recipient_no_backup_is_written(settings: Any, tmp_path: Path, production: bool) -> None:
    settings.PRODUCTION, settings.SP_BACKUP_RECIPIENT = production, ""
    output = tmp_path / "backup.age"
    with pytest.raises(CommandError) as refused:
        call_command("backup", "--output", str(output))
    assert str(refused.value) == NO_RECIPIENT and "age-keygen" in NO_RECIPIENT
    assert list(tmp_path.iterdir()) == []


@pytest.mark.django_db(transaction=True)
def test_in_production_a_restore_needs_a_place_for_the_secrets(
    backup_file: Path, age_key: AgeKey, tmp_path: Path, settings: Any
) -> None:
    _wipe(tmp_path)
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="--secrets-dir"):
        call_command("restore", str(backup_file), "--identity", str(age_key.identity_file))
    assert target_problems() == []


@pytest.mark.django_db(transaction=True)
def test_the_age_tool_opens_a_backup_with_the_offline_identity(backup_file: Path, age_key: AgeKey) -> None:
    """The standard age format: an operator opens it without this software (scripts/install-age)."""
    age = shutil.which("age")
    assert age is not None, "the age tool is missing: run scripts/install-age (make test does)"
    plain = subprocess.run(
        [age, "-d", "-i", str(age_key.identity_file), str(backup_file)], capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(plain.stdout), mode="r:") as archive:
        names = archive.getnames()
        pepper = archive.extractfile("secrets/pepper")
        assert pepper is not None and pepper.read().decode() == settings.SP_PEPPER.hex()
    assert names[0].startswith("database/") and names[-1] == "manifest.json"
    assert sum(name.startswith("files/") for name in names) == 1


@pytest.mark.django_db(transaction=True)
def test_a_backup_whose_contents_disagree_with_its_manifest_is_refused(
    backup_file: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    """age does not say who wrote a file: anyone with the (public) recipient can encrypt one. A
    file re-encrypted with a blob left out opens, and is refused by its own manifest."""
    identity = pyrage.x25519.Identity.from_str(age_key.identity_file.read_text().splitlines()[-1])
    rebuilt = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(pyrage.decrypt(backup_file.read_bytes(), [identity])), mode="r:") as source,
        tarfile.open(fileobj=rebuilt, mode="w:", format=tarfile.GNU_FORMAT) as target,
    ):
        for member in source.getmembers():
            if not member.name.startswith("files/"):
                target.addfile(member, source.extractfile(member))
    recipient = pyrage.x25519.Recipient.from_str(age_key.recipient)
    backup_file.write_bytes(pyrage.encrypt(rebuilt.getvalue(), [recipient]))
    secrets_dir = _wipe(tmp_path)
    with pytest.raises(RestoreRefused, match="the file store in the backup does not match its manifest"):
        restore(backup_file, age_key.identity_file, secrets_dir=secrets_dir)
    _nothing_written(secrets_dir)
