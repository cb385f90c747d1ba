from django.urls import path

from refugium.web.matches import views

# Mounted at /duplicates/ (web/urls.py). Every name here is in web/access.py's POLICIES.
app_name = "matches"
urlpatterns = [
    path("", views.match_list, name="list"),
    path("find/", views.find, name="find"),
    path("<int:number>/", views.pair, name="pair"),
    path("<int:number>/confirm/", views.confirm, name="confirm"),
    path("<int:number>/reject/", views.reject, name="reject"),
]
