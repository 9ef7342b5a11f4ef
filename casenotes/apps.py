from django.apps import AppConfig


class CasenotesConfig(AppConfig):
    name = "casenotes"
    verbose_name = "Case notes, tasks and canned replies"
