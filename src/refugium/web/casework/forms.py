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
from django.utils.translation import gettext_lazy as _

from refugium.casework.stages import TRANSITIONS
from refugium.casework.verification import checklist
from refugium.errors import BadInput
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


def add_service_error(form: forms.Form, error: BadInput, prefixes: dict[str, str]) -> None:
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
