"""Give every message written before messages were authenticated its proof of origin.

Messages written from now on are signed (staff replies) or tagged by the server as they are
written (casework/authenticity.py). Rows that already exist cannot be signed by their authors
(only their passwords open their signing keys), so this migration vouches for them once, with
keys derived from the instance secret: staff replies under the separate "legacy" key, all
other messages under the normal server tag key. It trusts the database as it is at the moment
of upgrading; from then on, a row inserted by a database writer has no valid proof.

The statement is built here from the historical model with the same sealbox function the
application uses (sealbox is a frozen, Django-free core), not from casework.authenticity,
which may change with the models.
"""

from __future__ import annotations

from django.conf import settings
from django.db import migrations

import sealbox


def tag_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    Message = apps.get_model("casework", "Message")
    server_key = sealbox.server_subkey(settings.SP_PEPPER, sealbox.MESSAGE_TAG_KEY_PURPOSE)
    legacy_key = sealbox.server_subkey(settings.SP_PEPPER, sealbox.LEGACY_TAG_KEY_PURPOSE)
    pending = Message.objects.filter(signature__isnull=True, server_tag__isnull=True).select_related("case")
    for message in pending.iterator(chunk_size=500):
        statement = sealbox.message_statement(
            case_public_id=message.case.public_id,
            message_id=message.id.bytes,
            sender=message.sender,
            author_id=message.author_id,
            signer_id=None,
            created_at=message.created_at,
            after_duress=message.after_duress,
            is_decoy=message.is_decoy,
            held=message.held,
            body_ct=bytes(message.body_ct),
        )
        key = legacy_key if message.sender == "staff" else server_key
        Message.objects.filter(pk=message.pk).update(server_tag=sealbox.message_tag(key, statement))


class Migration(migrations.Migration):
    dependencies = [("casework", "0005_message_authenticity")]

    operations = [migrations.RunPython(tag_existing, migrations.RunPython.noop)]
