from django.apps import AppConfig


class EvacuationPlansConfig(AppConfig):
    name = "evacuation.plans"
    label = "evac_plans"
    verbose_name = "Evacuation plans, legs, plan templates and destinations"

    def ready(self) -> None:
        from audit.details import detail_codes_register
        from audit.models import Action
        from evacuation.plans import panels
        from evacuation.plans.models import LegStatus

        detail_codes_register("status", LegStatus.choices, actions=[Action.EVAC_LEG_PROGRESS])
        panels.register()  # the evacuation plan section of the case page
