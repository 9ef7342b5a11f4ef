from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence locker"

    def ready(self) -> None:
        from evidence import (
            lifecycle,
            panels,
            timestamps,  # noqa: F401  (registers the worker's timestamping job)
        )

        panels.register()  # the Evidence section of the case page
        lifecycle.register()  # custody entries for holds and shredding (retention.hooks)
