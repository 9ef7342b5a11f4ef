from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Shared web plumbing"

    def ready(self) -> None:
        # Imported for what they register: the system checks, and the session purge with the worker.
        from core import checks, sessions  # noqa: F401
