from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class VettingConfig(AppConfig):
    name = "vetting"

    def ready(self) -> None:
        from audit.details import detail_codes_register
        from audit.models import Action
        from vetting import (
            checks,  # noqa: F401  (registers the system check)
            panels,
        )
        from vetting.models import CheckItem, RedFlagKind, RedFlagMatch, SensitiveKind

        red_flags = [Action.RED_FLAG_CREATE, Action.RED_FLAG_DELETE]
        detail_codes_register("kind", RedFlagKind.choices, actions=red_flags)
        detail_codes_register(
            "kind", SensitiveKind.choices, actions=[Action.SENSITIVE_ITEM_CREATE, Action.SENSITIVE_ITEM_DELETE]
        )
        detail_codes_register("kinds", SensitiveKind.choices)
        detail_codes_register("via", RedFlagMatch.Via.choices, actions=[Action.RED_FLAG_MATCH])
        detail_codes_register("item", CheckItem.choices, actions=[Action.VETTING_CHECK_TICK])
        detail_codes_register("conversation", [("cover", pgettext_lazy("audit detail", "cover conversation"))])
        panels.register()  # the vetting section and the red-flag warnings of the case page
