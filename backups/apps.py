from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "backups"
    verbose_name = "Encrypted backups and restore"

    def ready(self) -> None:
        # Imported for what it registers: the scheduled backup with the worker.
        from backups import schedule  # noqa: F401
