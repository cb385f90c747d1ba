"""The case page's further parts and the pages beside them (issue 9): the location
compartment, check-ins and their alerts, tasks, notes, documents and costs.

The same rules as ``views`` (whose helpers these views use): ``desk_member("casework")``,
a case the user is not assigned to is the 404 of a missing one, every change is a POST with
the CSRF check followed by a redirect, errors from ``refugium.errors`` come back beside their
field with status 400.

Decisions:

- **The location is shown on the case page**, masked, to every assignee; its values appear
  only for the logistics owner while their reveal lasts (``location.location_view`` decides,
  and audits each revealed read). Every page carries ``Cache-Control: no-store`` (the core
  middleware, and ``never_cache``), so a revealed address stays in no browser cache.
  An assignee who is not the logistics owner trying to fill or reveal gets the service's
  ``NotLogisticsOwner`` message beside the form: they know the case exists, a 404 would
  only confuse them.
- **The check-in code is shown once**, on the page that answers the enrolment POST (status
  200, no redirect): it is in no URL, no session, no message framework, and a reload of the
  page asks the browser to send the form again, which the service refuses (the case has
  check-ins already) rather than making a second code.
- **Alerts** have a page of their own (``/casework/alerts/``), since they concern the
  person's safety now; the home page shows how many are open and links there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refugium.casework import ledger as ledger_rules
from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.access import desk_member
from refugium.web.casework import (
    cases,
    checkin_store,
    ledger,
    location,
    referrals,
    services,
    tasks,
    views,
)
from refugium.web.casework import forms as case_forms
from refugium.web.casework.models import Case, CheckinSchedule, DoNotDisclose

DESK = views.DESK

ANCHORS = {
    "fill": "location",
    "reveal": "location",
    "handover": "location",
    "checkin": "checkins",
    "stop": "checkins",
    "task": "tasks",
    "task_done": "tasks",
    "note": "notes",
    "document": "documents",
    "detach": "documents",
    "cost": "costs",
    "cost_delete": "costs",
    "dnd": "disclosure",
    "dnd_remove": "disclosure",
    "refer": "referrals",
    "revoke": "referrals",
}


# --- The case page's context ----------------------------------------------------------------


def forms_for(ws: services.Workspace, case: Case) -> dict[str, forms.Form]:
    """A fresh form for every part (``views._forms`` adds them to its own)."""
    holder = location.owner(case)
    return {
        "fill": case_forms.LocationFillForm(stages=location.fillable(case.stage)),
        "reveal": case_forms.RevealForm(
            default=location.DEFAULT_REVEAL_MINUTES, most=location.MAX_REVEAL_MINUTES
        ),
        "handover": case_forms.HandOverForm(
            case=case, owner=holder.user.username if holder else None
        ),
        "checkin": case_forms.CheckinEnrolForm(),
        "stop": case_forms.ButtonForm(),
        "task": case_forms.TaskForm(case=case, initial={"owner": ws.actor}),
        "task_done": case_forms.ButtonForm(),
        "note": case_forms.NoteForm(),
        "document": case_forms.DocumentForm(),
        "detach": case_forms.ButtonForm(),
        "cost": case_forms.CostForm(),
        "cost_delete": case_forms.ButtonForm(),
        "dnd": case_forms.DoNotDiscloseForm(),
        "dnd_remove": case_forms.ButtonForm(),
        "refer": case_forms.ReferralForm(
            partners=_partner_choices(ws), initial={"consent_on": timezone.localdate()}
        ),
        "revoke": case_forms.ButtonForm(),
    }


def _partner_choices(ws: services.Workspace) -> list[tuple[str, str]]:
    """Active partners as ``(code, "P-0001 · name")`` (opened with the desk key)."""
    return [(p.code, f"{p.code} · {p.name}") for p in referrals.partners(ws) if p.active]


@sensitive_variables()
def context(ws: services.Workspace, case: Case) -> dict[str, Any]:
    """What the parts' includes read: each service decrypts (and audits) its own part."""
    schedule = CheckinSchedule.objects.filter(case=case, active=True).first()
    return {
        "location": location.location_view(ws, case),
        "reveals": location.reveals(ws, case),
        "mask": location.MASK,
        "checkin": schedule,
        "checkin_every_hours": schedule.every_minutes / 60 if schedule else None,
        "tasks": tasks.tasks_of(ws, case),
        "notes": tasks.notes_of(ws, case),
        "documents": tasks.documents_of(ws, case),
        "costs": ledger.costs_of(ws, case),
        # (entry, who they are in words)
        "disclosure": [
            (e, DoNotDisclose.Kind(e.kind).label) for e in referrals.do_not_disclose(ws, case)
        ],
        # (number, referral, how the person consented): the revoke form's address takes the
        # referral's number (its code is ``R-0005``).
        "referrals": [
            (
                int(r.code.rsplit("-", 1)[1]),
                r,
                case_forms.CONSENT_LABELS.get(r.consent.how, r.consent.how),
            )
            for r in referrals.referrals_of(ws, case)
        ],
    }


# --- Running a part's form ------------------------------------------------------------------


def _owner_only(action: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """``NotLogisticsOwner`` is a refusal the assignee should read, beside the form."""

    def run(data: dict[str, Any]) -> Any:
        try:
            return action(data)
        except location.NotLogisticsOwner as error:
            raise BadInput(error.message) from None

    return run


def _act(
    request: HttpRequest,
    code: str,
    name: str,
    make: Callable[[services.Workspace, Case], forms.Form],
    action: Callable[[services.Workspace, Case, dict[str, Any]], Any],
) -> HttpResponse:
    ws = views._ws(request)
    row = views._case(ws, code)
    return views._act(request, ws, row, name, make(ws, row), lambda d: action(ws, row, d))


def _plain(request: HttpRequest) -> Callable[[services.Workspace, Case], forms.Form]:
    return lambda ws, row: case_forms.ButtonForm(request.POST)


# --- Location -------------------------------------------------------------------------------


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
def location_fill(request: HttpRequest, code: str) -> HttpResponse:
    def make(ws: services.Workspace, row: Case) -> forms.Form:
        return case_forms.LocationFillForm(request.POST, stages=location.fillable(row.stage))

    @sensitive_variables("data")
    def act(ws: services.Workspace, row: Case, data: dict[str, Any]) -> Any:
        values = {k: data[k] for k in ("region", *location.FIELDS)}
        return _owner_only(lambda d: location.fill(ws, row, d["stage"], **values))(data)

    return _act(request, code, "fill", make, act)


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
def location_reveal(request: HttpRequest, code: str) -> HttpResponse:
    def make(ws: services.Workspace, row: Case) -> forms.Form:
        return case_forms.RevealForm(
            request.POST, default=location.DEFAULT_REVEAL_MINUTES, most=location.MAX_REVEAL_MINUTES
        )

    def act(ws: services.Workspace, row: Case, data: dict[str, Any]) -> Any:
        def reveal(d: dict[str, Any]) -> Any:
            try:
                return location.reveal(ws, row, d["reason"], d["minutes"])
            except NotFound as error:  # assigned (checked above): no compartment to reveal
                raise BadInput(error.message) from None

        return _owner_only(reveal)(data)

    return _act(request, code, "reveal", make, act)


@never_cache
@desk_member(DESK)
@require_POST
def location_handover(request: HttpRequest, code: str) -> HttpResponse:
    def make(ws: services.Workspace, row: Case) -> forms.Form:
        holder = location.owner(row)
        return case_forms.HandOverForm(
            request.POST, case=row, owner=holder.user.username if holder else None
        )

    def act(ws: services.Workspace, row: Case, data: dict[str, Any]) -> Any:
        target = views._user(data["user"])
        return _owner_only(lambda d: location.hand_over(ws, row, target))(data)

    return _act(request, code, "handover", make, act)


# --- Check-ins ------------------------------------------------------------------------------


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
@sensitive_variables("form", "enrolled")
def checkin_enrol(request: HttpRequest, code: str) -> HttpResponse:
    """Enrols the case's person and shows the code once, on this response only."""
    ws = views._ws(request)
    row = views._case(ws, code)
    form = case_forms.CheckinEnrolForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            enrolled = checkin_store.enrol(
                ws,
                row,
                timedelta(hours=data["every"]),
                timedelta(minutes=data["grace"]),
                data["normal_answer"],
                data["duress_answer"],
            )
        except NotFound:
            raise Http404 from None
        except (BadInput, Conflict) as error:
            case_forms.add_service_error(form, error, form.ERRORS)
        else:
            return render(
                request,
                "casework/checkin_enrolled.html",
                {
                    "code": row.code,
                    "checkin_code": enrolled.code,
                    "every": data["every"],
                    "grace": data["grace"],
                    **views._nav(ws),
                },
            )
    return views._case_page(request, ws, row, given={"checkin": form}, status=400)


@never_cache
@desk_member(DESK)
@require_POST
def checkin_stop(request: HttpRequest, code: str) -> HttpResponse:
    return _act(
        request, code, "stop", _plain(request), lambda ws, row, d: checkin_store.stop(ws, row)
    )


def _alerts_page(
    request: HttpRequest, ws: services.Workspace, *, error: str = "", status: int = 200
) -> HttpResponse:
    rows = checkin_store.open_alerts(ws)
    return render(
        request,
        "casework/alerts.html",
        {
            "alerts": [
                {
                    "alert": alert,
                    "code": alert.schedule.case.code,
                    "acknowledged_by": alert.acknowledged_by.username
                    if alert.acknowledged_by
                    else "",
                }
                for alert in rows
            ],
            "error": error,
            **views._nav(ws),
        },
        status=status,
    )


@never_cache
@desk_member(DESK)
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    """The open check-in alerts the user may act on (plaintext columns only)."""
    return _alerts_page(request, views._ws(request))


def _alert_step(request: HttpRequest, number: int, step: Callable[..., Any]) -> HttpResponse:
    ws = views._ws(request)
    try:
        step(ws, number)
    except NotFound:
        raise Http404 from None
    except (BadInput, Conflict) as error:
        return _alerts_page(request, ws, error=error.message, status=400)
    return redirect("casework:alerts")


@never_cache
@desk_member(DESK)
@require_POST
def alert_acknowledge(request: HttpRequest, number: int) -> HttpResponse:
    return _alert_step(request, number, checkin_store.acknowledge)


@never_cache
@desk_member(DESK)
@require_POST
def alert_resolve(request: HttpRequest, number: int) -> HttpResponse:
    return _alert_step(request, number, checkin_store.resolve)


def open_alert_count(ws: services.Workspace) -> int:
    return len(checkin_store.open_alerts(ws))


# --- Tasks, notes, documents, costs ---------------------------------------------------------


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
def task_add(request: HttpRequest, code: str) -> HttpResponse:
    def act(ws: services.Workspace, row: Case, d: dict[str, Any]) -> Any:
        return tasks.add_task(
            ws, row, d["title"], due_on=d["due_on"], details=d["details"], owner=d["owner"]
        )

    return _act(
        request, code, "task", lambda ws, row: case_forms.TaskForm(request.POST, case=row), act
    )


@never_cache
@desk_member(DESK)
@require_POST
def task_done(request: HttpRequest, code: str, number: int) -> HttpResponse:
    return _act(
        request,
        code,
        "task_done",
        _plain(request),
        lambda ws, row, d: tasks.complete_task(ws, row, number),
    )


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
def note_add(request: HttpRequest, code: str) -> HttpResponse:
    return _act(
        request,
        code,
        "note",
        lambda ws, row: case_forms.NoteForm(request.POST),
        lambda ws, row, d: tasks.add_note(ws, row, d["text"]),
    )


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
def document_attach(request: HttpRequest, code: str) -> HttpResponse:
    def act(ws: services.Workspace, row: Case, d: dict[str, Any]) -> Any:
        cases._held(ws, row)  # not assigned: the 404, before any vault look-up
        try:
            return tasks.attach_document(ws, row, d["item"], label=d["label"])
        except NotFound as error:  # the item, not the case
            raise BadInput(error.message) from None

    return _act(
        request, code, "document", lambda ws, row: case_forms.DocumentForm(request.POST), act
    )


@never_cache
@desk_member(DESK)
@require_POST
def document_detach(request: HttpRequest, code: str, number: int) -> HttpResponse:
    return _act(
        request,
        code,
        "detach",
        _plain(request),
        lambda ws, row, d: tasks.detach_document(ws, row, number),
    )


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
def cost_add(request: HttpRequest, code: str) -> HttpResponse:
    def act(ws: services.Workspace, row: Case, d: dict[str, Any]) -> Any:
        currency = ledger_rules.currency(d["currency"])
        return ledger.add_cost(
            ws,
            row,
            spent_on=d["spent_on"],
            category=d["category"],
            amount=ledger_rules.parse_amount(d["amount"], currency),
            currency=currency,
            description=d["description"],
        )

    return _act(request, code, "cost", lambda ws, row: case_forms.CostForm(request.POST), act)


@never_cache
@desk_member(DESK)
@require_POST
def cost_delete(request: HttpRequest, code: str, number: int) -> HttpResponse:
    return _act(
        request,
        code,
        "cost_delete",
        _plain(request),
        lambda ws, row, d: ledger.delete_cost(ws, row, number),
    )


# --- Do-not-disclose and referrals ----------------------------------------------------------


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
def dnd_add(request: HttpRequest, code: str) -> HttpResponse:
    @sensitive_variables("d")
    def act(ws: services.Workspace, row: Case, d: dict[str, Any]) -> Any:
        return referrals.add_do_not_disclose(
            ws, row, d["kind"], name=d["name"], contacts=form.contact_lines(), note=d["note"]
        )

    form = case_forms.DoNotDiscloseForm(request.POST)
    return _act(request, code, "dnd", lambda ws, row: form, act)


@never_cache
@desk_member(DESK)
@require_POST
def dnd_remove(request: HttpRequest, code: str, number: int) -> HttpResponse:
    return _act(
        request,
        code,
        "dnd_remove",
        _plain(request),
        lambda ws, row, d: referrals.remove_do_not_disclose(ws, row, number),
    )


def _partner(ws: services.Workspace, code: str) -> Any:
    """Raises:
    BadInput: no such partner (a form error: the case itself was found).
    """
    try:
        return referrals.get_partner(ws, code)
    except NotFound as error:
        raise BadInput(error.message) from None


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
@sensitive_variables("made", "link")
def refer(request: HttpRequest, code: str) -> HttpResponse:
    """Refers the case; the one-time token and link are shown once, on this response."""
    ws = views._ws(request)
    row = views._case(ws, code)
    form = case_forms.ReferralForm(request.POST, partners=_partner_choices(ws))
    if form.is_valid():
        d = form.cleaned_data
        try:
            partner = _partner(ws, d["partner"])
            made = referrals.refer(
                ws,
                row,
                partner,
                d["share"],
                consent=referrals.Consent(
                    how=d["consent_how"], on=d["consent_on"], note=d["consent_note"]
                ),
                expires_on=d["expires_on"],
                contact=d["contact"] - 1,
            )
        except NotFound:
            raise Http404 from None
        except (BadInput, Conflict) as error:
            case_forms.add_service_error(form, error, form.ERRORS)
        else:
            link = request.build_absolute_uri(reverse("referrals:fetch", args=[made.token]))
            return render(
                request,
                "casework/referral_made.html",
                {
                    "code": row.code,
                    "referral": made.referral.code,
                    "partner": partner.code,
                    "expires_on": made.referral.expires_on,
                    "token": made.token,
                    "link": link,
                    **views._nav(ws),
                },
            )
    return views._case_page(request, ws, row, given={"refer": form}, status=400)


@never_cache
@desk_member(DESK)
@require_POST
def referral_revoke(request: HttpRequest, code: str, number: int) -> HttpResponse:
    return _act(
        request,
        code,
        "revoke",
        _plain(request),
        lambda ws, row, d: referrals.revoke_referral(ws, row, number),
    )


# --- Coordinators' pages: partners and the ledger -------------------------------------------


def _partners_page(
    request: HttpRequest,
    ws: services.Workspace,
    *,
    form: forms.Form | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "casework/partners.html",
        {
            "partners": referrals.partners(ws),
            "form": form or case_forms.PartnerForm(),
            "error": error,
            **views._nav(ws),
        },
        status=status,
    )


@never_cache
@desk_member(DESK)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
@sensitive_variables("form")
def partners(request: HttpRequest) -> HttpResponse:
    """The partner organisations: listed for a coordinator, who adds them here."""
    ws = views._coordinator(request)
    if request.method != "POST":
        return _partners_page(request, ws)
    form = case_forms.PartnerForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            referrals.add_partner(ws, d["name"], d["recipient"], contacts=form.contact_lines())
        except (BadInput, services.NoAccess) as error:
            case_forms.add_service_error(form, error, form.ERRORS)
        else:
            return redirect("casework:partners")
    return _partners_page(request, ws, form=form, status=400)


@never_cache
@desk_member(DESK)
@require_POST
def partner_retire(request: HttpRequest, code: str) -> HttpResponse:
    ws = views._coordinator(request)
    try:
        referrals.retire_partner(ws, referrals.get_partner(ws, code))
    except NotFound:
        raise Http404 from None
    except services.NoAccess as error:
        return _partners_page(request, ws, error=error.message, status=400)
    return redirect("casework:partners")


def _year(request: HttpRequest) -> tuple[case_forms.LedgerForm, int | None]:
    form = case_forms.LedgerForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["year"]
    return form, None


@never_cache
@desk_member(DESK)
@require_GET
def ledger_page(request: HttpRequest) -> HttpResponse:
    """The desk's costs by month, currency and category (plaintext columns only)."""
    ws = views._coordinator(request)
    form, year = _year(request)
    status = 400 if form.is_bound and not form.is_valid() else 200
    rows = ledger.with_totals(ledger.report(ws, year)) if status == 200 else []
    query = f"?year={year}" if year else ""
    return render(
        request,
        "casework/ledger.html",
        {"form": form, "rows": rows, "year": year, "query": query, **views._nav(ws)},
        status=status,
    )


@never_cache
@desk_member(DESK)
@require_GET
def ledger_csv(request: HttpRequest) -> HttpResponse:
    """The same totals as a CSV download, for a grant report."""
    ws = views._coordinator(request)
    form, year = _year(request)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "casework/ledger.html",
            {"form": form, "rows": [], "year": None, "query": "", **views._nav(ws)},
            status=400,
        )
    response = HttpResponse(ledger.report_csv(ws, year), content_type="text/csv")
    name = f"casework-costs-{year or 'all'}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
