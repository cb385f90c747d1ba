"""The estimate form: which Sources are the lists, and the scope of the victims counted.

Validated entirely here, so that every mistake (one source, sixteen, a period that ends
before it starts, an unknown term) comes back as a form error beside its field, never as
an error page.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from refugium.errors import BadInput, NotFound
from refugium.web.estimates import services
from refugium.web.records import forms as record_forms
from refugium.web.records import services as records
from refugium.web.records import views as record_views
from refugium.web.records import vocab

MAX_SHOWN = 300
"""Sources offered as boxes to tick; more are named by code (a page of thousands of boxes
helps no one, and each title is decrypted to show it)."""


class EstimateForm(forms.Form):
    sources = forms.MultipleChoiceField(
        label=_("Sources to use as lists"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "From 2 to 15 (estimated here on up to 12; the table of more is for the command "
            "line). Each source is one list: a victim is on it when an Information record "
            "links the source to that person. Only sources that name at least one person are "
            "offered."
        ),
    )
    more_sources = forms.CharField(
        label=_("Other sources by code"),
        required=False,
        max_length=300,
        help_text=_(
            "For sources not offered above, separated by commas or spaces: S-0042, S-0107."
        ),
    )
    month_from = forms.CharField(label=_("From month (YYYY-MM)"), required=False, max_length=7)
    month_to = forms.CharField(label=_("To month (YYYY-MM)"), required=False, max_length=7)
    region = forms.ChoiceField(
        label=_("Region"),
        required=False,
        help_text=_("The regions below it are included."),
    )
    act_type = forms.ChoiceField(
        label=_("Type of act"),
        required=False,
        help_text=_("The types below it are included."),
    )
    strata = forms.ChoiceField(
        label=_("Estimate separately by"),
        required=False,
        choices=[
            ("", _("nothing: one estimate")),
            ("region", _("region")),
            ("act_type", _("type of act")),
        ],
        help_text=_(
            "One table per region or type of act, each victim in the stratum of their "
            "earliest act, then all strata pooled. Only worth it where each stratum has "
            "overlaps of its own."
        ),
    )
    latent_classes = forms.BooleanField(
        label=_("Also run the latent-class model (takes about 15 to 30 seconds)"),
        required=False,
        help_text=_("On up to 8 lists and without strata; the others are ready in seconds."),
    )
    seed = forms.IntegerField(
        label=_("Seed of the latent-class sampler"),
        min_value=0,
        max_value=2**32 - 1,
        initial=services.DEFAULT_SEED,
        required=False,
        help_text=_("The same seed gives the same figures, here and with refugium estimate."),
    )

    def __init__(self, ws: records.Workspace, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ws = ws
        offered = services.candidate_sources(ws)
        self.more_offered = max(0, len(offered) - MAX_SHOWN)
        self.fields["sources"].choices = [
            (source.code, self._source_label(source, count))
            for source, count in offered[:MAX_SHOWN]
        ]
        language = "ru" if (get_language() or "en").startswith("ru") else "en"
        for name, vocabulary in services.STRATA.items():
            self.fields[name].choices = [("", "—"), *vocab.choices(vocabulary, language)]

    def _source_label(self, source: Any, count: int) -> str:
        title = record_views.title_of(self.ws, source)
        named = _("names %(count)s persons") % {"count": count}
        return " · ".join(filter(None, [source.code, title, str(named)]))

    def clean_month_from(self) -> date | None:
        return record_forms.month(self.cleaned_data.get("month_from", ""))

    def clean_month_to(self) -> date | None:
        return record_forms.month(self.cleaned_data.get("month_to", ""))

    def _term(self, name: str) -> Any:
        key = self.cleaned_data.get(name) or ""
        if not key:
            return None
        try:
            return self.ws.term(services.STRATA[name], key, allow_retired=True)
        except NotFound:
            raise forms.ValidationError(_("Not a term of this list.")) from None

    def clean_region(self) -> Any:
        return self._term("region")

    def clean_act_type(self) -> Any:
        return self._term("act_type")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, last = data.get("month_from"), data.get("month_to")
        if first and last and first > last:
            self.add_error("month_to", _("The period ends before it starts."))
        codes = list(data.get("sources") or [])
        codes += re.split(r"[\s,;]+", data.get("more_sources") or "")
        codes = [c.strip() for c in codes if c.strip()]
        try:
            data["lists"] = services.sources_by_code(self.ws, codes)
        except BadInput as error:
            self.add_error("sources", error.message)
        self._check_latent_classes(data)
        if data.get("seed") is None:
            data["seed"] = services.DEFAULT_SEED
        return data

    def _check_latent_classes(self, data: dict[str, Any]) -> None:
        """The sampler runs in the request: only where it ends in well under a minute."""
        if not data.get("latent_classes"):
            return
        if data.get("strata"):
            self.add_error(
                "latent_classes",
                _(
                    "The latent-class model runs here without strata only (each stratum "
                    "takes as long again): download the pattern table and run refugium "
                    "estimate with --strata for it."
                ),
            )
        elif len(data.get("lists") or ()) > services.LCMCR_MAX_LISTS:
            self.add_error(
                "latent_classes",
                _(
                    "The latent-class model runs here on at most %(most)s lists (more take "
                    "minutes): download the pattern table and run refugium estimate for it."
                )
                % {"most": services.LCMCR_MAX_LISTS},
            )

    def scope(self) -> services.Scope:
        data = self.cleaned_data
        return services.Scope(
            sources=data["lists"],
            month_from=data.get("month_from"),
            month_to=data.get("month_to"),
            region=data.get("region"),
            act_type=data.get("act_type"),
            strata=data.get("strata") or "",
        )

    def methods(self) -> tuple[str, ...]:
        return services.methods_for(bool(self.cleaned_data.get("latent_classes")))
