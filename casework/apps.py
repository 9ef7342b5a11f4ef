from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = "Cases and conversations"

    def ready(self) -> None:
        # Imported for what it registers: the worker's sweep of files no row names.
        from casework import files  # noqa: F401
