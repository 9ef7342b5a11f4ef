"""The public face. No URL here ever carries a codename or a case identifier."""

from django.urls import path

from core import views as core_views
from evacuation.checkins import intake_views as checkin_views
from intake import views
from retention import intake_views as retention_views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("start/", views.start, name="start"),
    path("request/", views.first_request, name="request"),
    path("login/", views.login, name="login"),
    path("conversation/", views.conversation, name="conversation"),
    path("conversation/file/", views.download, name="download"),
    path("conversation/delete/", retention_views.forget, name="forget"),
    path("checkin/", checkin_views.checkin, name="checkin"),
    path("logout/", views.logout, name="logout"),
    path("exit/", views.quick_exit, name="exit"),
    # A plain word: the address bar and the history need not say "Tor" or "blocked".
    path("connect/", views.connect, name="connect"),
    path("language/", core_views.set_language, name="language"),
    path("static/<str:name>", core_views.static_file, name="static"),
]
handler400 = "intake.views.bad_request"
handler403 = "intake.views.forbidden"
handler404 = "intake.views.not_found"
handler500 = "intake.views.server_error"
