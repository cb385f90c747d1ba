"""The intake desk's inbox: list, read, download, reply, set status, delete.

Every view is ``desk_member("intake")`` (web/access.py): anonymous requests go to the sign-in
page, everyone else without the desk's key gets the project's 404, the same page as for a code
that does not exist (T14). State changes are POST only, with Django's CSRF check. Every page
is ``never_cache`` and the core middleware adds ``Cache-Control: no-store`` as well.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from refugium.crypto import Identity
from refugium.errors import Conflict, NotFound
from refugium.web.access import desk_member, holds_desk_key
from refugium.web.accounts.models import Desk
from refugium.web.core.downloads import download_response
from refugium.web.desk import services
from refugium.web.desk.forms import ReplyForm, StatusForm
from refugium.web.intake.models import Attachment, Submission

INBOX = services.INBOX_DESK


@sensitive_variables()
def _context(request: HttpRequest) -> tuple[Desk, list[Identity]]:
    """The inbox's desk and the identities of its keys this session holds.

    Raises:
        Http404: as ``desk_member`` (checked again here, where the keys are taken).
    """
    desk = services.inbox_desk()
    try:
        keys = services.identities(request.user, request.keyring, desk)  # type: ignore[attr-defined]
    except services.NoAccess:
        raise Http404 from None
    return desk, keys


def _submission(desk: Desk, code: str) -> Submission:
    try:
        return services.get_submission(desk, code)
    except NotFound:
        raise Http404 from None


@never_cache
@desk_member(INBOX)
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    desk = services.inbox_desk()
    return render(request, "desk/inbox.html", {"desk": desk, "rows": services.list_rows(desk)})


def _render_submission(
    request: HttpRequest,
    submission: Submission,
    keys: list[Identity],
    *,
    reply_form: ReplyForm | None = None,
    status: int = 200,
) -> HttpResponse:
    view = services.read(submission, keys, actor=request.user.username)
    return render(
        request,
        "desk/submission.html",
        {
            "submission": view,
            "reply_form": reply_form or ReplyForm(),
            "status_form": StatusForm(initial={"status": view.status}),
            "done": request.GET.get("done", ""),
            "can_promote": holds_desk_key(
                request.user, getattr(request, "keyring", None), "documentation"
            ),
            # A request for help becomes a sanctuary case (issue 9) on the casework desk.
            "can_open_case": holds_desk_key(
                request.user, getattr(request, "keyring", None), "casework"
            ),
        },
        status=status,
    )


@never_cache
@desk_member(INBOX)
@require_GET
@sensitive_variables("keys")
def submission(request: HttpRequest, code: str) -> HttpResponse:
    desk, keys = _context(request)
    return _render_submission(request, _submission(desk, code), keys)


@never_cache
@desk_member(INBOX)
@require_GET
@sensitive_variables("keys", "chunks")
def download(request: HttpRequest, code: str, stored_name: str) -> StreamingHttpResponse:
    desk, keys = _context(request)
    sub = _submission(desk, code)
    try:
        meta, chunks = services.open_file(sub, stored_name, keys, actor=request.user.username)
    except NotFound:
        raise Http404 from None
    return download_response(chunks, meta.name, meta.size)


@never_cache
@desk_member(INBOX)
@require_POST
@sensitive_post_parameters("text")
@sensitive_variables("keys", "form")
def reply(request: HttpRequest, code: str) -> HttpResponse:
    desk, keys = _context(request)
    sub = _submission(desk, code)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _render_submission(request, sub, keys, reply_form=form, status=400)
    services.reply(sub, form.cleaned_data["text"], user=request.user)  # type: ignore[arg-type]
    return redirect(reverse("desk:submission", args=[sub.code]) + "?done=reply")


@never_cache
@desk_member(INBOX)
@require_POST
def status(request: HttpRequest, code: str) -> HttpResponse:
    desk, _keys = _context(request)
    sub = _submission(desk, code)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return redirect(reverse("desk:submission", args=[sub.code]))
    services.set_status(sub, form.cleaned_data["status"], actor=request.user.username)
    return redirect(reverse("desk:submission", args=[sub.code]) + "?done=status")


@never_cache
@desk_member(INBOX)
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, code: str) -> HttpResponse:
    """GET: what deleting does and does not remove, and the button. POST: delete."""
    desk, _keys = _context(request)
    sub = _submission(desk, code)
    if request.method == "GET":
        files = Attachment.objects.filter(message__submission=sub).count()
        return render(
            request,
            "desk/delete_confirm.html",
            {"code": sub.code, "messages_count": sub.messages.count(), "files": files},
        )
    try:
        result = services.delete(sub, actor=request.user.username)
    except Conflict as refused:
        files = Attachment.objects.filter(message__submission=sub).count()
        context = {
            "code": sub.code,
            "messages_count": sub.messages.count(),
            "files": files,
            "refused": refused.message,
        }
        return render(request, "desk/delete_confirm.html", context, status=409)
    return render(request, "desk/deleted.html", {"result": result})


@never_cache
@desk_member(INBOX)
@require_POST
@sensitive_variables("keys", "view", "testimony")
def promote(request: HttpRequest, code: str) -> HttpResponse:
    """A draft event in the documentation database from this submission (issue 5). Needs
    the documentation desk's key as well: without it, the same 404 as any page of a desk
    one is not on."""
    from refugium.web.records import services as records
    from refugium.web.records.views import detail_url

    desk, keys = _context(request)
    sub = _submission(desk, code)
    try:
        ws = records.workspace(request.user, request.keyring)  # type: ignore[attr-defined]
    except (records.NoAccess, NotFound):
        raise Http404 from None
    view = services.read(sub, keys, actor=request.user.username)
    testimony = "\n\n".join(
        f"[{m.number}] {m.sent_on:%Y-%m-%d}\n{m.text}" for m in view.messages if m.from_reporter
    )
    event = records.promote(ws, sub, testimony, services.reporter_attachments(sub))
    return redirect(detail_url(event))
