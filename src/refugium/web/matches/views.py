"""Researchers' pages for possible duplicate Persons: the open pairs, a search for more, one
pair's identities side by side, and the decision.

Every view is ``desk_member("documentation")``, like the records pages: everyone else signed
in gets the project's 404. The list shows codes and probabilities only; the pair page opens
both identities, each an audited read (``records.compare``). Searching and deciding are POST
with Django's CSRF check; every page is ``never_cache``. A search the model cannot run (too
few persons, training that fails) shows its reason on the page instead of an error page.
"""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from refugium.errors import BadInput, Conflict, NotFound
from refugium.linkage.model import DEFAULT_THRESHOLD
from refugium.web.access import desk_member
from refugium.web.matches import services
from refugium.web.matches.models import PersonMatch
from refugium.web.records import services as records
from refugium.web.records import views as record_views
from refugium.web.records.models import Person

DESK = records.DOCUMENTATION_DESK
RECENT = 50


class FindForm(forms.Form):
    threshold = forms.FloatField(
        label=_("Threshold of a likely duplicate"),
        min_value=0.01,
        max_value=0.99,
        initial=DEFAULT_THRESHOLD,
        help_text=_("Pairs at or above it are marked likely; pairs down to 0.05 are listed."),
    )


def _match(request: HttpRequest, number: int) -> tuple[records.Workspace, PersonMatch]:
    ws = record_views.workspace_or_404(request)
    try:
        return ws, services.get_match(ws, number)
    except NotFound:
        raise Http404 from None


def _person_url(person: Person) -> str:
    return record_views.detail_url(person)


def _list_page(
    request: HttpRequest,
    ws: records.Workspace,
    form: FindForm,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    threshold = form.cleaned_data["threshold"] if form.is_bound and form.is_valid() else None
    threshold = threshold or DEFAULT_THRESHOLD
    matches = PersonMatch.objects.filter(desk=ws.desk).select_related("person_a", "person_b")
    open_pairs = [
        {
            "match": m,
            "a": record_views.Shown(m.person_a.code, _person_url(m.person_a)),
            "b": record_views.Shown(m.person_b.code, _person_url(m.person_b)),
            "likely": m.probability >= threshold,
        }
        for m in matches.filter(status=PersonMatch.Status.OPEN).order_by("-probability", "id")
    ]
    decided = matches.exclude(status=PersonMatch.Status.OPEN).order_by("-decided_on", "-id")
    return render(
        request,
        "matches/list.html",
        {
            "form": form,
            "open_pairs": open_pairs,
            "decided": decided.select_related("decided_by")[:RECENT],
            "error": error,
            "found": request.GET.get("found", ""),
            "nav": record_views.nav(),
        },
        status=status,
    )


@never_cache
@desk_member(DESK)
@require_GET
def match_list(request: HttpRequest) -> HttpResponse:
    ws = record_views.workspace_or_404(request)
    return _list_page(request, ws, FindForm(initial={"threshold": DEFAULT_THRESHOLD}))


@never_cache
@desk_member(DESK)
@require_POST
def find(request: HttpRequest) -> HttpResponse:
    """Runs the linkage model over the desk's persons (an audited read of every identity)."""
    ws = record_views.workspace_or_404(request)
    form = FindForm(request.POST)
    if not form.is_valid():
        return _list_page(request, ws, form, status=400)
    try:
        found = services.find_candidates(ws, threshold=form.cleaned_data["threshold"])
    except (services.LinkageFailed, BadInput) as failed:
        return _list_page(request, ws, form, error=failed.message, status=409)
    return redirect(f"{reverse('matches:list')}?found={found.proposed}")


@never_cache
@desk_member(DESK)
@require_GET
def pair(request: HttpRequest, number: int) -> HttpResponse:
    """Both identities side by side: two audited reads."""
    ws, match = _match(request, number)
    left, right = services.compare(ws, match)
    rows = []
    for spec in Person.SCHEMA:
        shown = [
            record_views.show_private(ws, spec, values.get(spec.name)) for values in (left, right)
        ]
        if any(shown):
            rows.append(
                {
                    "label": str(spec.label),
                    "a": shown[0],
                    "b": shown[1],
                    "same": shown[0] == shown[1],
                }
            )
    return render(
        request,
        "matches/pair.html",
        {
            "match": match,
            "a": record_views.Shown(match.person_a.code, _person_url(match.person_a)),
            "b": record_views.Shown(match.person_b.code, _person_url(match.person_b)),
            "rows": rows,
            "moved": match.moved_links,
            "links": [_link_counts(match.person_a), _link_counts(match.person_b)],
            "merged": [services.merged_into(match.person_a), services.merged_into(match.person_b)],
            "nav": record_views.nav(),
        },
    )


def _link_counts(person: Person) -> int:
    """How many records link to the person: a hint at which record holds more."""
    return sum(
        relation.related_model.objects.filter(**{relation.field.name: person}).count()
        for relation in services._person_links()
    )


def _decision(request: HttpRequest, number: int, confirming: bool) -> HttpResponse:
    ws, match = _match(request, number)
    try:
        if confirming:
            services.confirm(ws, match)
        else:
            services.reject(ws, match)
    except (Conflict, BadInput) as refused:
        return render(
            request,
            "matches/refused.html",
            {"match": match, "message": refused.message, "nav": record_views.nav()},
            status=409,
        )
    if confirming:
        return redirect(_person_url(match.kept))
    return redirect(reverse("matches:list"))


@never_cache
@desk_member(DESK)
@require_POST
def confirm(request: HttpRequest, number: int) -> HttpResponse:
    return _decision(request, number, confirming=True)


@never_cache
@desk_member(DESK)
@require_POST
def reject(request: HttpRequest, number: int) -> HttpResponse:
    return _decision(request, number, confirming=False)
