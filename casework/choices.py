"""The choices a person makes at intake, shared by the portal's form and the console's display."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext_lazy as _

# Coarse on purpose: never an address, a town is already too much for some places.
REGIONS = [
    ("chechnya", _("Chechnya")),
    ("north_caucasus", _("Another North Caucasus republic")),
    ("moscow", _("Moscow or Moscow region")),
    ("st_petersburg", _("St Petersburg or Leningrad region")),
    ("russia_other", _("Elsewhere in Russia")),
    ("abroad", _("Outside Russia")),
    ("not_said", _("I prefer not to say")),
]
HELP_KINDS = [
    ("leave_region", _("Leave the region")),
    ("leave_country", _("Leave the country")),
    ("legal", _("Legal help")),
    ("medical", _("Medical help")),
    ("other", _("Something else")),
]
CONTACT_KINDS = [
    ("", _("No other way — only here")),
    ("signal", "Signal"),
    ("telegram", "Telegram"),
    ("whatsapp", "WhatsApp"),
    ("email", _("E-mail")),
    ("phone", _("Phone")),
    ("other", _("Other")),
]


def label(choices: Sequence[tuple[str, object]], value: str) -> str:
    """The human label of a stored choice, in the current language; unknown values as they are."""
    return str(dict(choices).get(value, value))


# Ways the person must never be contacted (someone else reads them). Stored inside the sealed
# case details, with the hostile-relative flag (see services.CaseDetails).
NO_CONTACT_VIA = [
    ("phone", _("Phone calls")),
    ("sms", _("SMS")),
    ("messengers", _("Messenger apps")),
    ("email", _("E-mail")),
    ("family", _("Family members")),
    ("other", _("Other")),
]
