from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "evacuation.dashboard"
    label = "dashboard"
    verbose_name = "Coordinator dashboard"
