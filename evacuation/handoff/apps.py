from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class HandoffConfig(AppConfig):
    name = "evacuation.handoff"
    label = "handoff"
    verbose_name = "Partner hand-off: signed, encrypted case packets between organisations"

    def ready(self) -> None:
        from accounts.hooks import member_disabled
        from audit.details import detail_codes_register
        from audit.models import Action
        from evacuation.handoff import panels, services
        from evacuation.handoff.models import Field

        detail_codes_register("fields", Field.choices)
        refusals = [
            ("format", pgettext_lazy("refused packet", "not a packet, or damaged")),
            ("recipient", pgettext_lazy("refused packet", "addressed to another organisation")),
            ("sender", pgettext_lazy("refused packet", "not from this partner")),
            ("signature", pgettext_lazy("refused packet", "signature does not match")),
            ("content", pgettext_lazy("refused packet", "does not open with our key")),
            ("partner", pgettext_lazy("refused packet", "the partner's record cannot be trusted")),
            ("replay", pgettext_lazy("refused packet", "imported before")),
            ("payload", pgettext_lazy("refused packet", "content has the wrong shape")),
            ("version", pgettext_lazy("refused packet", "made by a newer version")),
        ]
        detail_codes_register("reason", refusals, actions=[Action.HANDOFF_IMPORT_REFUSED])
        panels.register()  # the hand-off part of the case page's access section
        member_disabled.register(services.org_keys_rotate_on_disable, order=10)
