from django.apps import AppConfig


class FundsConfig(AppConfig):
    name = "evacuation.funds"
    label = "funds"
    verbose_name = "Money paid out"

    def ready(self) -> None:
        from audit.details import detail_codes_register
        from audit.models import Action
        from evacuation.funds import panels
        from evacuation.funds.models import EntryStatus

        detail_codes_register(
            "status", EntryStatus.choices, actions=[Action.FUNDS_ENTRY_CREATE, Action.FUNDS_ENTRY_EDIT]
        )
        panels.register()  # the money section of the case page
