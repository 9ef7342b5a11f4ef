from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications to staff"

    def ready(self) -> None:
        from notifications import checks, delivery  # noqa: F401  (register the system checks and the job handler)
