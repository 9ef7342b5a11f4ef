from django.urls import path

from evacuation.checkins import views

app_name = "checkins"
urlpatterns = [
    path("cases/<str:public_id>/checkins/schedule/", views.schedule_set, name="schedule_set"),
    path("cases/<str:public_id>/checkins/acknowledge/", views.acknowledge, name="acknowledge"),
    path("cases/<str:public_id>/fate/", views.fate_set, name="fate_set"),
]
