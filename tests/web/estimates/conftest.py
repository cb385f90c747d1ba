"""A small synthetic documentation database whose capture table is known by construction.

All data are invented for these tests. Three Sources are the lists (``S1`` an NGO's list,
``S2`` a hotline log, ``S3`` press reports); every victim below is named by the Sources in
their pattern through a person-level Information row:

    event E1  ru-ce  March 2017   a1 a2 a3: S1   b1 b2: S2   c1 c2: S1 S2   d1: S1 S3
                                  e1: S1 S2 S3   n1: on no list (S3 told us about E1 only)
                                  kept + merged: one man entered twice (S1; S2, and S3 on
                                  the merged record after the merge), merged: S1 S2 S3
                                  y1: S2, also a victim in E2 (two strata)
    event E2  ru-da  May 2017     f1: S2 S3      n2: on no list   y1
    event E3  ru-mow March 2017   g1: S1 (another region); x1: S3, whose act is in ru-ce
    event E4  ru-ce  March 2019   h1: S1 S2 (another period)
    event E5  ru-ce  no date      u1: S1 (undated)

For 2017 in the North Caucasus (ru-ce and ru-da), lists S1, S2, S3 (bits 1, 2, 4):
S1 only 3, S2 only 3, S1 S2 2, S3 only 1, S1 S3 1, S2 S3 1, all three 2: 13 observed of 15
victims; n1 and n2 are on no list, n1 linked to S3 through its event; u1 is undated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from refugium.web.matches import services as matches
from refugium.web.matches.models import PersonMatch
from refugium.web.records import services
from refugium.web.records.models import Act, Event, Information, Person, Source
from tests.web.records.conftest import ws  # noqa: F401 (the unlocked documentation desk)

EXPECTED = {1: 3, 2: 3, 3: 2, 4: 1, 5: 1, 6: 1, 7: 2}
"""Counts by bit mask for 2017, North Caucasus, lists S1 S2 S3."""


@dataclass
class World:
    sources: dict[str, Source]
    persons: dict[str, Person] = field(default_factory=dict)
    events: dict[str, Event] = field(default_factory=dict)

    def codes(self, *names: str) -> list[str]:
        return [self.sources[name].code for name in names]


def _event(ws: services.Workspace, when: str, region: str) -> Event:  # noqa: F811
    private: dict[str, Any] = {"title": f"Invented event, {region}"}
    if when:
        private["when"] = when
    return services.save(ws, Event(), private, {"region": region})  # type: ignore[return-value]


def _victim(
    ws: services.Workspace,  # noqa: F811
    world: World,
    name: str,
    events: list[str],
    sources: list[str],
    act_region: str | None = None,
) -> Person:
    person = services.save(ws, Person(), {"remarks": f"invented victim {name}"})
    for event in events:
        public: dict[str, Any] = {"act_type": "arrest"}
        if act_region:
            public["region"] = act_region
        services.save(ws, Act(event=world.events[event], victim=person), {}, public)
    for source in sources:
        services.save(ws, Information(source=world.sources[source], person=person), {})
    world.persons[name] = person  # type: ignore[assignment]
    return person  # type: ignore[return-value]


@pytest.fixture
def world(ws: services.Workspace) -> World:  # noqa: F811
    made = World(
        sources={
            name: services.save(ws, Source(), {"title": title})  # type: ignore[misc]
            for name, title in (
                ("S1", "Invented NGO list"),
                ("S2", "Invented hotline log"),
                ("S3", "Invented press reports"),
            )
        }
    )
    made.events = {
        "E1": _event(ws, "March 2017", "ru-ce"),
        "E2": _event(ws, "May 2017", "ru-da"),
        "E3": _event(ws, "March 2017", "ru-mow"),
        "E4": _event(ws, "March 2019", "ru-ce"),
        "E5": _event(ws, "", "ru-ce"),
    }
    for name, sources in (
        ("a1", ["S1"]),
        ("a2", ["S1"]),
        ("a3", ["S1"]),
        ("b1", ["S2"]),
        ("b2", ["S2"]),
        ("c1", ["S1", "S2"]),
        ("c2", ["S1", "S2"]),
        ("d1", ["S1", "S3"]),
        ("e1", ["S1", "S2", "S3"]),
        ("n1", []),
    ):
        _victim(ws, made, name, ["E1"], sources)
    _victim(ws, made, "y1", ["E2", "E1"], ["S2"])
    _victim(ws, made, "f1", ["E2"], ["S2", "S3"])
    _victim(ws, made, "n2", ["E2"], [])
    _victim(ws, made, "g1", ["E3"], ["S1"])
    _victim(ws, made, "x1", ["E3"], ["S3"], act_region="ru-ce")
    _victim(ws, made, "h1", ["E4"], ["S1", "S2"])
    _victim(ws, made, "u1", ["E5"], ["S1"])
    # S3 told us about event E1 without naming its victims.
    services.save(ws, Information(source=made.sources["S3"], event=made.events["E1"]), {})
    # One man entered twice, then confirmed the same person: the second record's links move.
    kept = _victim(ws, made, "kept", ["E1"], ["S1"])
    merged = _victim(ws, made, "merged", ["E1"], ["S2"])
    match = PersonMatch.objects.create(
        desk=ws.desk,
        person_a=kept,
        person_b=merged,
        probability=0.97,
        created_on=timezone.localdate(),
    )
    matches.confirm(ws, match)
    # A link added to the merged record afterwards (an import by its old id) still counts
    # for the person it was merged into.
    services.save(ws, Information(source=made.sources["S3"], person=merged), {})
    return made
