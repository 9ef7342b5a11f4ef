"""What the partner contact is told at the last step of the ladder.

The partner is outside the organisation: its mailbox is not ours to protect. So the notice
carries neither the case's public id nor a link to the staff console (whose address would
show where to aim), only the reference the case team agreed with the partner when they set
the contact, in the partner's language (English unless Russian was chosen).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The languages a partner can be written to in; "" (none chosen) means English.
PARTNER_LANGUAGES = (("en", gettext_lazy("English")), ("ru", gettext_lazy("Russian")))
DEFAULT_PARTNER_LANGUAGE = "en"


def partner_language(stored: str) -> str:
    return stored if stored in dict(PARTNER_LANGUAGES) else DEFAULT_PARTNER_LANGUAGE


@dataclass(frozen=True)
class PartnerNotice:
    """Rendered in the active language (the caller overrides it with the partner's)."""

    reference: str

    def subject(self) -> str:
        return _("A check-in was missed")

    def body(self) -> str:
        text = _(
            "A person we asked you to watch out for has missed a check-in, and our staff have "
            "not been able to confirm they are safe.\nPlease do what we agreed with you."
        )
        if self.reference:
            text += "\n" + _("Your reference: %(reference)s") % {"reference": self.reference}
        return text + "\n\n" + _("This message deliberately says nothing more.")
