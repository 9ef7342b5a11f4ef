"""The staff face."""

from django.urls import include, path

from core import views as core_views

urlpatterns = [
    path("", include("staff.urls")),
    path("", include("casework.urls")),
    path("", include("staff.audit_urls")),
    path("", include("notifications.urls")),
    path("", include("triage.urls")),
    path("", include("casenotes.urls")),
    path("", include("evidence.urls")),
    path("", include("evacuation.plans.urls")),
    path("", include("evacuation.checkins.urls")),
    path("", include("vetting.urls")),
    path("", include("evacuation.funds.urls")),
    path("", include("evacuation.safehouses.urls")),
    path("", include("evacuation.dashboard.urls")),
    path("", include("evacuation.handoff.urls")),
    path("", include("retention.urls")),
    path("", include("recovery.urls")),
    path("language/", core_views.set_language, name="language"),
    path("static/<str:name>", core_views.static_file, name="static"),
]
handler400 = "core.errors.bad_request"
handler403 = "core.errors.forbidden"
handler404 = "core.errors.not_found"
handler500 = "core.errors.server_error"
