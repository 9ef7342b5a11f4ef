from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"

    def ready(self) -> None:
        # Registers the deadline job handler and the hook that schedules it for new cases.
        from audit.details import detail_codes_register
        from triage import (
            deadlines,  # noqa: F401
            panels,
        )
        from triage.lifecycle import State

        detail_codes_register("from", State.choices)
        detail_codes_register("to", State.choices)
        panels.register()  # the state panel of the case page
