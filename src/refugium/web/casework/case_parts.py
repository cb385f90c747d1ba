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
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from refugium.casework import ledger as ledger_rules
from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.access import desk_member
from refugium.web.casework import cases, checkin_store, ledger, location, services, tasks, views
from refugium.web.casework import forms as case_forms
from refugium.web.casework.models import Case, CheckinSchedule

DESK = views.DESK

SECTIONS = [
    "casework/case/_location.html",
    "casework/case/_checkins.html",
    "casework/case/_tasks.html",
    "casework/case/_notes.html",
    "casework/case/_documents.html",
    "casework/case/_costs.html",
]
"""Appended to ``views.CASE_SECTIONS``: below the stage and the assignees."""
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
        "stop": case_forms.StopForm(),
        "task": case_forms.TaskForm(case=case, initial={"owner": ws.actor}),
        "task_done": case_forms.StopForm(),
        "note": case_forms.NoteForm(),
        "document": case_forms.DocumentForm(),
        "detach": case_forms.StopForm(),
        "cost": case_forms.CostForm(),
        "cost_delete": case_forms.StopForm(),
    }


@sensitive_variables("shown")
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
    return lambda ws, row: case_forms.StopForm(request.POST)


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
