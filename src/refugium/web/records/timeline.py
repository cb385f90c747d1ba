"""Timelines of an event, a person or a place, from the sealed dates of what links to them.

Days stay sealed in the database (only months are public), so a timeline is built in memory
from the records' ``details``: a few hundred rows at most for one event or person. Entries are
ordered by their earliest possible day, then their latest; an entry with no known date comes
last, rather than at an invented one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext

from refugium.records.dates import FuzzyDate
from refugium.web.records import services
from refugium.web.records.models import (
    Act,
    ChainLink,
    Event,
    Information,
    Intervention,
    Involvement,
    Person,
    Place,
    Record,
    Relationship,
)


@dataclass
class Entry:
    when: FuzzyDate | None
    row: Record
    what: str
    others: list[Record] = field(default_factory=list)

    def sort_key(self) -> tuple[int, date, date, int]:
        if self.when is None:
            return (1, date.max, date.max, self.row.pk)
        return (0, self.when.earliest or date.min, self.when.latest or date.max, self.row.pk)


def _when(ws: services.Workspace, row: Record, name: str = "when") -> FuzzyDate | None:
    return services.when_of(services.read(ws, row), name)


def _label(row: Record, name: str, language: str) -> str:
    term = getattr(row, name, None)
    return term.label(language) if term is not None else ""


def _act(ws: services.Workspace, act: Act, language: str, *, role: str = "") -> Entry:
    when = _when(ws, act) or _when(ws, act.event)
    what = " · ".join(filter(None, [role, _label(act, "act_type", language) or gettext("act")]))
    others: list[Record] = [act.event, act.victim] + ([act.place] if act.place else [])
    return Entry(when, act, what, others)


def of(ws: services.Workspace, row: Record, language: str = "en") -> list[Entry]:
    """The dated entries about ``row`` (an Event, Person or Place), in time order."""
    entries: list[Entry] = []
    acts = Act.objects.select_related("event", "victim", "place", "act_type")
    if isinstance(row, Event):
        entries.append(Entry(_when(ws, row), row, gettext("event")))
        entries += [_act(ws, act, language) for act in acts.filter(event=row)]
        entries += _chained(ws, row, language)
        entries += _information(ws, Information.objects.filter(event=row))
        entries += _interventions(ws, Intervention.objects.filter(event=row))
    elif isinstance(row, Person):
        entries += [
            _act(ws, act, language, role=gettext("victim")) for act in acts.filter(victim=row)
        ]
        for involvement in Involvement.objects.filter(perpetrator=row).select_related(
            "act__event", "act__victim", "act__place", "act__act_type"
        ):
            entry = _act(ws, involvement.act, language, role=gettext("perpetrator"))
            entry.others.append(involvement)
            entries.append(entry)
        entries += _information(ws, Information.objects.filter(person=row))
        entries += _interventions(ws, Intervention.objects.filter(victim=row))
        for rel in Relationship.objects.filter(person=row).select_related("other"):
            entries.append(Entry(_when(ws, rel), rel, gettext("relationship"), [rel.other]))
    elif isinstance(row, Place):
        entries += [_act(ws, act, language) for act in acts.filter(place=row)]
    return sorted(entries, key=Entry.sort_key)


def _chained(ws: services.Workspace, event: Event, language: str) -> list[Entry]:
    """Events linked to ``event`` by a chain of events, in either direction."""
    entries = []
    links = ChainLink.objects.select_related("from_event", "to_event", "chain_type")
    for link in links.filter(from_event=event) | links.filter(to_event=event):
        other = link.to_event if link.from_event_id == event.pk else link.from_event
        what = _label(link, "chain_type", language) or gettext("linked event")
        entries.append(Entry(_when(ws, other), other, what, [link]))
    return entries


def _information(ws: services.Workspace, rows: Any) -> list[Entry]:
    return [
        Entry(_when(ws, info, "received"), info, gettext("information received"), [info.source])
        for info in rows.select_related("source")
    ]


def _interventions(ws: services.Workspace, rows: Any) -> list[Entry]:
    return [Entry(_when(ws, item), item, gettext("intervention")) for item in rows]
