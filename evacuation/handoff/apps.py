from django.apps import AppConfig


class HandoffConfig(AppConfig):
    name = "evacuation.handoff"
    label = "handoff"
    verbose_name = "Partner hand-off: signed, encrypted case packets between organisations"
