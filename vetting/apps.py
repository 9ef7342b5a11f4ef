from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class VettingConfig(AppConfig):
    name = "vetting"

    def ready(self) -> None:
        from audit.details import detail_codes_register
        from audit.models import Action
        from casework import hooks
        from vetting import (
            checks,  # noqa: F401  (registers the system check)
            panels,
            red_flags,
            sensitive,
            services,
        )
        from vetting.models import CheckItem, RedFlagKind, RedFlagMatch, SensitiveKind

        # What vetting does to cases (casework.hooks lists every hook point and its order).
        hooks.transition_guards.register(services.verified_guard, order=10)
        hooks.transitioned.register(services.new_round_on_entering_vetting, order=20)
        hooks.member_taken_off.register(services.withdraw_on_taken_off, order=10)
        hooks.intake_screens.register(red_flags.intake_screen, order=10)
        hooks.inbox_marks.register(red_flags.inbox_mark, order=10)
        hooks.reply_screens.register(sensitive.staff_reply_screen, order=10)
        hooks.cover_reply_screens.register(sensitive.cover_screen, order=10)
        hooks.release_screens.register(sensitive.release_screen, order=10)

        red_flag_actions = [Action.RED_FLAG_CREATE, Action.RED_FLAG_DELETE]
        detail_codes_register("kind", RedFlagKind.choices, actions=red_flag_actions)
        detail_codes_register(
            "kind", SensitiveKind.choices, actions=[Action.SENSITIVE_ITEM_CREATE, Action.SENSITIVE_ITEM_DELETE]
        )
        detail_codes_register("kinds", SensitiveKind.choices)
        detail_codes_register("via", RedFlagMatch.Via.choices, actions=[Action.RED_FLAG_MATCH])
        detail_codes_register("item", CheckItem.choices, actions=[Action.VETTING_CHECK_TICK])
        detail_codes_register("conversation", [("cover", pgettext_lazy("audit detail", "cover conversation"))])
        panels.register()  # the vetting section and the red-flag warnings of the case page
