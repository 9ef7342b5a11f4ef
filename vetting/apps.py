from django.apps import AppConfig


class VettingConfig(AppConfig):
    name = "vetting"

    def ready(self) -> None:
        from vetting import checks  # noqa: F401  (registers the system check)
