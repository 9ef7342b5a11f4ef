"""An age key pair for the backup tests: the identity stays in the test's own directory, as it
would stay on an offline machine; the server side only ever gets the recipient."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage
import pytest


@dataclass(frozen=True)
class AgeKey:
    recipient: str
    identity_file: Path


def age_key_write(directory: Path) -> AgeKey:
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    path = directory / "backup-key.txt"
    path.write_text(f"# created: by the test\n# public key: {recipient}\n{identity}\n", encoding="utf-8")
    path.chmod(0o600)
    return AgeKey(recipient=recipient, identity_file=path)


@pytest.fixture
def age_key(tmp_path: Path, settings: Any) -> AgeKey:
    """A key pair whose recipient is configured, as SP_BACKUP_RECIPIENT would be."""
    key = age_key_write(tmp_path)
    settings.SP_BACKUP_RECIPIENT = key.recipient
    return key
