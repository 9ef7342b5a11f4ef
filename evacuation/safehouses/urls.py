from django.urls import path

from evacuation.safehouses import views

app_name = "safehouses"

urlpatterns = [
    path("safe-houses/", views.house_list, name="list"),
    path("safe-houses/<int:house_id>/", views.house_detail, name="detail"),
    path("safe-houses/<int:house_id>/address/", views.house_address, name="address"),
    path("safe-houses/<int:house_id>/share/", views.house_share, name="share"),
    path("safe-houses/<int:house_id>/edit/", views.house_edit, name="edit"),
    path("safe-houses/<int:house_id>/close/", views.house_close, name="close"),
    path("safe-houses/placements/<uuid:placement_id>/confirm/", views.placement_confirm, name="placement_confirm"),
    path("cases/<str:public_id>/placement/", views.placement_add, name="placement_add"),
    path("cases/<str:public_id>/placement/end/", views.placement_end, name="placement_end"),
    path("cases/<str:public_id>/placement/address/", views.placement_address, name="placement_address"),
]
