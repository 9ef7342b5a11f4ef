from django.apps import AppConfig


class SafehousesConfig(AppConfig):
    name = "evacuation.safehouses"
    label = "safehouses"
    verbose_name = "Safe houses and placements"

    def ready(self) -> None:
        # The reply screen (vetting) also looks for safe-house addresses kept here.
        from evacuation.safehouses import panels, services
        from vetting import sensitive

        sensitive.register_matcher(services.address_matching_kinds)
        from audit.details import detail_codes_register
        from audit.models import Action
        from evacuation.safehouses.models import Placement

        detail_codes_register("status", Placement.Status.choices, actions=[Action.PLACEMENT_CREATE])
        panels.register()  # the safe-house section of the case page
