from django.apps import AppConfig


class TriageConfig(AppConfig):
    name = "triage"

    def ready(self) -> None:
        # Registers the deadline job handler and the hook that schedules it for new cases.
        from triage import deadlines  # noqa: F401
