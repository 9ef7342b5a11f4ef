from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"

    def ready(self) -> None:
        # Registers the deadline job handler and the hook that schedules it for new cases.
        from audit.details import detail_codes_register
        from casework import hooks
        from casework.lifecycle import State
        from triage import deadlines, panels

        hooks.case_opened.register(deadlines.deadline_schedule, order=10)
        detail_codes_register("from", State.choices)
        detail_codes_register("to", State.choices)
        panels.register()  # the state panel of the case page
