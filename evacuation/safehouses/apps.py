from django.apps import AppConfig


class SafehousesConfig(AppConfig):
    name = "evacuation.safehouses"
    label = "safehouses"
    verbose_name = "Safe houses and placements"

    def ready(self) -> None:
        from audit.details import detail_codes_register
        from audit.models import Action
        from casework import hooks
        from evacuation.safehouses import panels, services
        from evacuation.safehouses.models import Placement
        from vetting import sensitive

        # The reply screen (vetting) also looks for safe-house addresses kept here.
        sensitive.register_matcher(services.address_matching_kinds)
        # Address keys follow the case (casework.hooks lists every hook point and its order).
        hooks.transitioned.register(services.revoke_when_no_longer_verified, order=10)
        hooks.duress_marked.register(services.revoke_under_duress, order=10)

        detail_codes_register("status", Placement.Status.choices, actions=[Action.PLACEMENT_CREATE])
        panels.register()  # the safe-house section of the case page
