"""The inbox's forms: a reply, a new status."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from refugium.web.desk.services import MAX_REPLY_CHARS
from refugium.web.intake.models import Submission


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Reply to the reporter"),
        help_text=_(
            "Encrypted to the reporter's receipt: they read it when they follow up. Write "
            "nothing that would endanger them if someone else holds their receipt."
        ),
        max_length=MAX_REPLY_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def clean_text(self) -> str:
        text: str = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError(_("Write a reply first."))
        return text


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Submission.Status.choices)
