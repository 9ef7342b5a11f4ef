from django.apps import AppConfig


class StaffConfig(AppConfig):
    """The console pages about staff: sign-up, log-in, one's own account, the coordinators'
    staff list and audit log. They show accounts (who staff are), notifications (how each is
    told) and audit (the log) together, so they sit above all three; their templates are still
    under accounts/templates and audit/templates."""

    name = "staff"
    verbose_name = "Staff pages"
