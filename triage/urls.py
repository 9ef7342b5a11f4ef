from django.urls import path

from triage import views

app_name = "triage"
urlpatterns = [
    path("rota/", views.rota, name="rota"),
    path("rota/<int:shift_id>/delete/", views.rota_delete, name="rota_delete"),
    path("cases/<str:public_id>/state/", views.case_transition, name="transition"),
]
