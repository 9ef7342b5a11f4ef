from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "evacuation.checkins"
    label = "checkins"
    verbose_name = "Welfare check-ins and fate status"

    def ready(self) -> None:
        from audit.details import detail_codes_register
        from audit.models import Action
        from evacuation.checkins import (
            ladder,  # noqa: F401  (registers the job handlers)
            panels,
        )
        from evacuation.checkins.models import Fate

        detail_codes_register("status", Fate.choices, actions=[Action.FATE_SET])
        panels.register()  # the check-ins section of the case page
