from django.urls import path

from refugium.web.estimates import views

# Mounted at /estimates/ (web/urls.py). Every name here is in web/access.py's POLICIES.
app_name = "estimates"
urlpatterns = [
    path("", views.home, name="home"),
    path("table/", views.table, name="table"),
]
