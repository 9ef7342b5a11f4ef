from django.urls import path

from evidence import views

app_name = "evidence"
urlpatterns = [
    path("evidence/custody/", views.custody, name="custody"),
    path("cases/<str:public_id>/evidence/consents/", views.consent_add, name="consent_add"),
    path(
        "cases/<str:public_id>/evidence/consents/<uuid:consent_id>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("cases/<str:public_id>/evidence/testimonies/", views.testimony_add, name="testimony_add"),
    path("cases/<str:public_id>/evidence/messages/", views.message_keep, name="message_keep"),
    path("cases/<str:public_id>/evidence/export/", views.export, name="export"),
    path("cases/<str:public_id>/evidence/events/", views.events, name="events"),
    path("cases/<str:public_id>/evidence/<uuid:item_id>/", views.item, name="item"),
    path(
        "cases/<str:public_id>/evidence/<uuid:item_id>/redact/",
        views.derivative_propose,
        name="derivative_propose",
    ),
    path(
        "cases/<str:public_id>/evidence/<uuid:item_id>/redaction/",
        views.derivative_review,
        name="derivative_review",
    ),
]
