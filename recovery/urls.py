from django.urls import path

from recovery import views

app_name = "recovery"
urlpatterns = [
    path("recovery/", views.home, name="home"),
    path("recovery/start/", views.start, name="start"),
    path("recovery/<uuid:ceremony_id>/", views.ceremony, name="ceremony"),
    path("recovery/<uuid:ceremony_id>/perform/", views.perform, name="perform"),
    path("recovery/<uuid:ceremony_id>/cancel/", views.cancel, name="cancel"),
    path("recovery/<uuid:ceremony_id>/shares/", views.shares, name="shares"),
]
