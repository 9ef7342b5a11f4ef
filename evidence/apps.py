from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence locker"

    def ready(self) -> None:
        from evidence import panels

        panels.register()  # the Evidence section of the case page
