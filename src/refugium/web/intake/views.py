"""The reporter's pages: submit, receipt, follow-up. Server-rendered, no JavaScript at all."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse, translate_url
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from refugium.crypto import Receipt
from refugium.errors import BadInput
from refugium.web.core.views import error_page
from refugium.web.intake import flood, reporter_session, submissions
from refugium.web.intake.decorators import accepts_uploads, reporter_page
from refugium.web.intake.forms import FollowupForm, ReceiptForm, SubmitForm
from refugium.web.intake.models import Submission
from refugium.web.intake.upload_handler import ATTRIBUTE, UploadTarget

# Multipart boundaries and the text fields come on top of the files themselves.
FORM_OVERHEAD_BYTES = 2 * 1024 * 1024

# What a reporter is told of the desk's status: in their words, not the desk's.
REPORTER_STATUS = {
    Submission.Status.NEW: _("Received"),
    Submission.Status.IN_REVIEW: _("Being read"),
    Submission.Status.PROMOTED: _("Recorded"),
    Submission.Status.CLOSED: _("Closed"),
}


def _language_links(request: HttpRequest) -> list[dict[str, object]]:
    current = get_language()
    return [
        {
            "code": code,
            "name": name,
            "url": translate_url(request.path, code),
            "current": code == current,
        }
        for code, name in settings.LANGUAGES
    ]


def _render(
    request: HttpRequest, template: str, context: dict[str, object], status: int = 200
) -> HttpResponse:
    context = {**context, "languages": _language_links(request)}
    return render(request, template, context, status=status)


def _refused(request: HttpRequest, refusal: flood.Refused) -> HttpResponse:
    return _render(request, "intake/refused.html", {"reason": refusal.reason}, status=429)


def _prepare(request: HttpRequest, kind: str, limit: int) -> UploadTarget | HttpResponse:
    """Checks made before a byte of the body is read: size, the form token (for a new
    submission) or the reporter's session (for a follow-up), the rate, the quota.

    A request that fails the token or session check is refused before it is counted, so a
    flood of malformed requests doesn't use up the minute's budget of real ones.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return error_page(request, 400)
    max_bytes = settings.REFUGIUM_MAX_SUBMISSION_BYTES
    if length > max_bytes + FORM_OVERHEAD_BYTES:
        return error_page(request, 413)
    session = None
    try:
        if kind == "submit":
            flood.check_form_token(request.GET.get("t", ""))
        else:
            session = reporter_session.read(request)
            if session is None:
                return redirect("intake:followup")
        flood.count_attempt(kind, limit)
    except flood.Refused as refusal:
        return _refused(request, refusal)
    store = submissions.store()
    if not flood.check_quota(store.total_bytes(), length):
        return error_page(request, 507)
    if session is None:
        recipients = [submissions.desk_recipient(submissions.intake_desk())]
    else:
        recipients = (
            [session.identity.recipient]  # opened nothing: encrypted to nobody who keeps it
            if session.submission_id is None
            else [submissions.desk_recipient(submissions.intake_desk())]
        )
    return UploadTarget(
        store=store,
        recipients=recipients,
        max_bytes=max_bytes,
        max_files=settings.REFUGIUM_MAX_FILES_PER_SUBMISSION,
    )


def _prepare_submit(request: HttpRequest) -> UploadTarget | HttpResponse:
    return _prepare(request, "submit", settings.REFUGIUM_SUBMISSIONS_PER_MINUTE)


def _prepare_followup(request: HttpRequest) -> UploadTarget | HttpResponse:
    return _prepare(request, "followup", settings.REFUGIUM_SUBMISSIONS_PER_MINUTE)


def _upload_problem(request: HttpRequest) -> HttpResponse | None:
    target = getattr(request, ATTRIBUTE, None)
    if target is not None and target.too_large:
        return error_page(request, 413)
    if target is not None and target.too_many:
        return error_page(request, 413)
    if target is not None and target.failed:
        return error_page(request, 503)
    return None


@reporter_page
def home(request: HttpRequest) -> HttpResponseBase:
    return redirect("intake:submit")


@reporter_page
@accepts_uploads(_prepare_submit)
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(
            request,
            "intake/submit.html",
            {"form": SubmitForm(), "form_token": flood.issue_form_token()},
        )
    # The token travels in the form's action URL, so that it is checked (in _prepare)
    # before the body is read; it is not secret, and it says nothing about the reporter.
    token = request.GET.get("t", "")
    form = SubmitForm(request.POST, request.FILES)
    problem = _upload_problem(request)
    if problem is not None:
        return problem
    if not form.is_valid():
        # The token was not used, so the same form can be sent again; files must be chosen
        # again, since they were never kept.
        return _render(
            request,
            "intake/submit.html",
            {"form": form, "form_token": token, "files_lost": True},
            status=400,
        )
    try:
        receipt = submissions.create(
            text=form.cleaned_data["text"],
            hints=form.hints(),
            uploads=form.cleaned_data["files"],
            language=get_language() or "en",
            form_token=token,
        )
    except flood.Refused as refusal:
        return _refused(request, refusal)
    response = redirect("intake:received")
    response.status_code = 303  # See Other: the browser fetches the receipt page with GET
    reporter_session.hand_over_receipt(response, receipt.to_text())
    return response


@reporter_page
@require_http_methods(["GET"])
def received(request: HttpRequest) -> HttpResponse:
    """The receipt, shown once. Reloading shows that it can't be shown again."""
    receipt = reporter_session.read_receipt(request)
    response = _render(
        request, "intake/receipt.html", {"receipt": receipt}, status=200 if receipt else 410
    )
    reporter_session.forget_receipt(response)
    return response


@reporter_page
@require_http_methods(["GET", "POST"])
def followup(request: HttpRequest) -> HttpResponse:
    """Without a session: the receipt form. With one: status, replies, a form to add more."""
    if request.method == "POST":
        return _open_with_receipt(request)
    session = reporter_session.read(request)
    if session is None:
        return _render(request, "intake/followup_login.html", {"form": ReceiptForm()})
    status, replies = submissions.reporter_view(session)
    response = _render(
        request,
        "intake/followup.html",
        {
            "status": REPORTER_STATUS[Submission.Status(status)],
            "replies": replies,
            "form": FollowupForm(),
            "sent": request.GET.get("sent") == "1",
        },
    )
    reporter_session.write(response, session)  # slides the session's expiry
    return response


def _open_with_receipt(request: HttpRequest) -> HttpResponse:
    form = ReceiptForm(request.POST)
    if not form.is_valid():
        return _render(request, "intake/followup_login.html", {"form": form}, status=400)
    try:
        receipt = Receipt.parse(form.cleaned_data["receipt"])
    except BadInput:
        form.add_error("receipt", ReceiptForm.not_a_receipt)
        return _render(request, "intake/followup_login.html", {"form": form}, status=400)
    try:
        # Counted only once well formed: malformed guesses cost no Argon2id and no budget.
        flood.count_attempt("receipt", settings.REFUGIUM_RECEIPT_CHECKS_PER_MINUTE)
    except flood.Refused as refusal:
        return _refused(request, refusal)
    session = submissions.open_with_receipt(receipt)
    response = redirect("intake:followup")
    reporter_session.write(response, session)
    return response


@reporter_page
@accepts_uploads(_prepare_followup)
@require_POST
def followup_send(request: HttpRequest) -> HttpResponse:
    session = reporter_session.read(request)
    if session is None:
        return redirect("intake:followup")
    form = FollowupForm(request.POST, request.FILES)
    problem = _upload_problem(request)
    if problem is not None:
        return problem
    if not form.is_valid():
        status, replies = submissions.reporter_view(session)
        return _render(
            request,
            "intake/followup.html",
            {
                "status": REPORTER_STATUS[Submission.Status(status)],
                "replies": replies,
                "form": form,
                "files_lost": True,
            },
            status=400,
        )
    submissions.add_from_reporter(
        session, text=form.cleaned_data["text"], uploads=form.cleaned_data["files"]
    )
    response = redirect(reverse("intake:followup") + "?sent=1")
    reporter_session.write(response, session)
    return response


@reporter_page
@require_POST
def followup_logout(request: HttpRequest) -> HttpResponse:
    response = redirect("intake:followup")
    reporter_session.forget(response)
    response["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response
