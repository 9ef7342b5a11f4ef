from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "evacuation.funds"
    label = "funds"
    verbose_name = "Money paid out"
