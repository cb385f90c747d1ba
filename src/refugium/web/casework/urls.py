from django.urls import path

from refugium.web.casework import views

# Mounted at /casework/ (web/urls.py). Every name here is in web/access.py's POLICIES.
app_name = "casework"
urlpatterns = [
    path("", views.home, name="home"),
    path("notices/read/", views.notices_read, name="notices_read"),
    path("new/", views.new, name="new"),
    path("cut-off/", views.cut_off, name="cut_off"),
    path("watchlist/", views.watchlist, name="watchlist"),
    path("watchlist/add/", views.watchlist_add, name="watchlist_add"),
    path("watchlist/check/", views.watchlist_check, name="watchlist_check"),
    path("<str:code>/", views.case, name="case"),
    path("<str:code>/attest/", views.attest, name="attest"),
    path("<str:code>/stage/", views.stage, name="stage"),
    path("<str:code>/flag/", views.flag, name="flag"),
    path("<str:code>/flags/<int:number>/clear/", views.clear, name="clear"),
    path("<str:code>/assign/", views.assign, name="assign"),
    path("<str:code>/unassign/", views.unassign, name="unassign"),
]
