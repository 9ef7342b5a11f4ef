from django.urls import path

from casework import team_views, views

app_name = "casework"
urlpatterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    path("all-cases/", views.cases_all, name="cases_all"),
    path("team-cases/", team_views.cases_in_scope, name="cases_in_scope"),
    path("teams/", team_views.team_list, name="teams"),
    path("teams/<int:team_id>/", team_views.team_detail, name="team"),
    path("teams/<int:team_id>/members/", team_views.team_member_add, name="team_member_add"),
    path(
        "teams/<int:team_id>/members/<int:member_id>/remove/", team_views.team_member_remove, name="team_member_remove"
    ),
    path("teams/<int:team_id>/cases/", team_views.team_case_assign, name="team_case_assign"),
    path("pending-keys/", team_views.pending_keys, name="pending_keys"),
    path("staff/<int:member_id>/disable/", views.staff_disable, name="staff_disable"),
    path("cases/<str:public_id>/", views.case_detail, name="case"),
    path("cases/<str:public_id>/reply/", views.case_reply, name="reply"),
    path("cases/<str:public_id>/decoy-reply/", views.decoy_reply, name="decoy_reply"),
    path("cases/<str:public_id>/read/", views.case_mark_read, name="mark_read"),
    path("cases/<str:public_id>/members/", views.case_member_add, name="member_add"),
    path("cases/<str:public_id>/members/<int:member_id>/remove/", views.case_member_remove, name="member_remove"),
    path("cases/<str:public_id>/flags/", views.case_flags, name="flags"),
    path("cases/<str:public_id>/codename/burn/", views.codename_burn, name="codename_burn"),
    path("cases/<str:public_id>/duress/clear/", views.case_duress_clear, name="duress_clear"),
    path("cases/<str:public_id>/messages/<uuid:message_id>/release/", views.message_release, name="message_release"),
    path("cases/<str:public_id>/files/<uuid:attachment_id>/", views.case_attachment, name="attachment"),
    path(
        "cases/<str:public_id>/files/<uuid:attachment_id>/original/",
        views.case_attachment_original,
        name="attachment_original",
    ),
]
