"""Give the audit head that exists at upgrade time its MAC.

From now on every append writes the head's MAC (audit.services.audit_record), and verify_audit
and the coordinators' page refuse a head whose MAC does not hold. The head already in the
database was written before heads had one, so this migration vouches for it once, with the key
derived from the instance secret. Like accounts/migrations/0007_certify_existing_box_keys.py,
it trusts the database as it is at the moment of upgrading: entries cut off the end before the
upgrade, with the head moved back to match, are vouched for with the rest (only a head written
down off the server before then would show it). From then on, a head written by a database
writer has no valid MAC.

The MAC is computed here as docs/crypto.md ("Audit log") defines it, not with audit.chain,
which may change; audit/tests/test_head_seal.py checks the two agree. A head that already has
a MAC is left alone; reversing keeps it (harmless without the code that checks it).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import migrations


def _field(text: str) -> bytes:
    raw = text.encode()
    return b"\x01" + len(raw).to_bytes(8, "big") + raw


def head_mac(sequence: int, entry_hash: str) -> str:
    audit_key = hashlib.blake2b(settings.SP_PEPPER, digest_size=32, person=b"sp.audit-key.v1").digest()
    digest = hashlib.blake2b(key=audit_key, digest_size=32, person=b"sp.audit-head.v1")
    digest.update(_field(str(sequence)))
    digest.update(_field(entry_hash))
    return digest.hexdigest()


def seal_existing_head(apps, schema_editor):  # type: ignore[no-untyped-def]
    AuditHead = apps.get_model("audit", "AuditHead")
    for head in AuditHead.objects.filter(mac=""):
        AuditHead.objects.filter(pk=head.pk).update(mac=head_mac(head.sequence, head.entry_hash))


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_audit_actions")]

    operations = [migrations.RunPython(seal_existing_head, migrations.RunPython.noop)]
