"""The researchers' reports page: edit a definition, build it, preview the HTML, download.

Design (issue 10; docs/reports.md, "The reports page"):

- **One form**, the definition's TOML in a textarea and the language, prefilled from
  ``examples/report.toml`` on a first visit and from a build's own ``definition.toml`` when
  the researcher edits that build again (``?from=<id>``). Every problem ``definition.parse``
  or the build finds (``BadDefinition.problems``, a language the definition is not built in,
  a term the vocabularies lack) is listed beside the form with status 400, and nothing is
  built: never an error page.
- **A build** runs ``build.build_report`` in the request (the same call as
  ``refugium report build``, audited ``reports.build`` with the definition's digest) into
  ``DATA/reports/<random id>`` (``builds``), then redirects to the build's page: its files
  with their sizes and download links, ``withheld.*`` marked as the desk's, never for
  publication, and the preview when the renderer wrote ``report.html``.
- **Downloads** are ``core.downloads.download_response`` (an attachment, nothing can run or
  sniff), each audited ``reports.download`` with ``<id>/<file>``; a name is served only if
  it is one of the files a walk of the build's folder finds, so ``../`` leads to the 404.
- **The preview** serves ``report.html`` from its own URL as a page of its own (opened in a
  new tab, never framed), audited ``reports.preview``, under a Content-Security-Policy that
  allows nothing but the report's inline styles and ``data:`` images: no script, no request
  anywhere, no form, no frame, and ``sandbox`` so it runs with an origin of its own. The
  renderer already refuses reports with external references; the header holds even if one
  slipped through.
- **Deleting** a build removes its folder (the definition text with it), audited
  ``reports.delete``.
- Everything is ``desk_member("documentation")`` and ``never_cache``; everyone else signed in
  gets the project's 404, for a build id as for anything else. POSTs have Django's CSRF
  check; no page has JavaScript.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

import refugium
from refugium.audit import IDENTIFIER
from refugium.errors import BadInput, NotFound
from refugium.reports.definition import BadDefinition, Definition, parse
from refugium.web.access import desk_member
from refugium.web.core.auditing import record as audit
from refugium.web.core.downloads import download_response
from refugium.web.records import services as records
from refugium.web.records import views as record_views
from refugium.web.reports import build as report_build
from refugium.web.reports import builds
from refugium.web.reports.forms import BuildForm

DESK = records.DOCUMENTATION_DESK
SOURCE = "definition.toml"
EXAMPLE = Path(refugium.__file__).resolve().parents[2] / "examples" / "report.toml"
CHUNK = 64 * 1024
PREVIEW_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
"""The preview's policy: the report's own inline styles and data: images, nothing else."""


def _example() -> str:
    try:
        return EXAMPLE.read_text("utf-8")
    except OSError:  # an installation without the examples folder
        return ""


def _language() -> str:
    return "ru" if (get_language() or "en").startswith("ru") else "en"


def _page(
    request: HttpRequest,
    form: BuildForm,
    *,
    status: int = 200,
    problems: list[str] | None = None,
) -> HttpResponse:
    return render(
        request,
        "reports/page.html",
        {
            "form": form,
            "nav": record_views.nav(),
            "problems": problems or [],
            "builds": builds.listing(),
        },
        status=status,
    )


def _find(build: str) -> Path:
    try:
        return builds.find(build)
    except NotFound:
        raise Http404 from None


@never_cache
@desk_member(DESK)
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The form and the builds, newest first; posted, a build (then its page)."""
    ws = record_views.workspace_or_404(request)
    if request.method != "POST":
        text = _example()
        again = request.GET.get("from", "")
        if again:
            try:
                text = (builds.find(again) / builds.DEFINITION).read_text("utf-8")
            except (NotFound, OSError):
                raise Http404 from None
        return _page(request, BuildForm(initial={"definition": text, "language": _language()}))
    form = BuildForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    text = form.cleaned_data["definition"]
    language = form.cleaned_data["language"]
    try:
        definition = parse(text, source=SOURCE)
        _check(ws, definition, language)
    except BadDefinition as bad:
        return _page(request, form, status=400, problems=list(bad.problems))
    build_id, folder = builds.new_folder()
    try:
        report_build.build_report(
            ws,
            definition,
            folder,
            language=language,
            identities=[key.identity for key in ws.keys],
            source=SOURCE,
        )
    except BadDefinition as bad:
        return _page(request, form, status=400, problems=list(bad.problems))
    except BadInput as refused:  # the renderer refusing an external reference, say
        return _page(request, form, status=400, problems=[refused.message])
    builds.write_definition(folder, text)
    builds.secure(folder)
    return HttpResponseRedirect(reverse("reports:detail", args=[build_id]))


def _check(ws: records.Workspace, definition: Definition, language: str) -> None:
    """What only the page can check: the desk it builds for and the language chosen.

    Raises:
        BadDefinition: listing both problems, as the parser lists its own.
    """
    problems = []
    if definition.desk != ws.desk.name:
        problems.append(
            f"desk: {definition.desk!r}; this page builds the {ws.desk.name} desk's reports"
        )
    if language not in definition.languages:
        problems.append(
            f"languages: the report is asked for in {language!r}, but the definition is "
            f"built in {', '.join(definition.languages)}"
        )
    if problems:
        raise BadDefinition(SOURCE, problems)


@never_cache
@desk_member(DESK)
@require_GET
def detail(request: HttpRequest, build: str) -> HttpResponse:
    """A build's files, the preview link and the delete button."""
    record_views.workspace_or_404(request)
    try:
        described = builds.describe(build)
    except NotFound:
        raise Http404 from None
    listed = [
        {
            "name": name,
            "size": size,
            "desk_only": name in builds.FOR_THE_DESK,
            "definition": name == builds.DEFINITION,
        }
        for name, size in builds.files(described.folder)
    ]
    names = {item["name"] for item in listed}
    return render(
        request,
        "reports/build.html",
        {
            "nav": record_views.nav(),
            "build": described,
            "files": listed,
            "preview": "report.html" in names,
        },
    )


def _audited(build: str, name: str) -> str:
    """``<build>:<file>`` for the audit log (``charts/by_wave.png`` as ``charts:by_wave.png``),
    or the file's digest when the name does not fit the log's short identifiers."""
    shown = f"{build}:{name.replace('/', ':')}"
    if IDENTIFIER.fullmatch(shown):
        return shown
    return f"{build}:sha256-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:20]}"


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while piece := handle.read(CHUNK):
            yield piece


@never_cache
@desk_member(DESK)
@require_GET
def download(request: HttpRequest, build: str, name: str) -> StreamingHttpResponse:
    """One file of a build as an attachment (audited with the build id and the name)."""
    ws = record_views.workspace_or_404(request)
    try:
        path, size = builds.open_file(_find(build), name)
    except NotFound:
        raise Http404 from None
    audit(ws.actor, "reports.download", "report-build", _audited(build, name))
    return download_response(_chunks(path), name.replace("/", "-"), size)


@never_cache
@desk_member(DESK)
@require_GET
def preview(request: HttpRequest, build: str) -> HttpResponse:
    """``report.html`` as a page of its own, under a policy that lets nothing run or load."""
    ws = record_views.workspace_or_404(request)
    try:
        path, _size = builds.open_file(_find(build), "report.html")
    except NotFound:
        raise Http404 from None
    audit(ws.actor, "reports.preview", "report-build", _audited(build, "report.html"))
    response = HttpResponse(path.read_bytes(), content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = PREVIEW_CSP
    response["X-Frame-Options"] = "DENY"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@desk_member(DESK)
@require_POST
def delete(request: HttpRequest, build: str) -> HttpResponse:
    """Removes the build's folder, the definition text with it (audited)."""
    ws = record_views.workspace_or_404(request)
    try:
        builds.delete(build)
    except NotFound:
        raise Http404 from None
    audit(ws.actor, "reports.delete", "report-build", build)
    return HttpResponseRedirect(reverse("reports:home") + "?deleted=1")
