"""Researchers' pages of the evidence vault, for every desk: a chooser of the user's own
desks, each desk's items, one item with its metadata report and custody history, download,
and (on the documentation desk, where the records are) attach to and detach from records.

The desk's pages are ``url_desk_member`` (web/access.py): only an active member of the desk
named in the URL who holds its key; everyone else signed in gets the project's 404, the same
page as for an item that does not exist, and an item of another desk is not found on this
one (``services.get``). A sanctuary case's own documents never appear or open here
(``services.desk_items`` and ``desk_keyed``): they open from their case.

Opening an item's page and downloading it are ``viewed`` events in the custody log, written
before the page or the file is produced. Downloads are attachments, never rendered inline,
under a CSP that lets nothing run.
"""

from __future__ import annotations

from django import forms
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from refugium.crypto import Identity
from refugium.errors import NotFound
from refugium.web.access import desk_member, holds_desk_key, url_desk_member
from refugium.web.accounts.models import Desk, Membership
from refugium.web.core.downloads import download_response
from refugium.web.desk import services as desk_services
from refugium.web.evidence import services
from refugium.web.evidence.models import Item

RECORDS_DESK = "documentation"
"""The desk whose records (events, acts, persons …) its evidence can be attached to."""

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
def _context(request: HttpRequest, name: str) -> tuple[Desk, list[Identity]]:
    from refugium.web.accounts.services import get_desk

    try:
        desk = get_desk(name)
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
@require_GET
def desks(request: HttpRequest) -> HttpResponse:
    """The desks whose evidence this user may open: their active memberships whose key the
    session holds. Other desks are not named, not even as existing."""
    keyring = getattr(request, "keyring", None)
    memberships = Membership.objects.filter(user=request.user, active=True).select_related("desk")
    mine = [
        m.desk
        for m in memberships.order_by("desk__name")
        if holds_desk_key(request.user, keyring, m.desk.name)
    ]
    return render(request, "evidence/desks.html", {"desks": mine})


@never_cache
@url_desk_member
@require_GET
def item_list(request: HttpRequest, desk: str) -> HttpResponse:
    found, _keys = _context(request, desk)
    items = [(item, services.linked_records(item)) for item in services.desk_items(found)]
    return render(
        request,
        "evidence/list.html",
        {"desk": found, "items": items, "records_desk": found.name == RECORDS_DESK},
    )


def _render_item(
    request: HttpRequest,
    desk: Desk,
    item: Item,
    keys: list[Identity],
    form: LinkForm | None,
    status: int = 200,
) -> HttpResponse:
    meta, history = services.show(item, keys, actor=request.user.username)
    records_desk = desk.name == RECORDS_DESK
    records = []
    if records_desk:
        from refugium.web.records.services import kind_of
        from refugium.web.records.views import detail_url

        records = [
            (record, detail_url(record), kind_of(record))
            for record in services.linked_records(item)
        ]
    return render(
        request,
        "evidence/item.html",
        {
            "desk": desk,
            "item": item,
            "meta": meta,
            "history": history,
            "records_desk": records_desk,
            "records": records,
            "form": (form or LinkForm()) if records_desk else None,
        },
        status=status,
    )


@never_cache
@url_desk_member
@require_GET
def item(request: HttpRequest, desk: str, code: str) -> HttpResponse:
    found, keys = _context(request, desk)
    return _render_item(request, found, _item(found, code), keys, None)


@never_cache
@url_desk_member
@require_GET
@sensitive_variables("keys", "chunks")
def download(request: HttpRequest, desk: str, code: str) -> StreamingHttpResponse:
    found, keys = _context(request, desk)
    item = _item(found, code)
    meta, chunks = services.plaintext(item, keys, actor=request.user.username, how="download")
    return download_response(chunks, meta.name, item.size)


def _linked(request: HttpRequest, code: str, *, attach: bool) -> HttpResponse:
    from refugium.web.records import services as records

    desk, keys = _context(request, RECORDS_DESK)
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
            return redirect(reverse("evidence:item", args=[RECORDS_DESK, found.code]))
    return _render_item(request, desk, found, keys, form, status=400)


@never_cache
@desk_member(RECORDS_DESK)
@require_POST
def attach(request: HttpRequest, code: str) -> HttpResponse:
    return _linked(request, code, attach=True)


@never_cache
@desk_member(RECORDS_DESK)
@require_POST
def detach(request: HttpRequest, code: str) -> HttpResponse:
    return _linked(request, code, attach=False)


# --- The documentation desk's URLs from before every desk had pages --------------------------


def _moved(name: str, args: list[str], *, status: int = 302) -> HttpResponseRedirect:
    """To the item's URL on the documentation desk (the only desk those URLs served);
    ``reverse`` quotes the code into the ``Location`` header (the URL pattern lets no ``/``
    in), and the new URL answers 404 for a code that names no item there."""
    response = HttpResponseRedirect(reverse(name, args=args))
    response.status_code = status
    return response


@never_cache
@desk_member(RECORDS_DESK)
@require_GET
def legacy_item(request: HttpRequest, code: str) -> HttpResponse:
    return _moved("evidence:item", [RECORDS_DESK, code])


@never_cache
@desk_member(RECORDS_DESK)
@require_GET
def legacy_download(request: HttpRequest, code: str) -> HttpResponse:
    return _moved("evidence:download", [RECORDS_DESK, code])


@never_cache
@desk_member(RECORDS_DESK)
@require_POST
def legacy_attach(request: HttpRequest, code: str) -> HttpResponse:
    # 307: the browser repeats the POST, with its CSRF token, to the new URL.
    return _moved("evidence:attach", [code], status=307)


@never_cache
@desk_member(RECORDS_DESK)
@require_POST
def legacy_detach(request: HttpRequest, code: str) -> HttpResponse:
    return _moved("evidence:detach", [code], status=307)
