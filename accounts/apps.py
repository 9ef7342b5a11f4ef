from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from accounts import checks, sessions  # noqa: F401  (registers the deploy checks; which sessions the purge deletes)
        from accounts.models import Role
        from audit.details import detail_codes_register
        from audit.models import Action

        detail_codes_register("role", Role.choices)
        detail_codes_register(
            "via", [("enrolment", pgettext_lazy("audit detail", "at sign-up"))], actions=[Action.LOGIN]
        )
        stages = [
            ("password", pgettext_lazy("failed login", "wrong password")),
            ("code", pgettext_lazy("failed login", "wrong code")),
            ("locked", pgettext_lazy("failed login", "account locked")),
            ("keys", pgettext_lazy("failed login", "keys not proven")),
        ]
        detail_codes_register("stage", stages, actions=[Action.LOGIN_FAILED])
