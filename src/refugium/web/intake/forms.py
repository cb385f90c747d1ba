from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from refugium.crypto import MAX_RECEIPT_CHARS
from refugium.web.intake import vocabulary

MAX_TEXT_CHARS = 100_000


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files in one field (Django's documented pattern)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class _HasText:
    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        if not cleaned.get("text", "").strip() and not cleaned.get("files"):
            raise forms.ValidationError(_("Write what happened, or attach a file, or both."))
        return cleaned


class SubmitForm(_HasText, forms.Form):
    text = forms.CharField(
        label=_("What happened?"),
        help_text=_(
            "Say what you can: what was done, by whom, when and where. Leave out anything "
            "that would identify you if you prefer; researchers may ask later."
        ),
        required=False,
        max_length=MAX_TEXT_CHARS,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    when = forms.ChoiceField(label=_("When did it happen?"), required=False, choices=())
    where = forms.ChoiceField(label=_("Where?"), required=False, choices=())
    harm = forms.MultipleChoiceField(
        label=_("What kind of harm? (tick any)"),
        required=False,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
    )
    files = MultipleFileField(
        label=_("Photos, recordings or documents (optional)"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        blank = [("", "—")]
        self.fields["when"].choices = blank + vocabulary.choices("when")  # type: ignore[attr-defined]
        self.fields["where"].choices = blank + vocabulary.choices("where")  # type: ignore[attr-defined]
        self.fields["harm"].choices = vocabulary.choices("harm")  # type: ignore[attr-defined]
        self.fields["files"].help_text = _(
            "Up to %(count)d files, %(size)d MB in all."
        ) % {
            "count": settings.REFUGIUM_MAX_FILES_PER_SUBMISSION,
            "size": settings.REFUGIUM_MAX_SUBMISSION_BYTES // (1024 * 1024),
        }

    def hints(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {k: v for k, v in (("when", data["when"]), ("where", data["where"]),
                                  ("harm", sorted(data["harm"]))) if v}


class ReceiptForm(forms.Form):
    not_a_receipt = _(
        "This is not a receipt. A receipt is ten words from our list; check each word."
    )

    receipt = forms.CharField(
        label=_("Your receipt"),
        help_text=_("The words you were given when you sent your report."),
        max_length=MAX_RECEIPT_CHARS,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


class FollowupForm(_HasText, forms.Form):
    text = forms.CharField(
        label=_("Add to your report"),
        required=False,
        max_length=MAX_TEXT_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    files = MultipleFileField(label=_("More files (optional)"), required=False)
