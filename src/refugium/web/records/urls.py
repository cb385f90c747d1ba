from django.urls import path

from refugium.web.records import views

# Mounted at /records/ (web/urls.py). Every name here is in web/access.py's POLICIES.
app_name = "records"
urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:slug>/", views.record_list, name="list"),
    path("<slug:slug>/new/", views.create, name="create"),
    path("<slug:slug>/<str:code>/", views.detail, name="detail"),
    path("<slug:slug>/<str:code>/identity/", views.identity, name="identity"),
    path("<slug:slug>/<str:code>/edit/", views.edit, name="edit"),
    path("<slug:slug>/<str:code>/history/", views.history, name="history"),
    path("<slug:slug>/<str:code>/timeline/", views.record_timeline, name="timeline"),
]
