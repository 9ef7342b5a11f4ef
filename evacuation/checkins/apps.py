from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "evacuation.checkins"
    label = "checkins"
    verbose_name = "Welfare check-ins and fate status"

    def ready(self) -> None:
        from evacuation.checkins import ladder  # noqa: F401  (registers the job handlers)
