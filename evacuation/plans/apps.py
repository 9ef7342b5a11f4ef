from django.apps import AppConfig


class EvacuationPlansConfig(AppConfig):
    name = "evacuation.plans"
    label = "evac_plans"
    verbose_name = "Evacuation plans, legs, plan templates and destinations"
