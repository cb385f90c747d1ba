from django.urls import path

from refugium.web.casework import case_parts, views

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
    path("alerts/", case_parts.alerts, name="alerts"),
    path("alerts/<int:number>/acknowledge/", case_parts.alert_acknowledge, name="alert_ack"),
    path("alerts/<int:number>/resolve/", case_parts.alert_resolve, name="alert_resolve"),
    path("partners/", case_parts.partners, name="partners"),
    path("partners/<str:code>/retire/", case_parts.partner_retire, name="partner_retire"),
    path("ledger/", case_parts.ledger_page, name="ledger"),
    path("ledger/costs.csv", case_parts.ledger_csv, name="ledger_csv"),
    path("<str:code>/", views.case, name="case"),
    path("<str:code>/attest/", views.attest, name="attest"),
    path("<str:code>/stage/", views.stage, name="stage"),
    path("<str:code>/flag/", views.flag, name="flag"),
    path("<str:code>/flags/<int:number>/clear/", views.clear, name="clear"),
    path("<str:code>/assign/", views.assign, name="assign"),
    path("<str:code>/unassign/", views.unassign, name="unassign"),
    path("<str:code>/location/fill/", case_parts.location_fill, name="location_fill"),
    path("<str:code>/location/reveal/", case_parts.location_reveal, name="location_reveal"),
    path("<str:code>/location/hand-over/", case_parts.location_handover, name="location_handover"),
    path("<str:code>/checkins/enrol/", case_parts.checkin_enrol, name="checkin_enrol"),
    path("<str:code>/checkins/stop/", case_parts.checkin_stop, name="checkin_stop"),
    path("<str:code>/tasks/add/", case_parts.task_add, name="task_add"),
    path("<str:code>/tasks/<int:number>/done/", case_parts.task_done, name="task_done"),
    path("<str:code>/notes/add/", case_parts.note_add, name="note_add"),
    path("<str:code>/documents/attach/", case_parts.document_attach, name="document_attach"),
    path(
        "<str:code>/documents/<int:number>/detach/",
        case_parts.document_detach,
        name="document_detach",
    ),
    path("<str:code>/costs/add/", case_parts.cost_add, name="cost_add"),
    path("<str:code>/costs/<int:number>/delete/", case_parts.cost_delete, name="cost_delete"),
    path("<str:code>/do-not-disclose/add/", case_parts.dnd_add, name="dnd_add"),
    path(
        "<str:code>/do-not-disclose/<int:number>/remove/",
        case_parts.dnd_remove,
        name="dnd_remove",
    ),
    path("<str:code>/referrals/add/", case_parts.refer, name="refer"),
    path(
        "<str:code>/referrals/<int:number>/revoke/",
        case_parts.referral_revoke,
        name="referral_revoke",
    ),
]
