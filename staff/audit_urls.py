from django.urls import path

from staff import audit_views as views

app_name = "audit"
urlpatterns = [
    path("audit/", views.audit_log, name="log"),
    path("audit/check/", views.head_check, name="check_head"),
]
