from django.urls import path

from refugium.web.evidence import views

# Mounted at /evidence/ (web/urls.py). Every name here is in web/access.py's POLICIES.
app_name = "evidence"
urlpatterns = [
    path("", views.item_list, name="list"),
    path("<str:code>/", views.item, name="item"),
    path("<str:code>/download/", views.download, name="download"),
    path("<str:code>/attach/", views.attach, name="attach"),
    path("<str:code>/detach/", views.detach, name="detach"),
]
