"""The person's check-in page (issue 9, "Check-ins"): public, without JavaScript.

The phone may be in someone else's hands when the person checks in, perhaps with the person
made to answer. So the reply to a well-formed check-in is one page, byte for byte, whatever
happened: a normal answer, the duress answer, a wrong answer, a code that does not exist.
Only a malformed form (not 16 digits, no answer) is told so, the same for every code. The
page is a reporter page (``intake.decorators.reporter_page``): no sign-in, nothing cached,
no referrer, CSRF by token alone, every posted value hidden from error reports. Well-formed
check-ins are counted against a server-wide limit per minute (``intake.flood``) before any
Argon2id runs; a flood then delays check-ins, which the pass sees as silence: it fails
towards an alert, not towards quiet.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import translate_url
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from refugium.casework.checkins import MAX_ANSWER_LENGTH
from refugium.errors import BadInput
from refugium.web.casework import checkin_store
from refugium.web.intake import flood
from refugium.web.intake.decorators import reporter_page

TEMPLATE = "casework/checkin.html"
DEFAULT_PER_MINUTE = 120


class CheckinForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=64,
        help_text=_("The 16 digits you were given."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    answer = forms.CharField(
        label=_("Answer"),
        max_length=checkin_store.MAX_ANSWER_INPUT,
        strip=False,
        # A password field: phone keyboards do not learn from it, so the duress word never
        # turns up among the suggestions of a phone someone else now holds.
        widget=forms.PasswordInput(
            attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        try:
            return checkin_store.normalise_code(self.cleaned_data["code"])
        except BadInput:
            raise forms.ValidationError(_("The code is 16 digits.")) from None

    def clean_answer(self) -> str:
        try:
            checkin_store._check_answer_input(self.cleaned_data["answer"])
        except BadInput:
            raise forms.ValidationError(
                _("Type your answer: up to %(n)s letters or digits.") % {"n": MAX_ANSWER_LENGTH}
            ) from None
        return str(self.cleaned_data["answer"])


def _render(request: HttpRequest, context: dict[str, object], status: int = 200) -> HttpResponse:
    current = get_language()
    languages = [
        {
            "code": code,
            "name": name,
            "url": translate_url(request.path, code),
            "current": code == current,
        }
        for code, name in settings.LANGUAGES
    ]
    return render(request, TEMPLATE, {**context, "languages": languages}, status=status)


@reporter_page
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request, {"form": CheckinForm()})
    form = CheckinForm(request.POST)
    if not form.is_valid():
        return _render(request, {"form": form}, status=400)
    try:
        limit = getattr(settings, "REFUGIUM_CHECKINS_PER_MINUTE", DEFAULT_PER_MINUTE)
        flood.count_attempt("checkin", int(limit))
    except flood.Refused as refusal:
        return _render(request, {"form": CheckinForm(), "refused": refusal.reason}, status=429)
    checkin_store.receive(form.cleaned_data["code"], form.cleaned_data["answer"])
    # No form on the reply (a form carries a fresh CSRF token): the same bytes every time.
    return _render(request, {"received": True})
