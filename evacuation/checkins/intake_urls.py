"""The intake face's check-in URL: no identifier in it, the person is in the session vault."""

from django.urls import path

from evacuation.checkins import intake_views

urlpatterns = [
    path("checkin/", intake_views.checkin, name="checkin"),
]
