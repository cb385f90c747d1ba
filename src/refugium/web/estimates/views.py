"""Researchers' page for multiple systems estimation over the documentation database: how
many victims in a period and region, from how the chosen Sources' lists of them overlap.

Design (issue 8's last item; docs/estimation.md says what an estimate assumes):

- **Lists** are 2 to 15 Sources the researcher ticks (or names by code). A victim is on a
  list when an Information row links that Source to that Person; the population is the
  victims of Acts in the chosen months, region (with the regions below it) and type. The
  rules, and why Information about an Event alone does not put its victims on a list, are
  in ``services``' docstring.
- **Only plaintext links and coded columns are read**, so no identity is opened and no
  ``records.read`` is written per person. One audit entry is written per run, before any
  counting: ``records.estimate`` for the page, ``records.estimate_table`` for the CSV, with
  the scope, the methods and the sources' numbers (``services.audit_ids``); never a name.
  The Sources offered are shown by code and title: titles are sealed ``details``, which
  lists open without an audit entry (docs/data-model.md), as the records lists do.
- **Methods**: log-linear and dga always (under a few seconds on up to five lists); the
  latent-class sampler only when asked, since it runs in the request for about 15 to 30
  seconds, and only without strata on up to ``services.LCMCR_MAX_LISTS`` lists. Everything
  runs in the request (a gunicorn worker, 120 s timeout), so on more than
  ``services.PAGE_MAX_LISTS`` lists the page shows the table and its download and leaves the
  estimate to ``refugium estimate``. The seed is a field, ``services.DEFAULT_SEED`` unless
  changed, and is shown with the command that repeats the figures from the downloaded
  pattern table.
- **Never a bare number**: the result shows, for each stratum and method, the estimate, its
  kind, its 95% interval, the observed count, the model and every warning, under the caveats
  in plain words, and beside the victims the table leaves out (on no chosen list, linked to
  a chosen source only through their event, undated).
- **Errors** are form errors or a message on the page (a scope with no victim, a method that
  cannot run), never an error page. Everything is POST with Django's CSRF check (the
  parameters stay out of URLs and logs) and ``never_cache``; the page is
  ``desk_member("documentation")``: everyone else signed in gets the project's 404.
"""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from refugium.errors import NotFound
from refugium.estimation.result import Estimate
from refugium.web.access import desk_member
from refugium.web.estimates import services
from refugium.web.estimates.forms import EstimateForm
from refugium.web.records import services as records
from refugium.web.records import views as record_views

DESK = records.DOCUMENTATION_DESK
CSV_NAME = "pattern-table.csv"
METHOD_NAMES = {
    "loglinear": _("Log-linear models"),
    "dga": _("Model averaging over graphs (dga)"),
    "lcmcr": _("Latent classes (lcmcr)"),
}
KIND_NAMES = {"mle": _("MLE"), "posterior median": _("posterior median")}


def _page(
    request: HttpRequest, form: EstimateForm, *, status: int = 200, **context: Any
) -> HttpResponse:
    return render(
        request,
        "estimates/page.html",
        {"form": form, "nav": record_views.nav(), "default_seed": services.DEFAULT_SEED, **context},
        status=status,
    )


@never_cache
@desk_member(DESK)
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The form; posted, the estimates (one audit entry, then the counting)."""
    ws = record_views.workspace_or_404(request)
    if request.method != "POST":
        return _page(request, EstimateForm(ws, initial={"seed": services.DEFAULT_SEED}))
    form = EstimateForm(ws, request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    scope, methods, seed = form.scope(), form.methods(), form.cleaned_data["seed"]
    services.audit_run(ws, "records.estimate", scope, methods)
    try:
        population = services.population(ws, scope)
    except services.NothingToEstimate as nothing:
        return _page(request, form, status=409, error=nothing.message, shown=_scope(ws, scope))
    if len(scope.sources) > services.PAGE_MAX_LISTS:
        return _page(
            request,
            form,
            notice=_too_many(),
            shown=_scope(ws, scope),
            population=population,
            totals=_totals(population),
            hidden=_hidden(request, form),
        )
    try:
        results = services.estimate(population, methods, seed)
    except Exception as failed:  # numerical libraries raise many kinds; the page says so
        message = f"the estimation failed ({type(failed).__name__}); the counts are below"
        return _page(
            request,
            form,
            status=409,
            error=message,
            shown=_scope(ws, scope),
            population=population,
            totals=_totals(population),
            hidden=_hidden(request, form),
        )
    return _page(
        request,
        form,
        shown=_scope(ws, scope),
        population=population,
        totals=_totals(population),
        hidden=_hidden(request, form),
        groups=_groups(ws, population, results),
        latent_classes=services.SLOW_METHOD in methods,
        seed=seed,
        command=_command(scope, seed),
    )


@never_cache
@desk_member(DESK)
@require_POST
def table(request: HttpRequest) -> HttpResponse:
    """The capture table as ``refugium estimate`` reads it: counts only (audited too)."""
    ws = record_views.workspace_or_404(request)
    form = EstimateForm(ws, request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    scope = form.scope()
    services.audit_run(ws, "records.estimate_table", scope, ())
    try:
        population = services.population(ws, scope)
    except services.NothingToEstimate as nothing:
        return _page(request, form, status=409, error=nothing.message, shown=_scope(ws, scope))
    response = HttpResponse(services.pattern_csv(population), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{CSV_NAME}"'
    return response


def _too_many() -> str:
    return str(
        _(
            "Not estimated here: on more than %(most)s lists the log-linear model search takes "
            "minutes. Download the pattern table and run refugium estimate on it."
        )
        % {"most": services.PAGE_MAX_LISTS}
    )


# --- Showing --------------------------------------------------------------------------------


def _language() -> str:
    return "ru" if (get_language() or "en").startswith("ru") else "en"


def _label(term: Any) -> str:
    return term.label(_language()) if term is not None else ""


def _scope(ws: records.Workspace, scope: services.Scope) -> dict[str, Any]:
    first = f"{scope.month_from:%Y-%m}" if scope.month_from else "…"
    last = f"{scope.month_to:%Y-%m}" if scope.month_to else "…"
    return {
        "period": f"{first} – {last}" if scope.month_from or scope.month_to else "",
        "region": _label(scope.region),
        "act_type": _label(scope.act_type),
        "strata": scope.strata,
        "sources": [
            record_views.Shown(
                f"{source.code} · {record_views.title_of(ws, source)}".rstrip(" ·"),
                record_views.detail_url(source),
            )
            for source in scope.sources
        ],
    }


def _totals(population: services.Population) -> list[tuple[int, str, int]]:
    """Each list's position (the models' numbers: ``[12,3]``, ``{1}{2,3}``), code and size."""
    return [
        (position, code, count)
        for position, (code, count) in enumerate(population.list_totals.items(), start=1)
    ]


def _hidden(request: HttpRequest, form: EstimateForm) -> list[tuple[str, str]]:
    """The posted scope again, for the download button (ids would clash with the form's)."""
    return [
        (name, value)
        for name, values in request.POST.lists()
        if name in form.fields
        for value in values
    ]


def _stratum_label(ws: records.Workspace, strata: str, stratum: str | None) -> str:
    if stratum is None:
        return str(_("All strata pooled")) if strata else ""
    if stratum == services.NO_TERM:
        return str(_("no region") if strata == "region" else _("no type of act"))
    try:
        return ws.term(services.STRATA[strata], stratum, allow_retired=True).label(_language())
    except NotFound:
        return stratum


def _number(value: float) -> str:
    return f"{value:,.0f}" if math.isfinite(value) else str(_("open"))


def _row(result: Estimate) -> dict[str, Any]:
    ran = not math.isnan(result.estimate)
    return {
        "method": str(METHOD_NAMES.get(result.method, result.method)),
        "ran": ran,
        "estimate": _number(result.estimate) if ran else "",
        "kind": str(KIND_NAMES.get(result.kind, result.kind)),
        "lower": _number(result.lower) if ran else "",
        "upper": _number(result.upper) if ran else "",
        "observed": f"{result.observed:,}",
        "model": result.model,
        "warnings": list(result.warnings),
    }


def _groups(
    ws: records.Workspace, population: services.Population, results: list[Estimate]
) -> list[dict[str, Any]]:
    """The results by stratum, in the order they were computed (strata, then pooled)."""
    groups: dict[str | None, dict[str, Any]] = {}
    strata = population.scope.strata
    for result in results:
        group = groups.setdefault(
            result.stratum,
            {"label": _stratum_label(ws, strata, result.stratum), "rows": []},
        )
        group["rows"].append(_row(result))
    return list(groups.values())


def _command(scope: services.Scope, seed: int) -> str:
    strata = f" --strata {scope.strata}" if scope.strata else ""
    return f"refugium estimate {CSV_NAME} --seed {seed}{strata}"
