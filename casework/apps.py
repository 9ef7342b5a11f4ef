from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = "Cases and conversations"

    def ready(self) -> None:
        from accounts import teams as accounts_teams
        from audit.details import detail_codes_register
        from audit.models import Action
        from casework import (
            alerts,  # noqa: F401  (registers the job telling key holders a case needs attention)
            files,  # noqa: F401  (registers the worker's sweep of files no row names)
            panels,
            teams,
        )
        from casework.services import DURESS_CLEAR_REASONS

        # Why someone was taken off a case or its key changed (audit details).
        reasons = [
            ("team", pgettext_lazy("audit reason", "team change")),
            ("removed", pgettext_lazy("audit reason", "taken off the case")),
            ("disabled", pgettext_lazy("audit reason", "account disabled")),
            ("not_verified", pgettext_lazy("audit reason", "the case is no longer verified")),
            ("no_longer_allowed", pgettext_lazy("audit reason", "the role may no longer read the case")),
            ("duress", pgettext_lazy("audit reason", "danger-word login")),
            ("left_verified", pgettext_lazy("audit reason", "the case is no longer verified")),
        ]
        detail_codes_register("reason", reasons)
        detail_codes_register("reason", DURESS_CLEAR_REASONS, actions=[Action.CASE_DURESS_CLEAR])
        # An account joining its team at sign-up is owed the keys of the team's open cases.
        accounts_teams.team_joined_at_enrolment.register(teams.keys_owed_on_enrolment, order=10)
        panels.register()  # the conversation, access and state sections of the case page
