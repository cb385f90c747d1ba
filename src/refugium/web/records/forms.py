"""Forms for records, built from the schema: one form class per kind and language.

Fields come from ``Record.SCHEMA`` (private) and ``Record.PUBLIC`` (terms, links, status), so
a field added to the schema appears in the form, the import and the export at once. Links to
other records are typed as codes (``P-0042``): fast from the keyboard, and the code is all a
researcher needs to know of a person to link them. The form only shapes input; the services
check every value again (vocabularies, links, limits) and their errors come back to the form.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from refugium.web.records import services, vocab
from refugium.web.records.models import Event, Record, TermField
from refugium.web.records.schema import Field
from refugium.web.records.services import MAX_TEXT

# Public link columns: the kind of record each points at.
LINKS: dict[str, str] = {
    "event": "event",
    "victim": "person",
    "perpetrator": "person",
    "person": "person",
    "other": "person",
    "party": "person",
    "place": "place",
    "source": "source",
    "act": "act",
    "from_event": "event",
    "to_event": "event",
}
AUTOMATIC = {"month_from", "month_to", "submission"}


def _private_field(spec: Field, language: str) -> forms.Field:
    common: dict[str, Any] = {"label": spec.label, "required": False, "help_text": spec.help}
    if spec.kind == "text":
        return forms.CharField(max_length=MAX_TEXT, **common)
    if spec.kind == "longtext":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), **common)
    if spec.kind == "list":
        common["help_text"] = spec.help or _("One per line.")
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if spec.kind == "date":
        common["help_text"] = spec.help or _(
            "As precise as the source is: “14 February 2017”, “late February 2017”, “2017”, "
            "“between 10 and 15 March 2017”, “before 20 March 2017”."
        )
        return forms.CharField(max_length=200, **common)
    if spec.kind == "bool":
        return forms.BooleanField(**common)
    if spec.kind == "int":
        return forms.IntegerField(min_value=0, max_value=10_000, **common)
    choices = vocab.choices(spec.vocabulary, language)
    if spec.kind == "term":
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    return forms.MultipleChoiceField(
        choices=choices, widget=forms.SelectMultiple(attrs={"size": 6}), **common
    )


def _public_field(model: type[Record], name: str, language: str) -> forms.Field | None:
    if name in AUTOMATIC:
        return None
    column = model._meta.get_field(name)
    label = str(column.verbose_name).capitalize()
    if isinstance(column, TermField):
        choices = [("", "—"), *vocab.choices(column.vocabulary, language)]
        return forms.ChoiceField(choices=choices, label=label, required=False)
    if name in LINKS:
        required = not column.null
        target = services.model_of(LINKS[name])
        return forms.CharField(
            label=label,
            max_length=20,
            required=required,
            help_text=_("A code, such as %(example)s.") % {"example": f"{target.PREFIX}-0001"},
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        )
    if model is Event and name == "status":
        return forms.ChoiceField(choices=Event.Status.choices, label=_("Status"))
    return None


def record_form(model: type[Record], language: str, *, identity: bool) -> type[forms.Form]:
    """A form class for ``model``: links and public terms first, then the private fields
    (identifying ones only when ``identity``, since showing them is an audited read)."""
    fields: dict[str, forms.Field] = {}
    for name in model.PUBLIC:
        made = _public_field(model, name, language)
        if made is not None:
            fields[name] = made
    for spec in model.SCHEMA:
        if identity or not spec.identifying:
            fields[spec.name] = _private_field(spec, language)
    return type(f"{model.__name__}Form", (forms.Form,), fields)


def initial_values(row: Record, private: dict[str, Any], ws: services.Workspace) -> dict[str, Any]:
    """What the form shows for an existing record: codes for links, keys for terms, dates in
    their original wording, lists one per line."""
    initial: dict[str, Any] = {}
    for name in row.PUBLIC:
        if name in AUTOMATIC:
            continue
        value = services.public_value(row, name)
        initial[name] = value or ""
    for spec in row.SCHEMA:
        if spec.name not in private:
            continue
        value = private[spec.name]
        if spec.kind == "date":
            when = services.when_of(private, spec.name)
            value = when.wording if when else ""
        elif spec.kind == "list":
            value = "\n".join(value)
        initial[spec.name] = value
    return initial


def split(
    model: type[Record], cleaned: dict[str, Any], ws: services.Workspace
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(private, public) values from a valid form for ``services.save``.

    Raises:
        BadInput: a code names no record of the right kind (the message names the field).
    """
    private: dict[str, Any] = {}
    public: dict[str, Any] = {}
    specs = {spec.name: spec for spec in model.SCHEMA}
    for name, value in cleaned.items():
        if name in specs:
            private[name] = value
        elif name in LINKS:
            public[name] = _link(ws, name, value)
        else:
            public[name] = value
    return private, public


def _link(ws: services.Workspace, name: str, code: str) -> Record | None:
    from refugium.errors import BadInput, NotFound

    if not code:
        return None
    try:
        return services.get(ws, LINKS[name], code)
    except NotFound:
        raise BadInput(f"{name}: no {LINKS[name]} with that code") from None


def month(text: str) -> date | None:
    """A month as a form field gives it (``YYYY-MM``, blank for none): its first day.

    Raises:
        forms.ValidationError: not a month.
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        year, number = text.split("-")
        return date(int(year), int(number), 1)
    except ValueError:
        raise forms.ValidationError(_("Write a month as YYYY-MM, for example 2017-02.")) from None
