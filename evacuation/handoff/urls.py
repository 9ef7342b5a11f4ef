from django.urls import path

from evacuation.handoff import views

app_name = "handoff"
urlpatterns = [
    path("handoff/", views.index, name="index"),
    path("handoff/keys/", views.keys_create, name="keys_create"),
    path("handoff/keys/share/", views.keys_share, name="keys_share"),
    path("handoff/partners/", views.partner_add, name="partner_add"),
    path("handoff/import/", views.packet_import, name="import"),
    path("cases/<str:public_id>/handoff/", views.case_export, name="export"),
]
