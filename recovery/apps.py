from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class RecoveryConfig(AppConfig):
    name = "recovery"
    verbose_name = "Recovery ceremonies"

    def ready(self) -> None:
        from audit.details import detail_codes_register
        from audit.models import Action
        from recovery import services  # noqa: F401  (registers the worker's expiry job)

        purposes = [
            ("case_access", pgettext_lazy("recovery purpose", "give a case's key")),
            ("reshare", pgettext_lazy("recovery purpose", "new recovery key and trustees")),
        ]
        detail_codes_register("purpose", purposes, actions=[Action.RECOVERY_CEREMONY_START])
        refusals = [
            ("sealed", pgettext_lazy("recovery refused", "shares do not open with the ceremony key")),
            ("not_this_key", pgettext_lazy("recovery refused", "not this organisation's key")),
        ]
        detail_codes_register("reason", refusals, actions=[Action.RECOVERY_CEREMONY_REFUSED])
