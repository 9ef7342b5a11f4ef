from django.urls import path

from evacuation.plans import views

app_name = "evac_plans"
urlpatterns = [
    path("destinations/", views.destinations, name="destinations"),
    path("destinations/<int:destination_id>/edit/", views.destination_edit, name="destination_edit"),
    path("plan-templates/", views.templates, name="templates"),
    path("plan-templates/<int:template_id>/edit/", views.template_edit, name="template_edit"),
    path("cases/<str:public_id>/plan/", views.plan, name="plan"),
    path("cases/<str:public_id>/plan/legs/", views.leg_add, name="leg_add"),
    path("cases/<str:public_id>/plan/legs/<uuid:leg_id>/", views.leg_edit, name="leg_edit"),
    path("cases/<str:public_id>/plan/legs/<uuid:leg_id>/progress/", views.leg_progress, name="leg_progress"),
    path("cases/<str:public_id>/plan/template/", views.template_apply, name="template_apply"),
]
