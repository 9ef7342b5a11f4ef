from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence locker"

    def ready(self) -> None:
        # The worker's job that timestamps the custody log's heads.
        from evidence import timestamps  # noqa: F401
