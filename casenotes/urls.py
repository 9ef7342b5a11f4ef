from django.urls import path

from casenotes import views

app_name = "casenotes"
urlpatterns = [
    path("tasks/", views.my_tasks, name="my_tasks"),
    path("canned/", views.canned, name="canned"),
    path("canned/<int:reply_id>/edit/", views.canned_edit, name="canned_edit"),
    path("canned/<int:reply_id>/delete/", views.canned_delete, name="canned_delete"),
    path("cases/<str:public_id>/notes/", views.note_add, name="note_add"),
    path("cases/<str:public_id>/notes/<uuid:note_id>/edit/", views.note_edit, name="note_edit"),
    path("cases/<str:public_id>/tasks/", views.task_add, name="task_add"),
    path("cases/<str:public_id>/tasks/<uuid:task_id>/edit/", views.task_edit, name="task_edit"),
    path("cases/<str:public_id>/tasks/<uuid:task_id>/done/", views.task_done, name="task_done"),
    path("cases/<str:public_id>/canned/insert/", views.canned_insert, name="canned_insert"),
]
