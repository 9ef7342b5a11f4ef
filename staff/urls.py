from django.urls import path

from staff import views

app_name = "accounts"
urlpatterns = [
    path("signup/<str:token>/", views.signup, name="signup"),
    path("enrol/totp/", views.enrol_totp, name="enrol_totp"),
    path("enrol/recovery/", views.recovery, name="recovery"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("staff/", views.staff_list, name="staff"),
    path("account/", views.account, name="account"),
    path("account/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("account/sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
]
