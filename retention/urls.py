from django.urls import path

from retention import views

app_name = "retention"
urlpatterns = [
    path("retention/", views.policies_page, name="policies"),
    path("cases/<str:public_id>/hold/", views.hold, name="hold"),
    path("cases/<str:public_id>/shred/", views.shred_now, name="shred"),
]
