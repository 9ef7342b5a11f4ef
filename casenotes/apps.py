from django.apps import AppConfig


class CasenotesConfig(AppConfig):
    name = "casenotes"
    verbose_name = "Case notes, tasks and canned replies"

    def ready(self) -> None:
        from casenotes import panels

        panels.register()  # the notes and tasks section and the canned replies of the case page
