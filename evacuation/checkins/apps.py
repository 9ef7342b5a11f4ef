from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "evacuation.checkins"
    label = "checkins"
    verbose_name = "Welfare check-ins and fate status"

    def ready(self) -> None:
        from audit.details import detail_codes_register
        from audit.models import Action
        from evacuation.checkins import (
            intake_views,
            ladder,  # noqa: F401  (registers the job handlers)
            panels,
        )
        from evacuation.checkins.models import Fate
        from intake.entries import conversation_entries

        # The check-in button on the person's conversation page.
        conversation_entries.register(intake_views.checkin_entry, order=10)

        detail_codes_register("status", Fate.choices, actions=[Action.FATE_SET])
        panels.register()  # the check-ins section of the case page
