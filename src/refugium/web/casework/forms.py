"""Forms of the caseworkers' pages: they shape input only.

``cases`` and ``services`` check every value again (risks, needs, contacts, signals, stages,
roles) and their ``BadInput`` comes back to the form beside the field it names
(``add_error``), never as an error page. Choices come from the same data the services use
(``cases.NEEDS``, the checklist, the stage table, ``cases.MANUAL_FLAGS``), so a signal added
to ``verification.toml`` appears in the form at once.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from refugium.casework.stages import TRANSITIONS
from refugium.casework.verification import checklist
from refugium.errors import RefugiumError
from refugium.web.casework import cases
from refugium.web.casework.models import Assignment, Case, WatchlistEntry

NEED_LABELS = {
    "shelter": _("Shelter"),
    "travel": _("Travel"),
    "documents": _("Documents"),
    "medical": _("Medical"),
    "psychological": _("Psychological"),
    "legal": _("Legal"),
    "money": _("Money"),
}
STAGE_LABELS = {
    "request": _("Request"),
    "verification": _("Verification"),
    "safe": _("Safe"),
    "exit": _("Exit"),
    "relocated": _("Relocated"),
    "resettled": _("Resettled"),
    "closed": _("Closed"),
    "rejected": _("Rejected"),
}
TEXT = {"autocomplete": "off", "spellcheck": "false"}


def add_service_error(form: forms.Form, error: RefugiumError, prefixes: dict[str, str]) -> None:
    """Puts a service's error beside the field its message starts with (``"contact 2: …"``
    goes to ``contacts`` when ``prefixes`` maps ``"contact"`` to it), else above the form."""
    for prefix, name in prefixes.items():
        if error.message.startswith(prefix) and name in form.fields:
            form.add_error(name, error.message)
            return
    form.add_error(None, error.message)


class PageForm(forms.Form):
    """A form that shares its page with others: its ids start with ``PREFIX`` (two forms'
    ``note`` fields never share ``id_note``), while its field names stay plain."""

    PREFIX = "id"
    ERRORS: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.PREFIX}_%s")
        super().__init__(*args, **kwargs)


class NewCaseForm(PageForm):
    submission = forms.CharField(
        label=_("Intake submission"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs=TEXT),
        help_text=_("The code the inbox shows, if the request came in through the intake form."),
    )
    name = forms.CharField(
        label=_("Name or pseudonym"),
        required=False,
        max_length=cases.MAX_NAME,
        widget=forms.TextInput(attrs=TEXT),
        help_text=_("As you write it; stored encrypted under the case's own key."),
    )
    contacts = forms.CharField(
        label=_("Contacts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, **TEXT}),
        help_text=_(
            "One per line: phone numbers in any written form, Telegram usernames, e-mail "
            "addresses. Each is checked against the watchlist."
        ),
    )
    channel = forms.CharField(
        label=_("Request channel"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=TEXT),
        help_text=_(
            "How the request came in (default: the submission, else the first contact). A "
            "call-back on it never counts as verification."
        ),
    )
    risk = forms.ChoiceField(label=_("Risk"), choices=Case.Risk.choices, initial=Case.Risk.HIGH)
    needs = forms.MultipleChoiceField(
        label=_("Needs"),
        required=False,
        choices=[(need, NEED_LABELS[need]) for need in cases.NEEDS],
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=cases.MAX_NOTES,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    ERRORS = {
        "contact": "contacts",
        "more than": "contacts",
        "name": "name",
        "notes": "notes",
        "an attestation needs the channel": "channel",
        "no submission": "submission",
        "no risk": "risk",
        "no need": "needs",
    }

    def contact_lines(self) -> list[tuple[str, str | None]]:
        lines = self.cleaned_data["contacts"].splitlines()
        return [(line.strip(), None) for line in lines if line.strip()]


class AttestationForm(PageForm):
    PREFIX = "attest"
    signal = forms.ChoiceField(label=_("Signal"))
    channel = forms.CharField(
        label=_("Channel it came over"),
        max_length=200,
        widget=forms.TextInput(attrs=TEXT),
        help_text=_("A phone number, username, or who the referee or partner is."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    ERRORS = {
        "an attestation needs the channel": "channel",
        "no verification": "signal",
        "note": "note",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["signal"].choices = [(s.id, s.en) for s in checklist().signals]


class StageForm(PageForm):
    PREFIX = "stage"
    stage = forms.ChoiceField(label=_("Move to stage"))

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [
            (stage, STAGE_LABELS[stage]) for stage in TRANSITIONS[current]
        ]


class FlagForm(PageForm):
    PREFIX = "flag"
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[(code, label) for code, label in cases.MANUAL_FLAGS.items()]
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "What happened; stored encrypted. A flag stays open until a second "
            "caseworker clears it."
        ),
    )
    ERRORS = {"note": "note", "no flag reason": "reason"}


class ClearForm(PageForm):
    """No field: the flag is in the URL; the form carries the CSRF token."""

    PREFIX = "clear"


def _members(desk: Any) -> Any:
    return User.objects.filter(
        is_active=True,
        memberships__desk=desk,
        memberships__active=True,
    ).order_by("username")


class AssignForm(PageForm):
    PREFIX = "assign"
    user = forms.ChoiceField(label=_("Member of the casework desk"))
    role = forms.ChoiceField(label=_("Role"), choices=Assignment.Role.choices)
    ERRORS = {"no role": "role"}

    def __init__(self, *args: Any, case: Case, desk: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assigned = Assignment.objects.filter(case=case).values("user")
        self.fields["user"].choices = [
            (u.username, u.username) for u in _members(desk).exclude(pk__in=assigned)
        ]


class UnassignForm(PageForm):
    PREFIX = "unassign"
    user = forms.ChoiceField(label=_("Assignee"))

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [
            (a.user.username, f"{a.user.username} ({a.get_role_display()})")
            for a in Assignment.objects.filter(case=case).select_related("user")
        ]


class CutOffForm(PageForm):
    PREFIX = "cutoff"
    user = forms.ChoiceField(
        label=_("Caseworker to cut off"),
        help_text=_(
            "Every case they are assigned to gets a new key they do not hold; their "
            "membership of the casework desk is revoked and their sessions end."
        ),
    )
    confirm = forms.BooleanField(
        label=_("Yes, cut this caseworker off now"),
        required=False,
        widget=forms.HiddenInput,
    )
    ERRORS = {"a coordinator cannot": "user"}

    def __init__(self, *args: Any, desk: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [
            (u.username, u.username) for u in _members(desk).exclude(pk=actor.pk)
        ]


class WatchlistAddForm(PageForm):
    PREFIX = "add"
    identifier = forms.CharField(
        label=_("Contact"),
        max_length=200,
        widget=forms.TextInput(attrs=TEXT),
        help_text=_("A phone number in any written form, a Telegram username, an e-mail address."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Guess from how it looks")), *WatchlistEntry.Kind.choices],
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Who the contact is tied to, and how; stored encrypted."),
    )
    ERRORS = {
        "a watchlist entry needs a reason": "reason",
        "a reason": "reason",
        "contact": "identifier",
        "no kind": "kind",
        "not a": "identifier",
        "a ": "identifier",
        "an ": "identifier",
    }


class WatchlistCheckForm(PageForm):
    PREFIX = "check"
    identifier = forms.CharField(
        label=_("Contact to check"), max_length=200, widget=forms.TextInput(attrs=TEXT)
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=WatchlistAddForm.base_fields["kind"].choices
    )
    ERRORS = {
        "contact": "identifier",
        "no kind": "kind",
        "not a": "identifier",
        "a ": "identifier",
        "an ": "identifier",
    }


# --- The case's further parts (issue 9: location, check-ins, tasks, notes, documents, costs) --


def _assignees(case: Case) -> list[tuple[str, str]]:
    return [
        (a.user.username, a.user.username)
        for a in Assignment.objects.filter(case=case).select_related("user").order_by("pk")
    ]


def _area(rows: int = 2) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **TEXT})


class LocationFillForm(PageForm):
    """The logistics owner's compartment. ``location.fill`` checks every value again."""

    PREFIX = "fill"
    stage = forms.ChoiceField(label=_("Compartment"))
    region = forms.CharField(
        label=_("Region"),
        max_length=200,
        widget=forms.TextInput(attrs=TEXT),
        help_text=_(
            "Coarse: a country or a federal district. It outlives the compartment in its "
            "tombstone and every assignee reads it."
        ),
    )
    address = forms.CharField(label=_("Address"), required=False, widget=_area())
    route = forms.CharField(label=_("Route"), required=False, widget=_area())
    tickets = forms.CharField(label=_("Tickets"), required=False, widget=_area())
    dates = forms.CharField(label=_("Dates"), required=False, widget=_area())
    notes = forms.CharField(label=_("Notes"), required=False, widget=_area())
    ERRORS = {
        "a region": "region",
        "region": "region",
        "address": "address",
        "route": "route",
        "tickets": "tickets",
        "dates": "dates",
        "notes": "notes",
        "no location compartment": "stage",
    }

    def __init__(self, *args: Any, stages: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [(s, STAGE_LABELS.get(s, s)) for s in stages]


class RevealForm(PageForm):
    """A reveal: the reason is checked by ``location.reveal`` (its message, not Django's)."""

    PREFIX = "reveal"
    reason = forms.CharField(
        label=_("Why the location is needed now"),
        required=False,
        max_length=4000,
        widget=_area(),
        help_text=_(
            "Stored encrypted; every assignee of the case can read it, and a second "
            "person is told at once."
        ),
    )
    minutes = forms.IntegerField(label=_("For how many minutes"), min_value=1)
    ERRORS = {
        "a reveal needs a reason": "reason",
        "reason": "reason",
        "a reveal lasts": "minutes",
    }

    def __init__(self, *args: Any, default: int, most: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["minutes"].initial = default
        self.fields["minutes"].max_value = most
        self.fields["minutes"].validators.append(MaxValueValidator(most))
        self.fields["minutes"].widget.attrs["max"] = most


class HandOverForm(PageForm):
    PREFIX = "handover"
    user = forms.ChoiceField(label=_("New logistics owner"))

    def __init__(self, *args: Any, case: Case, owner: str | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [c for c in _assignees(case) if c[0] != owner]


class CheckinEnrolForm(PageForm):
    """A check-in schedule. The answers are password fields: never rendered back."""

    PREFIX = "checkin"
    every = forms.IntegerField(
        label=_("Check in every (hours)"),
        min_value=1,
        max_value=31 * 24,
        initial=24,
    )
    grace = forms.IntegerField(
        label=_("Grace after a missed check-in (minutes)"),
        min_value=0,
        max_value=7 * 24 * 60,
        initial=60,
    )
    normal_answer = forms.CharField(
        label=_("Normal answer"),
        max_length=4000,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
        help_text=_("What the person answers when all is well, agreed with them in person."),
    )
    duress_answer = forms.CharField(
        label=_("Duress answer"),
        max_length=4000,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
        help_text=_("What they answer when forced: it looks received to whoever forces them."),
    )
    ERRORS = {
        "the check-in period": "every",
        "the grace period": "grace",
        "the duress answer": "duress_answer",
        "the normal and duress": "duress_answer",
        "the normal answer": "normal_answer",
    }


class ButtonForm(PageForm):
    """No field: a button whose address names the case and the row (stop the check-ins,
    mark task 3 done, delete cost 2); the form carries the CSRF token."""

    PREFIX = "button"


class TaskForm(PageForm):
    PREFIX = "task"
    title = forms.CharField(label=_("Task"), max_length=400, widget=forms.TextInput(attrs=TEXT))
    due_on = forms.DateField(
        label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    owner = forms.ChoiceField(label=_("Owner"))
    details = forms.CharField(label=_("Details"), required=False, widget=_area())
    ERRORS = {
        "title": "title",
        "a task's due day": "due_on",
        "a task cannot be due": "due_on",
        "details": "details",
        "owner": "owner",
    }

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = _assignees(case)


class NoteForm(PageForm):
    PREFIX = "note"
    text = forms.CharField(label=_("Note"), required=False, widget=_area(4))
    ERRORS = {"note": "text"}


class DocumentForm(PageForm):
    PREFIX = "document"
    item = forms.CharField(
        label=_("Vault item code"),
        max_length=40,
        widget=forms.TextInput(attrs=TEXT),
        help_text=_("The code of an item in the casework desk's evidence vault."),
    )
    label = forms.CharField(
        label=_("Label"), required=False, max_length=400, widget=forms.TextInput(attrs=TEXT)
    )
    ERRORS = {"no document": "item", "label": "label"}


class CostForm(PageForm):
    PREFIX = "cost"
    spent_on = forms.DateField(
        label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    category = forms.ChoiceField(label=_("Category"))
    amount = forms.CharField(
        label=_("Amount"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", **TEXT}),
        help_text=_("As written: 12.50, 12,5 or 1 200."),
    )
    currency = forms.CharField(
        label=_("Currency"), max_length=3, initial="EUR", widget=forms.TextInput(attrs=TEXT)
    )
    description = forms.CharField(label=_("What for"), required=False, widget=_area())
    ERRORS = {
        "a cost is recorded": "spent_on",
        "the day": "spent_on",
        "no cost category": "category",
        "a currency": "currency",
        "'": "currency",
        "description": "description",
        "an amount": "amount",
        "amount": "amount",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from refugium.casework.ledger import CATEGORIES

        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c, c) for c in CATEGORIES]


# --- Do-not-disclose, referrals, partners, the ledger (issue 9) -----------------------------

REFERRAL_FIELD_LABELS = {
    "risk": _("Risk"),
    "needs": _("Needs"),
    "stage": _("Stage"),
    "name": _("Name or pseudonym"),
    "contact": _("One contact"),
}
CONSENT_LABELS = {
    "in_person": _("In person"),
    "call": _("On a call"),
    "message": _("By message"),
    "written": _("In writing"),
}


def _contact_lines(text: str) -> list[tuple[str, str | None]]:
    return [(line.strip(), None) for line in text.splitlines() if line.strip()]


class DoNotDiscloseForm(PageForm):
    PREFIX = "dnd"
    kind = forms.ChoiceField(label=_("Who they are"))
    name = forms.CharField(
        label=_("Name"), required=False, max_length=400, widget=forms.TextInput(attrs=TEXT)
    )
    contacts = forms.CharField(
        label=_("Contacts"),
        required=False,
        widget=_area(3),
        help_text=_("One per line: phone numbers, Telegram usernames, e-mail addresses."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=_area())
    ERRORS = {
        "a do-not-disclose entry needs": "name",
        "name": "name",
        "contact": "contacts",
        "more than": "contacts",
        "note": "note",
        "no kind": "kind",
        "not a": "contacts",
        "a ": "contacts",
        "an ": "contacts",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from refugium.web.casework.models import DoNotDisclose

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = DoNotDisclose.Kind.choices

    def contact_lines(self) -> list[tuple[str, str | None]]:
        return _contact_lines(self.cleaned_data["contacts"])


class ReferralForm(PageForm):
    PREFIX = "refer"
    partner = forms.ChoiceField(label=_("Partner organisation"))
    share = forms.MultipleChoiceField(
        label=_("What the partner receives"),
        choices=list(REFERRAL_FIELD_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The location, flags, notes and the do-not-disclose list never leave."),
    )
    contact = forms.IntegerField(
        label=_("Which contact (1 is the first)"),
        min_value=1,
        initial=1,
        help_text=_("Only if the partner receives one contact."),
    )
    consent_how = forms.ChoiceField(
        label=_("How the person consented"), choices=list(CONSENT_LABELS.items())
    )
    consent_on = forms.DateField(
        label=_("Consented on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    consent_note = forms.CharField(
        label=_("What they agreed to, in their words"), required=False, widget=_area()
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("At most 30 days ahead (the default)."),
    )
    ERRORS = {
        "no field": "share",
        "choose the fields": "share",
        "no consent": "consent_how",
        "no way of consent": "consent_how",
        "consent cannot": "consent_on",
        "a referral cannot expire": "expires_on",
        "a referral expires": "expires_on",
        "the case has no contact": "contact",
        "a contact": "contact",
        "note": "consent_note",
        "P-": "partner",
        "no partner": "partner",
    }

    def __init__(self, *args: Any, partners: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].choices = partners


class PartnerForm(PageForm):
    PREFIX = "partner"
    name = forms.CharField(
        label=_("Organisation"), max_length=400, widget=forms.TextInput(attrs=TEXT)
    )
    recipient = forms.CharField(
        label=_("Their age public key"),
        max_length=200,
        widget=forms.TextInput(attrs=TEXT),
        help_text=_(
            "One line starting with age1, as age-keygen prints it. Never their secret key."
        ),
    )
    contacts = forms.CharField(
        label=_("Contacts"),
        required=False,
        widget=_area(3),
        help_text=_("One per line. Checked against each case's do-not-disclose list."),
    )
    ERRORS = {
        "a partner needs a name": "name",
        "name": "name",
        "not an age recipient": "recipient",
        "contact": "contacts",
        "not a": "contacts",
        "a ": "contacts",
        "an ": "contacts",
    }

    def contact_lines(self) -> list[tuple[str, str | None]]:
        return _contact_lines(self.cleaned_data["contacts"])


class LedgerForm(PageForm):
    PREFIX = "ledger"
    year = forms.IntegerField(label=_("Year"), required=False, min_value=1900, max_value=9999)
    ERRORS = {"a report's year": "year"}
