"""The reports page's one form: a definition's TOML text and the language to build."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_DEFINITION = 64 * 1024
"""Characters: a definition is a few dozen lines; the example is under 2,000 characters."""

LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]


class BuildForm(forms.Form):
    definition = forms.CharField(
        label=_("Report definition (TOML)"),
        max_length=MAX_DEFINITION,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 30, "cols": 90, "spellcheck": "false"}),
        help_text=_(
            "Every key is described in docs/reports.md (Writing a definition). The text is "
            "kept with the build it makes and nowhere else."
        ),
    )
    language = forms.ChoiceField(
        label=_("Language of the report"),
        choices=LANGUAGES,
        help_text=_("One of the definition's languages."),
    )
