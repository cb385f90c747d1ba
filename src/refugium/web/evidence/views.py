"""Researchers' pages of the evidence vault: the documentation desk's items, one item with
its metadata report and custody history, download, attach to and detach from records.

Every view is ``desk_member("documentation")``. Opening an item's page and downloading it are
``viewed`` events in the custody log, written before the page or the file is produced.
Downloads are attachments, never rendered inline, under a CSP that lets nothing run.
"""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from refugium.crypto import Identity
from refugium.errors import NotFound
from refugium.web.access import desk_member
from refugium.web.accounts.models import Desk
from refugium.web.core.downloads import download_response
from refugium.web.desk import services as desk_services
from refugium.web.evidence import services
from refugium.web.evidence.models import Item

DESK = "documentation"
KINDS = [
    ("event", _("Event")),
    ("act", _("Act")),
    ("person", _("Person")),
    ("place", _("Place")),
    ("source", _("Source")),
    ("information", _("Information")),
]


class LinkForm(forms.Form):
    kind = forms.ChoiceField(choices=KINDS, label=_("Kind of record"))
    code = forms.CharField(
        max_length=20, label=_("Record code"), help_text=_("Such as E-0001 or P-0042.")
    )


@sensitive_variables()
def _context(request: HttpRequest) -> tuple[Desk, list[Identity]]:
    from refugium.web.accounts.services import get_desk

    try:
        desk = get_desk(DESK)
        keys = desk_services.identities(request.user, request.keyring, desk)  # type: ignore[attr-defined]
    except (desk_services.NoAccess, NotFound):
        raise Http404 from None
    return desk, keys


def _item(desk: Desk, code: str) -> Item:
    try:
        return services.get(desk, code)
    except NotFound:
        raise Http404 from None


@never_cache
@desk_member(DESK)
@require_GET
def item_list(request: HttpRequest) -> HttpResponse:
    desk, _keys = _context(request)
    items = [(item, services.linked_records(item)) for item in services.desk_items(desk)]
    return render(request, "evidence/list.html", {"items": items})


def _render_item(
    request: HttpRequest,
    desk: Desk,
    item: Item,
    keys: list[Identity],
    form: LinkForm | None,
    status: int = 200,
) -> HttpResponse:
    from refugium.web.records.services import kind_of
    from refugium.web.records.views import detail_url

    meta, history = services.show(item, keys, actor=request.user.username)
    records = [
        (record, detail_url(record), kind_of(record)) for record in services.linked_records(item)
    ]
    return render(
        request,
        "evidence/item.html",
        {
            "item": item,
            "meta": meta,
            "history": history,
            "records": records,
            "form": form or LinkForm(),
        },
        status=status,
    )


@never_cache
@desk_member(DESK)
@require_GET
def item(request: HttpRequest, code: str) -> HttpResponse:
    desk, keys = _context(request)
    return _render_item(request, desk, _item(desk, code), keys, None)


@never_cache
@desk_member(DESK)
@require_GET
@sensitive_variables("keys", "chunks")
def download(request: HttpRequest, code: str) -> StreamingHttpResponse:
    desk, keys = _context(request)
    found = _item(desk, code)
    meta, chunks = services.plaintext(found, keys, actor=request.user.username, how="download")
    return download_response(chunks, meta.name, found.size)


def _linked(request: HttpRequest, code: str, *, attach: bool) -> HttpResponse:
    from refugium.web.records import services as records

    desk, keys = _context(request)
    found = _item(desk, code)
    form = LinkForm(request.POST)
    if form.is_valid():
        try:
            ws = records.workspace(request.user, request.keyring)  # type: ignore[attr-defined]
            record = records.get(ws, form.cleaned_data["kind"], form.cleaned_data["code"])
        except (records.NoAccess, NotFound):
            form.add_error("code", _("No record of that kind has this code."))
        else:
            act = services.attach if attach else services.detach
            act(found, record, actor=request.user.username)
            return redirect(reverse("evidence:item", args=[found.code]))
    return _render_item(request, desk, found, keys, form, status=400)


@never_cache
@desk_member(DESK)
@require_POST
def attach(request: HttpRequest, code: str) -> HttpResponse:
    return _linked(request, code, attach=True)


@never_cache
@desk_member(DESK)
@require_POST
def detach(request: HttpRequest, code: str) -> HttpResponse:
    return _linked(request, code, attach=False)
