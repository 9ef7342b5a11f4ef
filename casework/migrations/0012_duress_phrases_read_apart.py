"""Each phrase reads only its own conversation (docs/crypto.md, "Duress credentials").

Before, the cover conversation was sealed to the real credential too, and every message
written after a danger-word login was sealed to every credential of the case, whichever
phrase wrote it. Now the real phrase never shows the cover, and a message is sealed only to
the credential it was written with. This takes away from real (not duress) credentials:

- their wraps of cover messages (``is_decoy``): never shown with the real phrase any more;
- their wraps of the person's messages written after a duress login that were also sealed to
  a duress credential: only the old rule did both, and who wrote such a message (the person
  or a captor) cannot be known, so the real phrase must not show it as the person's own.
  Staff keep reading all of them through the case key; the danger phrase's view is unchanged.
  A codename issued after a burn got these wraps re-sealed to it, and loses them the same way.

Nothing is re-encrypted: a wrap is deleted, never written.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef


def separate(apps, schema_editor):
    MessageKey = apps.get_model("casework", "MessageKey")
    real = MessageKey.objects.filter(credential__isnull=False, credential__is_duress=False)
    real.filter(message__is_decoy=True).delete()
    also_duress = MessageKey.objects.filter(message_id=OuterRef("message_id"), credential__is_duress=True)
    real.filter(message__after_duress=True, message__sender="person", message__is_decoy=False).filter(
        Exists(also_duress)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("casework", "0011_certify_existing_rows")]

    operations = [migrations.RunPython(separate, migrations.RunPython.noop)]
