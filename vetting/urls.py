from django.urls import path

from vetting import views

app_name = "vetting"
urlpatterns = [
    path("sensitive/", views.sensitive_items, name="sensitive_items"),
    path("sensitive/share/", views.sensitive_items_share, name="sensitive_share"),
    path("sensitive/<int:item_id>/delete/", views.sensitive_item_delete, name="sensitive_delete"),
    path("red-flags/", views.red_flags, name="red_flags"),
    path("red-flags/<int:flag_id>/delete/", views.red_flag_delete, name="red_flag_delete"),
    path("cases/<str:public_id>/vetting/check/", views.check_tick, name="check_tick"),
    path("cases/<str:public_id>/vetting/sign-off/", views.sign_off, name="sign_off"),
    path(
        "cases/<str:public_id>/vetting/sign-off/<int:sign_off_id>/withdraw/",
        views.sign_off_withdraw,
        name="sign_off_withdraw",
    ),
    path("cases/<str:public_id>/sensitive/", views.sensitive_choose, name="sensitive_choose"),
    path("cases/<str:public_id>/sensitive/insert/", views.sensitive_insert, name="sensitive_insert"),
]
