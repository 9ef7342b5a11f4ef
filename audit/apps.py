from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from audit.details import detail_codes_register
        from audit.models import Action

        detail_codes_register("action", Action.choices, actions=[Action.AUDIT_VIEW])
        results = [
            ("found", pgettext_lazy("audit head check", "found")),
            ("missing", pgettext_lazy("audit head check", "missing")),
            ("broken", pgettext_lazy("audit head check", "chain broken")),
            ("head_broken", pgettext_lazy("audit head check", "end of the log changed")),
            ("unchecked", pgettext_lazy("audit head check", "too far back to check here")),
        ]
        detail_codes_register("result", results, actions=[Action.AUDIT_HEAD_CHECK])
