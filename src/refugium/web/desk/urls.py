from django.urls import path

from refugium.web.desk import views

# Mounted at /desk/inbox/ (web/urls.py). Every name here is in web/access.py's POLICIES.
app_name = "desk"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<str:code>/", views.submission, name="submission"),
    path("<str:code>/files/<str:stored_name>/", views.download, name="download"),
    path("<str:code>/reply/", views.reply, name="reply"),
    path("<str:code>/status/", views.status, name="status"),
    path("<str:code>/delete/", views.delete, name="delete"),
    path("<str:code>/promote/", views.promote, name="promote"),
]
