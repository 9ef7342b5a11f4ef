from django.urls import path

from evacuation.funds import views

app_name = "funds"
urlpatterns = [
    path("funds/", views.report, name="report"),
    path("funds/export.csv", views.export_csv, name="export"),
    path("cases/<str:public_id>/funds/", views.entry_add, name="entry_add"),
    path("cases/<str:public_id>/funds/budget/", views.budget, name="budget"),
    path("cases/<str:public_id>/funds/<uuid:entry_id>/edit/", views.entry_edit, name="entry_edit"),
    path("cases/<str:public_id>/funds/<uuid:entry_id>/decide/", views.entry_decide, name="entry_decide"),
]
