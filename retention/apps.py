from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = "Retention and shredding"

    def ready(self) -> None:
        from retention import panels, policies  # noqa: F401  (policies registers the worker's sweep)

        panels.register()  # the retention panel of the case page
