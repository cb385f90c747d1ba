"""Researchers' pages of the documentation database: list, filter, read, create, edit, link,
search by name, history and timelines.

Every view is ``desk_member("documentation")`` (web/access.py): everyone else signed in gets
the project's 404. Pages open the ``details`` column freely (titles, dates, descriptions name
no one); identifying fields appear only on the identity and edit pages, and each of those
reads writes its audit entry first (``services.read(identity=True)``). State changes are POST
with Django's CSRF check; every page is ``never_cache``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from refugium.errors import BadInput, NotFound
from refugium.web.access import desk_member
from refugium.web.records import forms as record_forms
from refugium.web.records import services, timeline, vocab
from refugium.web.records.models import (
    RECORD_TYPES,
    Act,
    Event,
    Information,
    Person,
    Place,
    Record,
    TermField,
)
from refugium.web.records.schema import Field

DESK = services.DOCUMENTATION_DESK
PAGE_SIZE = 50

# URL slug of each kind, in the order of the navigation.
SLUGS: dict[str, str] = {
    "events": "event",
    "acts": "act",
    "persons": "person",
    "places": "place",
    "sources": "source",
    "information": "information",
    "involvements": "involvement",
    "interventions": "intervention",
    "chains": "chain",
    "relationships": "relationship",
}
SLUG_OF = {kind: slug for slug, kind in SLUGS.items()}
TITLES = {
    "event": _("Events"),
    "act": _("Acts"),
    "person": _("Persons"),
    "place": _("Places"),
    "source": _("Sources"),
    "information": _("Information"),
    "involvement": _("Involvements"),
    "intervention": _("Interventions"),
    "chain": _("Chains of events"),
    "relationship": _("Relationships"),
}
# The field of ``details`` shown as a record's title in lists and links.
TITLE_FIELD = {"event": "title", "place": "name", "source": "title", "information": "reference"}


def _language() -> str:
    return "ru" if (get_language() or "en").startswith("ru") else "en"


@sensitive_variables()
def workspace_or_404(request: HttpRequest) -> services.Workspace:
    """The documentation desk unlocked for the request, or the same 404 as a missing page
    (the estimates and reports pages use it too)."""
    try:
        return services.workspace(request.user, getattr(request, "keyring", None))
    except (services.NoAccess, NotFound):
        raise Http404 from None


def _kind(slug: str) -> str:
    try:
        return SLUGS[slug]
    except KeyError:
        raise Http404 from None


def _record(ws: services.Workspace, kind: str, code: str) -> Record:
    try:
        return services.get(ws, kind, code)
    except NotFound:
        raise Http404 from None


def detail_url(row: Record) -> str:
    return reverse("records:detail", args=[SLUG_OF[services.kind_of(row)], row.code])


# --- Showing values ---------------------------------------------------------------------------


class Shown:
    """A value ready for a template: text, or a link to another record."""

    def __init__(self, text: str, url: str = "") -> None:
        self.text, self.url = text, url

    def __str__(self) -> str:
        return self.text


def _term_label(ws: services.Workspace, vocabulary: str, key: str) -> str:
    try:
        return ws.term(vocabulary, key, allow_retired=True).label(_language())
    except NotFound:
        return key


def show_private(ws: services.Workspace, spec: Field, value: Any) -> str:
    if value in (None, "", []) or (spec.kind == "bool" and value is False):
        return ""
    if spec.kind == "date":
        when = services.when_of({"d": value}, "d")
        return when.display(_language()) if when else ""
    if spec.kind == "term":
        return _term_label(ws, spec.vocabulary, value)
    if spec.kind == "terms":
        return "; ".join(_term_label(ws, spec.vocabulary, key) for key in value)
    if spec.kind == "list":
        return "; ".join(value)
    if spec.kind == "bool":
        return str(_("yes"))
    return str(value)


def show_public(row: Record, name: str) -> Shown:
    column = row._meta.get_field(name)
    if column.is_relation and issubclass(column.related_model, Record):
        # A link shows the other record's code, made from the key this row already holds:
        # fetching the record would cost a query per cell (a page of acts has 150 of them).
        pk = getattr(row, column.attname)
        if pk is None:
            return Shown("")
        other = column.related_model(pk=pk)
        return Shown(other.code, detail_url(other))
    value = getattr(row, name)
    if value is None or value == "":
        return Shown("")
    if isinstance(value, Record):
        return Shown(value.code, detail_url(value))
    if hasattr(value, "label") and callable(value.label):
        return Shown(value.label(_language()))
    if isinstance(value, date):
        return Shown(value.strftime("%Y-%m"))
    if name == "status" and isinstance(row, Event):
        return Shown(str(row.get_status_display()))
    if name == "submission":
        return Shown(str(value))
    return Shown(str(value))


def _public_rows(row: Record) -> list[tuple[str, Shown]]:
    shown = []
    for name in row.PUBLIC:
        if name in ("month_from", "month_to"):
            continue
        column = row._meta.get_field(name)
        value = show_public(row, name)
        if value.text:
            shown.append((str(column.verbose_name).capitalize(), value))
    months = _months(row)
    if months:
        shown.append((str(_("Months")), Shown(months)))
    return shown


def _months(row: Record) -> str:
    first, last = getattr(row, "month_from", None), getattr(row, "month_to", None)
    if first is None and last is None:
        return ""
    start = f"{first:%Y-%m}" if first else "…"
    end = f"{last:%Y-%m}" if last else "…"
    return start if start == end else f"{start} – {end}"


def _private_rows(
    ws: services.Workspace, row: Record, values: dict[str, Any], *, identifying: bool
) -> list[tuple[str, str]]:
    shown = (
        (str(spec.label), show_private(ws, spec, values.get(spec.name)))
        for spec in row.SCHEMA
        if spec.identifying is identifying
    )
    return [(label, text) for label, text in shown if text]


def title_of(ws: services.Workspace, row: Record, values: dict[str, Any] | None = None) -> str:
    field_name = TITLE_FIELD.get(services.kind_of(row))
    if field_name is None:
        return ""
    if values is None:
        values = services.read(ws, row)
    text = str(values.get(field_name) or "")
    return text if len(text) <= 120 else text[:117] + "…"


def _related(ws: services.Workspace, row: Record) -> list[tuple[str, list[tuple[Shown, str]]]]:
    """Every record linking to ``row``, grouped by kind and link: (heading, [(code, summary)])."""
    groups = []
    for relation in row._meta.related_objects:
        model = relation.related_model
        if model not in RECORD_TYPES.values() or relation.related_name in (None, "+"):
            continue
        linked = list(getattr(row, relation.get_accessor_name()).all()[:200])
        if not linked:
            continue
        heading = f"{TITLES[services.kind_of(model)]} ({relation.field.verbose_name})"
        items = []
        for other in linked:
            summary = " · ".join(
                value.text
                for name in other.PUBLIC
                if name not in ("month_from", "month_to", relation.field.name)
                for value in [show_public(other, name)]
                if value.text
            )
            title = title_of(ws, other)
            items.append(
                (Shown(other.code, detail_url(other)), " · ".join(filter(None, [title, summary])))
            )
        groups.append((heading, items))
    return groups


# --- Lists and search -------------------------------------------------------------------------


class FilterForm(forms.Form):
    """Filters on public columns only: no sealed column is opened to filter."""

    month_from = forms.CharField(label=_("From month (YYYY-MM)"), required=False, max_length=7)
    month_to = forms.CharField(label=_("To month (YYYY-MM)"), required=False, max_length=7)

    def clean_month_from(self) -> date | None:
        return record_forms.month(self.cleaned_data.get("month_from", ""))

    def clean_month_to(self) -> date | None:
        return record_forms.month(self.cleaned_data.get("month_to", ""))


def _filter_form(model: type[Record], data: Any) -> FilterForm:
    form = FilterForm(data)
    language = _language()
    for name in model.PUBLIC:
        column = model._meta.get_field(name)
        if hasattr(column, "vocabulary"):
            choices = [("", "—"), *vocab.choices(column.vocabulary, language)]
            form.fields[name] = forms.ChoiceField(
                choices=choices, required=False, label=str(column.verbose_name).capitalize()
            )
    if model is Event:
        form.fields["act_type"] = forms.ChoiceField(
            choices=[("", "—"), *vocab.choices("act-types", language)],
            required=False,
            label=_("With an act of type"),
        )
        form.fields["status"] = forms.ChoiceField(
            choices=[("", "—"), *Event.Status.choices], required=False, label=_("Status")
        )
    if not hasattr(model, "month_from"):
        del form.fields["month_from"], form.fields["month_to"]
    return form


def _filtered(ws: services.Workspace, model: type[Record], form: FilterForm) -> Any:
    rows = model.objects.filter(desk=ws.desk)
    if not form.is_valid():
        return rows.none()
    data = form.cleaned_data
    for name, value in data.items():
        if not value:
            continue
        if name == "month_from":
            rows = rows.filter(month_to__gte=value)
        elif name == "month_to":
            rows = rows.filter(month_from__lte=value)
        elif name == "act_type" and model is Event:
            # Events with an act of that type: the acts' (type, event) index answers the
            # subquery alone, where a join read every act of the type (250 ms at 313,000).
            try:
                term = ws.term("act-types", value, allow_retired=True)
            except NotFound:
                return rows.none()
            rows = rows.filter(pk__in=Act.objects.filter(act_type=term.pk).values("event_id"))
        elif name == "status":
            rows = rows.filter(status=value)
        else:
            # By the term's id, not a join on its key: SQLite can then use the (desk, term)
            # indexes, and counting 100,000 matching acts stays cheap (benchmarks/records.py).
            column = model._meta.get_field(name)
            try:
                term = ws.term(column.vocabulary, value, allow_retired=True)  # type: ignore[attr-defined]
            except NotFound:
                return rows.none()
            rows = rows.filter(**{column.attname: term.pk})
    return rows.order_by("-id")


@never_cache
@desk_member(DESK)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return record_list(request, "events")


@never_cache
@desk_member(DESK)
@require_GET
def record_list(request: HttpRequest, slug: str) -> HttpResponse:
    ws = workspace_or_404(request)
    kind = _kind(slug)
    model = services.model_of(kind)
    if model is Person:
        return _person_search(request, ws)
    form = _filter_form(model, request.GET or None)
    rows = _filtered(ws, model, form) if request.GET else model.objects.filter(desk=ws.desk)
    columns = [n for n in model.PUBLIC if n not in ("month_from", "month_to", "submission")]
    # First the page's keys, read from an index however deep the page (page 3,000 of the
    # acts skips 150,000 rows); then its rows with the terms shown, in one query. Links
    # need no query (show_public). Joined in the first query, the terms would be looked up
    # for every row skipped, and the skipped rows read whole.
    terms = [n for n in columns if isinstance(model._meta.get_field(n), TermField)]
    keys = rows.order_by("-id").values_list("pk", flat=True)
    page = Paginator(keys, PAGE_SIZE).get_page(request.GET.get("page"))
    found = model.objects.select_related(*terms).in_bulk(list(page))
    table = []
    for row in (found[pk] for pk in page):
        table.append(
            {
                "code": Shown(row.code, detail_url(row)),
                "title": title_of(ws, row),
                "cells": [show_public(row, name) for name in columns],
                "months": _months(row),
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "records/list.html",
        {
            "kind": kind,
            "slug": slug,
            "title": TITLES[kind],
            "form": form if form.fields else None,
            "headings": [str(model._meta.get_field(n).verbose_name).capitalize() for n in columns],
            "has_title": kind in TITLE_FIELD,
            "has_months": hasattr(model, "month_from"),
            "table": table,
            "page": page,
            "query": query.urlencode(),
            "nav": nav(),
        },
    )


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Name, in any script or spelling"), max_length=300, required=False)


def _person_search(request: HttpRequest, ws: services.Workspace) -> HttpResponse:
    form = SearchForm(request.GET or None)
    results: list[tuple[Shown, str]] = []
    searched = False
    if form.is_valid() and form.cleaned_data["q"].strip():
        searched = True
        hows = {
            "exact": _("exact name"),
            "spelling": _("same name, other spelling or order"),
            "part": _("one part of the name"),
        }
        for person, how in services.search_persons(ws, form.cleaned_data["q"]):
            results.append((Shown(person.code, detail_url(person)), str(hows[how])))
    page = None
    if not searched:
        rows = Person.objects.filter(desk=ws.desk).order_by("-id")
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        results = [(Shown(p.code, detail_url(p)), "") for p in page]
    return render(
        request,
        "records/persons.html",
        {
            "form": form,
            "results": results,
            "searched": searched,
            "page": page,
            "nav": nav(),
            "kind": "person",
            "slug": "persons",
            "title": TITLES["person"],
        },
    )


def nav() -> list[tuple[str, str]]:
    """The records' menu: (title, URL) per kind of record, for every documentation page."""
    return [
        (str(TITLES[kind]), reverse("records:list", args=[slug])) for slug, kind in SLUGS.items()
    ]


# --- One record -------------------------------------------------------------------------------


def _render_detail(
    request: HttpRequest, ws: services.Workspace, row: Record, *, identity: bool
) -> HttpResponse:
    kind = services.kind_of(row)
    values = services.read(ws, row, identity=identity)
    has_identity = any(spec.identifying for spec in row.SCHEMA)
    return render(
        request,
        "records/detail.html",
        {
            "row": row,
            "kind": kind,
            "slug": SLUG_OF[kind],
            "title": title_of(ws, row, values),
            "kind_title": TITLES[kind],
            "public": _public_rows(row),
            "details": _private_rows(ws, row, values, identifying=False),
            "identity": _private_rows(ws, row, values, identifying=True) if identity else None,
            "has_identity": has_identity,
            "related": _related(ws, row),
            "links": _link_actions(row),
            "has_timeline": isinstance(row, Event | Person | Place),
            "files": _files(row),
            "evidence": _evidence(row),
            "merged_into": _merged_into(row),
            "nav": nav(),
        },
    )


def _merged_into(row: Record) -> Shown | None:
    """The Person this one was merged into by a confirmed duplicate, if any: its links moved
    there, its own record stays readable here."""
    from refugium.web.matches.services import merged_into

    if not isinstance(row, Person):
        return None
    kept = merged_into(row)
    return Shown(kept.code, detail_url(kept)) if kept else None


def _files(row: Record) -> list[Shown]:
    """Files of an inbox submission linked to an Information record: downloads through the
    inbox, which needs the intake desk's key and records the download in the audit log."""
    if not isinstance(row, Information):
        return []
    linked = row.files.select_related("attachment__message__submission").order_by("id")
    return [
        Shown(
            f.attachment.stored_name,
            reverse(
                "desk:download",
                args=[f.attachment.message.submission.code, f.attachment.stored_name],
            ),
        )
        for f in linked
    ]


def _evidence(row: Record) -> list[Shown]:
    """Evidence items attached to the record, by code (their names are sealed). Only the
    documentation desk's items can be attached (``evidence.views.attach``), so their pages
    are that desk's."""
    from refugium.web.evidence.services import items_of

    return [
        Shown(item.code, reverse("evidence:item", args=[DESK, item.code])) for item in items_of(row)
    ]


def _link_actions(row: Record) -> list[tuple[str, str]]:
    """Links that start a new linked record with this one filled in."""

    def new(slug: str, **links: str) -> str:
        return reverse("records:create", args=[slug]) + "?" + urlencode(links)

    code = row.code
    if isinstance(row, Event):
        return [
            (str(_("Add an act")), new("acts", event=code)),
            (str(_("Add information from a source")), new("information", event=code)),
            (str(_("Add an intervention")), new("interventions", event=code)),
            (str(_("Link to another event")), new("chains", from_event=code)),
        ]
    if isinstance(row, Person):
        return [
            (str(_("Add an act against this person")), new("acts", victim=code)),
            (str(_("Add a relationship")), new("relationships", person=code)),
            (str(_("Add information about this person")), new("information", person=code)),
        ]
    if isinstance(row, Act):
        return [(str(_("Add a perpetrator's involvement")), new("involvements", act=code))]
    if isinstance(row, Place):
        return [(str(_("Add an act at this place")), new("acts", place=code))]
    return []


@never_cache
@desk_member(DESK)
@require_GET
def detail(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    ws = workspace_or_404(request)
    return _render_detail(request, ws, _record(ws, _kind(slug), code), identity=False)


@never_cache
@desk_member(DESK)
@require_GET
def identity(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """The identifying fields too: an audited read (``records.read``)."""
    ws = workspace_or_404(request)
    return _render_detail(request, ws, _record(ws, _kind(slug), code), identity=True)


@never_cache
@desk_member(DESK)
@require_GET
def history(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    ws = workspace_or_404(request)
    row = _record(ws, _kind(slug), code)
    specs = {spec.name: spec for spec in row.SCHEMA}
    changes = []
    for change in services.history(ws, row, identity=True):
        fields = []
        for name, (old, new) in sorted(change.fields.items()):
            spec = specs.get(name)
            if spec is None:
                fields.append((name, str(old or ""), str(new or "")))
            else:
                fields.append(
                    (str(spec.label), show_private(ws, spec, old), show_private(ws, spec, new))
                )
        changes.append(
            {"actor": change.actor, "at": change.at, "action": change.action, "fields": fields}
        )
    return render(
        request,
        "records/history.html",
        {"row": row, "slug": slug, "changes": changes, "nav": nav()},
    )


@never_cache
@desk_member(DESK)
@require_GET
def record_timeline(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    ws = workspace_or_404(request)
    row = _record(ws, _kind(slug), code)
    if not isinstance(row, Event | Person | Place):
        raise Http404
    entries = timeline.of(ws, row, _language())
    shown = [
        {
            "when": entry.when.display(_language()) if entry.when else str(_("date unknown")),
            "code": Shown(entry.row.code, detail_url(entry.row)),
            "what": entry.what,
            "others": [Shown(o.code, detail_url(o)) for o in entry.others],
        }
        for entry in entries
    ]
    return render(
        request,
        "records/timeline.html",
        {"row": row, "slug": slug, "entries": shown, "nav": nav()},
    )


# --- Creating and editing ----------------------------------------------------------------------


def _form_page(
    request: HttpRequest, kind: str, form: forms.Form, row: Record | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "records/form.html",
        {
            "form": form,
            "row": row,
            "kind": kind,
            "slug": SLUG_OF[kind],
            "kind_title": TITLES[kind],
            "nav": nav(),
        },
        status=status,
    )


@sensitive_variables()
def _save_from_form(
    request: HttpRequest, ws: services.Workspace, kind: str, form: forms.Form, row: Record
) -> HttpResponse:
    if not form.is_valid():
        return _form_page(request, kind, form, row if row.pk else None, status=400)
    try:
        private, public = record_forms.split(type(row), form.cleaned_data, ws)
        saved = services.save(ws, row, private, public)
    except BadInput as error:
        # Services name the field first ("when: cannot read this date ..."); beside the
        # field that name is noise, and it is the schema's key, not the label shown.
        name, _colon, rest = error.message.partition(": ")
        if name in form.fields and rest:
            form.add_error(name, rest)
        else:
            form.add_error(None, error.message)
        return _form_page(request, kind, form, row if row.pk else None, status=400)
    return redirect(detail_url(saved))


@never_cache
@desk_member(DESK)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def create(request: HttpRequest, slug: str) -> HttpResponse:
    ws = workspace_or_404(request)
    kind = _kind(slug)
    model = services.model_of(kind)
    form_class = record_forms.record_form(model, _language(), identity=True)
    if request.method == "POST":
        return _save_from_form(request, ws, kind, form_class(request.POST), model())
    initial = {name: request.GET[name] for name in record_forms.LINKS if name in request.GET}
    return _form_page(request, kind, form_class(initial=initial), None)


@never_cache
@desk_member(DESK)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters()
def edit(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    """Editing shows identifying fields, so opening the form is an audited read."""
    ws = workspace_or_404(request)
    kind = _kind(slug)
    row = _record(ws, kind, code)
    form_class = record_forms.record_form(type(row), _language(), identity=True)
    if request.method == "POST":
        return _save_from_form(request, ws, kind, form_class(request.POST), row)
    values = services.read(ws, row, identity=True, why="edit")
    return _form_page(
        request, kind, form_class(initial=record_forms.initial_values(row, values, ws)), row
    )
