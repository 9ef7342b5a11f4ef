from django.urls import path

from evacuation.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
]
