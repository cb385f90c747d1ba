"""Caseworkers' pages of the casework desk (issue 9): their cases and notices, opening a case
(by hand or from an intake submission), a case's page with its flags, attestations, stages
and assignees, cutting off a detained caseworker, and the provocation watchlist.

Rules, as the records' pages keep them:

- Every view is ``desk_member("casework")`` (web/access.py): everyone else signed in gets
  the project's 404. Within the desk, a case the user is not assigned to gives exactly the
  404 of a case that does not exist (``cases`` raises the same ``NotFound`` for both, and
  both become ``Http404``), so a colleague learns nothing of cases they do not work on.
- Pages work without JavaScript; every change is a POST with Django's CSRF check followed
  by a redirect (a reload repeats nothing); every page is ``never_cache``.
- Errors from ``refugium.errors`` become form errors beside their field, and the page comes
  back with status 400: never an error page. A closed verification gate shows its message.
- The case page is a list of small includes (``CASE_SECTIONS``): a new part of a case (a
  location compartment, check-ins, referrals, tasks) is one more template and one more
  entry, with its forms in ``forms``.
- Reading a case opens its key and is audited (``casework.case_view``); lists show only
  plaintext columns (codes, stages, risks, needs, counts) and open nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refugium.casework.verification import checklist, gate
from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.access import desk_member
from refugium.web.casework import cases, notices, services
from refugium.web.casework import forms as case_forms
from refugium.web.casework.models import Assignment, Case, Flag

DESK = services.CASEWORK_DESK

CASE_SECTIONS = [
    "casework/case/_summary.html",
    "casework/case/_flags.html",
    "casework/case/_verification.html",
    "casework/case/_stage.html",
    "casework/case/_assignees.html",
    # Location, check-ins, tasks, notes, documents, costs, do-not-disclose, referrals: their
    # views, forms and context are in ``case_parts``.
    "casework/case/_location.html",
    "casework/case/_checkins.html",
    "casework/case/_tasks.html",
    "casework/case/_notes.html",
    "casework/case/_documents.html",
    "casework/case/_costs.html",
    "casework/case/_disclosure.html",
    "casework/case/_referrals.html",
]
"""The case page, top to bottom: one include each, reading ``view`` and ``forms``."""
ANCHORS = {"clear": "flags", "assign": "assignees", "unassign": "assignees"}
"""Where the page opens after a form was sent, when not at the form's own id."""


@sensitive_variables()
def _ws(request: HttpRequest) -> services.Workspace:
    try:
        return services.workspace(request.user, getattr(request, "keyring", None))
    except (services.NoAccess, NotFound):
        raise Http404 from None


def _case(ws: services.Workspace, code: str) -> Case:
    try:
        return cases.get_case(ws, code)
    except NotFound:
        raise Http404 from None


def _user(name: str) -> User:
    found = User.objects.filter(username=name).first()
    if found is None:
        raise Http404
    return found


def _nav(ws: services.Workspace) -> dict[str, Any]:
    return {"coordinator": cases.is_coordinator(ws.user)}


def case_url(code: str) -> str:
    return reverse("casework:case", args=[code])


# --- Home -----------------------------------------------------------------------------------


def _home(
    request: HttpRequest, ws: services.Workspace, *, error: str = "", status: int = 200
) -> HttpResponse:
    mine = (
        Case.objects.filter(desk=ws.desk, assignments__user=ws.user)
        .annotate(open_flags=Count("flags", filter=Q(flags__cleared_on=None), distinct=True))
        .order_by("-id")
    )
    rows = [
        {
            "code": case.code,
            "stage": case_forms.STAGE_LABELS.get(case.stage, case.stage),
            "risk": case.get_risk_display(),
            "needs": ", ".join(str(case_forms.NEED_LABELS[n]) for n in case.needs.split(",") if n),
            "open_flags": case.open_flags,
        }
        for case in mine
    ]
    from refugium.web.casework import case_parts, tasks

    return render(
        request,
        "casework/home.html",
        {
            "cases": rows,
            "notices": notices.unread(ws.user),
            "error": error,
            "open_alerts": case_parts.open_alert_count(ws),
            "my_tasks": tasks.my_tasks(ws),
            **_nav(ws),
        },
        status=status,
    )


@never_cache
@desk_member(DESK)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The user's cases (plaintext columns only: nothing is decrypted) and unread notices."""
    return _home(request, _ws(request))


@never_cache
@desk_member(DESK)
@require_POST
def notices_read(request: HttpRequest) -> HttpResponse:
    ws = _ws(request)
    numbers = [int(n) for n in request.POST.getlist("notice") if n.isdigit() and len(n) < 12]
    if not numbers:
        return _home(request, ws, error=str(_("No notice was chosen.")), status=400)
    notices.mark_read(ws.user, numbers)
    return redirect("casework:home")


# --- Opening a case -------------------------------------------------------------------------


def _submission(code: str) -> Any:
    """The intake submission by its code (the case only links to it: no intake key needed).

    Raises:
        BadInput: no such submission.
    """
    from refugium.web.intake.models import Submission

    if not code:
        return None
    found = Submission.objects.filter(code=code.strip().lower()).first()
    if found is None:
        raise BadInput(f"no submission {code.strip()[:20]!r}")
    return found


def _new_page(
    request: HttpRequest, ws: services.Workspace, form: forms.Form, status: int = 200
) -> HttpResponse:
    return render(request, "casework/new.html", {"form": form, **_nav(ws)}, status=status)


@sensitive_variables("form", "contacts", "channel")
def _open_from_form(
    request: HttpRequest, ws: services.Workspace, form: case_forms.NewCaseForm
) -> HttpResponse:
    if not form.is_valid():
        return _new_page(request, ws, form, status=400)
    data = form.cleaned_data
    try:
        submission = _submission(data["submission"])
        contacts = form.contact_lines()
        channel = data["channel"].strip() or None
        if channel is None and submission is not None:
            channel = f"intake:{submission.code}"
        if channel is None and contacts:
            channel = contacts[0][0]
        opened = cases.open_case(
            ws,
            risk=data["risk"],
            needs=data["needs"],
            contacts=contacts,
            submission=submission,
            channel=channel,
            name=data["name"],
            notes=data["notes"],
        )
    except BadInput as error:
        case_forms.add_service_error(form, error, form.ERRORS)
        return _new_page(request, ws, form, status=400)
    return redirect(case_url(opened.case.code) + "?opened=1")


@never_cache
@desk_member(DESK)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def new(request: HttpRequest) -> HttpResponse:
    """A new case, assigned to the user; ``?submission=CODE`` fills in the submission."""
    ws = _ws(request)
    if request.method == "POST":
        return _open_from_form(request, ws, case_forms.NewCaseForm(request.POST))
    initial = {"submission": request.GET.get("submission", "")[:20]}
    return _new_page(request, ws, case_forms.NewCaseForm(initial=initial))


# --- A case ---------------------------------------------------------------------------------


def _forms(ws: services.Workspace, case: Case, given: dict[str, forms.Form]) -> dict[str, Any]:
    """Every form of the case page: the one that was sent (with its errors) or a fresh one."""
    made: dict[str, Any] = {
        "attest": case_forms.AttestationForm(),
        "stage": case_forms.StageForm(current=case.stage),
        "flag": case_forms.FlagForm(),
        "assign": case_forms.AssignForm(case=case, desk=ws.desk),
        "unassign": case_forms.UnassignForm(case=case),
        "clear": case_forms.ClearForm(),
    }
    from refugium.web.casework import case_parts

    made.update(case_parts.forms_for(ws, case))
    made.update(given)
    return made


def _gate(view: cases.CaseView) -> Any:
    """Where the case stands at the verification gate (for the first gated stage)."""
    target = "safe" if "safe" in checklist().stages else sorted(checklist().stages)[0]
    return gate(
        target,
        view.attestations,
        open_flags=sum(not flag.cleared for flag in view.flags),
        request_channel=view.channel,
    )


@sensitive_variables("view", "parts")
def _case_page(
    request: HttpRequest,
    ws: services.Workspace,
    case: Case,
    *,
    given: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        view = cases.open_case_view(ws, case)
    except NotFound:
        raise Http404 from None
    case.refresh_from_db()
    raisers = dict(Flag.objects.filter(case=case).values_list("pk", "raised_by__username"))
    flags = [
        {
            "flag": flag,
            "raised_by": raisers.get(flag.number) or "",
            "mine": raisers.get(flag.number) == ws.actor,
        }
        for flag in view.flags
    ]
    labels = {s.id: s.en for s in checklist().signals}
    from refugium.web.casework import case_parts

    parts = case_parts.context(ws, case)
    return render(
        request,
        "casework/case.html",
        {
            "view": view,
            "sections": CASE_SECTIONS,
            "forms": _forms(ws, case, given or {}),
            "flags": flags,
            "watchlist_flags": [f for f in view.flags if f.source == Flag.Source.WATCHLIST],
            "opened": request.GET.get("opened") == "1",
            "gate": _gate(view),
            "attestations": [(labels.get(a.signal, a.signal), a) for a in view.attestations],
            "stage_label": case_forms.STAGE_LABELS.get(view.stage, view.stage),
            "risk_label": Case.Risk(view.risk).label,
            "need_labels": [case_forms.NEED_LABELS[n] for n in view.needs],
            **parts,
            **_nav(ws),
        },
        status=status,
    )


@never_cache
@desk_member(DESK)
@require_GET
def case(request: HttpRequest, code: str) -> HttpResponse:
    """The case decrypted for an assignee (an audited read); 404 for anyone else."""
    ws = _ws(request)
    return _case_page(request, ws, _case(ws, code))


def _act(
    request: HttpRequest,
    ws: services.Workspace,
    case: Case,
    name: str,
    form: forms.Form,
    action: Any,
) -> HttpResponse:
    """Runs ``action(cleaned_data)`` for a valid form and goes back to the case page; an
    invalid form or a service's ``BadInput``/``Conflict`` shows the page again with the
    error beside the form (400); ``NotFound`` (not assigned) is the 404 of a missing case."""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except NotFound:
            raise Http404 from None
        except (BadInput, Conflict) as error:
            case_forms.add_service_error(form, error, getattr(form, "ERRORS", {}))  # type: ignore[arg-type]
        else:
            if Assignment.objects.filter(case=case, user=ws.user).exists():
                from refugium.web.casework.case_parts import ANCHORS as PARTS

                anchor = ANCHORS.get(name) or PARTS.get(name, name)
                return redirect(case_url(case.code) + f"#{anchor}")
            return redirect("casework:home")
    return _case_page(request, ws, case, given={name: form}, status=400)


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
def attest(request: HttpRequest, code: str) -> HttpResponse:
    ws = _ws(request)
    row = _case(ws, code)
    form = case_forms.AttestationForm(request.POST)
    return _act(
        request,
        ws,
        row,
        "attest",
        form,
        lambda d: cases.record_attestation(ws, row, d["signal"], d["channel"], note=d["note"]),
    )


@never_cache
@desk_member(DESK)
@require_POST
def stage(request: HttpRequest, code: str) -> HttpResponse:
    ws = _ws(request)
    row = _case(ws, code)
    form = case_forms.StageForm(request.POST, current=row.stage)
    return _act(request, ws, row, "stage", form, lambda d: cases.move_stage(ws, row, d["stage"]))


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
def flag(request: HttpRequest, code: str) -> HttpResponse:
    ws = _ws(request)
    row = _case(ws, code)
    form = case_forms.FlagForm(request.POST)
    return _act(
        request, ws, row, "flag", form, lambda d: cases.raise_flag(ws, row, d["reason"], d["note"])
    )


@never_cache
@desk_member(DESK)
@require_POST
def clear(request: HttpRequest, code: str, number: int) -> HttpResponse:
    ws = _ws(request)
    row = _case(ws, code)
    form = case_forms.ClearForm(request.POST)
    return _act(request, ws, row, "clear", form, lambda d: cases.clear_flag(ws, row, number))


@never_cache
@desk_member(DESK)
@require_POST
def assign(request: HttpRequest, code: str) -> HttpResponse:
    ws = _ws(request)
    row = _case(ws, code)
    form = case_forms.AssignForm(request.POST, case=row, desk=ws.desk)
    return _act(
        request,
        ws,
        row,
        "assign",
        form,
        lambda d: cases.assign(ws, row, _user(d["user"]), role=d["role"]),
    )


@never_cache
@desk_member(DESK)
@require_POST
def unassign(request: HttpRequest, code: str) -> HttpResponse:
    ws = _ws(request)
    row = _case(ws, code)
    form = case_forms.UnassignForm(request.POST, case=row)
    return _act(
        request, ws, row, "unassign", form, lambda d: cases.unassign(ws, row, _user(d["user"]))
    )


# --- Cutting off a caseworker ---------------------------------------------------------------


def _coordinator(request: HttpRequest) -> services.Workspace:
    """The workspace of a coordinator; anyone else gets the 404 (as for a desk they are not
    on: the page is no business of theirs)."""
    ws = _ws(request)
    if not cases.is_coordinator(ws.user):
        raise Http404
    return ws


@never_cache
@desk_member(DESK)
@require_http_methods(["GET", "POST"])
def cut_off(request: HttpRequest) -> HttpResponse:
    """Two steps: choose the caseworker, then confirm on a page that lists what will happen
    (their cases by code). Only the second POST, with ``confirm``, changes anything."""
    ws = _coordinator(request)
    if request.method != "POST":
        form = case_forms.CutOffForm(desk=ws.desk, actor=ws.user)
        return render(request, "casework/cut_off.html", {"form": form, **_nav(ws)})
    form = case_forms.CutOffForm(request.POST, desk=ws.desk, actor=ws.user)
    if not form.is_valid():
        return render(request, "casework/cut_off.html", {"form": form, **_nav(ws)}, status=400)
    target = _user(form.cleaned_data["user"])
    if not form.cleaned_data["confirm"]:
        affected = Case.objects.filter(assignments__user=target).order_by("pk").distinct()
        return render(
            request,
            "casework/cut_off_confirm.html",
            {"target": target.username, "cases": [c.code for c in affected], **_nav(ws)},
        )
    try:
        result = cases.cut_off(ws, target)
    except BadInput as error:
        case_forms.add_service_error(form, error, form.ERRORS)
        return render(request, "casework/cut_off.html", {"form": form, **_nav(ws)}, status=400)
    return render(
        request,
        "casework/cut_off_done.html",
        {"target": target.username, "result": result, **_nav(ws)},
    )


# --- The watchlist --------------------------------------------------------------------------


def _watchlist_page(
    request: HttpRequest, ws: services.Workspace, status: int = 200, **context: Any
) -> HttpResponse:
    values = {
        "add_form": case_forms.WatchlistAddForm(),
        "check_form": case_forms.WatchlistCheckForm(),
        "size": services.watchlist_size(ws.desk),
        **_nav(ws),
        **context,
    }
    return render(request, "casework/watchlist.html", values, status=status)


@never_cache
@desk_member(DESK)
@require_GET
def watchlist(request: HttpRequest) -> HttpResponse:
    ws = _ws(request)
    added = request.GET.get("added", "")
    listed = request.GET.get("listed", "")
    return _watchlist_page(
        request,
        ws,
        added=added if added.isdigit() else "",
        listed=listed if listed.isdigit() else "",
    )


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
@sensitive_variables("form")
def watchlist_add(request: HttpRequest) -> HttpResponse:
    ws = _ws(request)
    form = case_forms.WatchlistAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry, created = services.add_to_watchlist(
                ws, data["identifier"], data["kind"] or None, data["reason"]
            )
        except BadInput as error:
            case_forms.add_service_error(form, error, form.ERRORS)
        else:
            which = "added" if created else "listed"
            return redirect(reverse("casework:watchlist") + f"?{which}={entry.pk}")
    return _watchlist_page(request, ws, status=400, add_form=form)


@never_cache
@desk_member(DESK)
@require_POST
@sensitive_post_parameters()
@sensitive_variables("form", "matches")
def watchlist_check(request: HttpRequest) -> HttpResponse:
    """The reasons a contact matches (each match audited), shown on the page: a POST, so the
    contact stays out of URLs and logs."""
    ws = _ws(request)
    form = case_forms.WatchlistCheckForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            matches = services.check_contacts(ws, [(data["identifier"], data["kind"] or None)])
        except BadInput as error:
            case_forms.add_service_error(form, error, form.ERRORS)
        else:
            reasons = [line for m in matches for line in m.reason.splitlines()]
            return _watchlist_page(request, ws, check_form=form, checked=True, reasons=reasons)
    return _watchlist_page(request, ws, status=400, check_form=form)
