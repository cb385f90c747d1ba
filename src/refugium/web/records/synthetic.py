"""A synthetic campaign of detentions, for the demo, the tests and the benchmarks.

Nothing here is real. Names are built from syllable lists (``Zelkhan Rusurovich Dashkaev``),
towns likewise, and every title and free-text field says SYNTHETIC. What is realistic is the
shape, modelled on the 2017 detentions of gay men in Chechnya: waves of detentions (spring
2017, summer 2017, winter 2018-19, 2019, 2020-21), official prisons, unofficial facilities and
police stations across the North Caucasus, the same person detained more than once, some
perpetrators later victims, relatives who are a danger, NGO lists, press articles and
testimonies of uneven reliability, dates given as loosely as witnesses give them ("late
February 2017", "between 10 and 15 March 2017", "2017"), and a wave recorded as an event that
encompasses smaller ones (ESF chain of events).

``plan(events, seed)`` is pure: the same arguments give the same records, as plain data, in
batches (one batch holds a few thousand rows, so 100,000 events never sit in memory at once).
``write(ws, plan(...))`` checks and seals each batch with ``services.prepare`` and writes it
with ``services.save_many``, one transaction per batch. Record uids and ciphertexts are random
as always; what the seed fixes is the content.
"""

from __future__ import annotations

import bisect
import random
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from django.db import transaction

from refugium.records import dates
from refugium.web.core.auditing import record as audit
from refugium.web.records import services
from refugium.web.records.models import RECORD_TYPES
from refugium.web.records.services import Workspace

MIN_EVENTS = 100
MAX_EVENTS = 100_000
EVENTS_PER_BATCH = 1_000
ROWS_PER_BATCH = 5_000
DEFAULT_SEED = 2017
MARK = "SYNTHETIC"

# --- Names, built from syllables: (Latin, Cyrillic) ------------------------------------------

GIVEN_START = [
    ("Ala", "Ала"), ("Ruz", "Руз"), ("Mag", "Маг"), ("Zel", "Зел"), ("Bek", "Бек"),
    ("Tim", "Тим"), ("Usa", "Уса"), ("Kha", "Ха"), ("Ism", "Исм"), ("Asl", "Асл"),
    ("Dzha", "Джа"), ("Sul", "Сул"), ("Ibr", "Ибр"), ("Mov", "Мов"), ("Sai", "Саи"),
    ("Ayu", "Аю"), ("Vla", "Вла"), ("Ser", "Сер"), ("Ole", "Оле"), ("Ant", "Ант"),
]  # fmt: skip
GIVEN_END = [
    ("bek", "бек"), ("khan", "хан"), ("mud", "муд"), ("ur", "ур"), ("an", "ан"),
    ("id", "ид"), ("im", "им"), ("sult", "султ"), ("ali", "али"), ("mir", "мир"),
    ("slav", "слав"), ("rat", "рат"),
]  # fmt: skip
FAMILY_START = [
    ("Dash", "Даш"), ("Mus", "Мус"), ("Khal", "Хал"), ("Ter", "Тер"), ("Gud", "Гуд"),
    ("Yand", "Янд"), ("Bars", "Барс"), ("Tsur", "Цур"), ("Ved", "Вед"), ("Shal", "Шал"),
    ("Arg", "Арг"), ("Nokh", "Нох"), ("Erz", "Эрз"), ("Kur", "Кур"), ("Zhab", "Жаб"),
    ("Lom", "Лом"), ("Sav", "Сав"), ("Pet", "Пет"), ("Mor", "Мор"), ("Kol", "Кол"),
]  # fmt: skip
FAMILY_MIDDLE = [
    ("ka", "ка"), ("ur", "ур"), ("ma", "ма"), ("i", "и"), ("aud", "ауд"), ("ga", "га"),
    ("bi", "би"), ("lo", "ло"), ("dy", "ды"), ("sh", "ш"), ("rt", "рт"), ("ne", "не"),
]  # fmt: skip
FAMILY_END = [("ev", "ев"), ("aev", "аев"), ("iev", "иев"), ("ov", "ов"), ("in", "ин")]
TOWN_START = [
    ("Ved", "Вед"), ("Shal", "Шал"), ("Ur", "Ур"), ("Gel", "Гел"), ("Ach", "Ач"),
    ("Bach", "Бач"), ("Nas", "Нас"), ("Sern", "Серн"), ("Khar", "Хар"), ("Dol", "Дол"),
]  # fmt: skip
TOWN_END = [
    ("urt", "урт"), ("i-Yurt", "и-Юрт"), ("ali", "али"), ("khoy", "хой"), ("gun", "гун"),
    ("ovsk", "овск"), ("skaya", "ская"), ("ki", "ки"),
]  # fmt: skip

# --- The campaign's shape -------------------------------------------------------------------


class Wave(NamedTuple):
    label: str
    start: date
    end: date
    weight: float
    # How the umbrella event's date is worded: what NGOs wrote about the whole wave.
    wording: str


WAVES = [
    Wave("spring 2017", date(2017, 2, 20), date(2017, 5, 31), 0.35,
         "between 20 February and 31 May 2017"),
    Wave("summer 2017", date(2017, 6, 1), date(2017, 8, 31), 0.15, "summer 2017"),
    Wave("winter 2018-19", date(2018, 12, 1), date(2019, 2, 28), 0.2, "winter 2018/2019"),
    Wave("2019", date(2019, 3, 1), date(2019, 12, 31), 0.2, "March-December 2019"),
    Wave("2020-21", date(2020, 1, 1), date(2021, 12, 31), 0.1, "2020-2021"),
]  # fmt: skip
REGIONS = [
    ("ru-ce", 70), ("ru-da", 8), ("ru-in", 6), ("ru-kb", 4), ("ru-se", 3), ("ru-sta", 3),
    ("ru-mow", 4), ("ru-spe", 2),
]  # fmt: skip
PLACE_KINDS = [
    ("unofficial-detention", "unofficial detention facility", 25),
    ("police-station", "police station", 35),
    ("official-detention", "district department", 10),
    ("pre-trial-detention-centre", "pre-trial detention centre", 8),
    ("prison", "prison", 7),
    ("military-or-security-base", "security base", 10),
    ("private-house", "private house", 5),
]
ACT_TYPES = [
    ("arrest", 34), ("detention", 20), ("torture", 18), ("ill-treatment", 8),
    ("abduction", 5), ("disappearance", 2), ("threats", 5), ("extortion", 3),
    ("forced-outing", 2), ("phone-search", 2), ("death-in-custody", 0.5),
    ("killing-by-relatives", 0.5),
]  # fmt: skip
KILLINGS = {"death-in-custody", "killing-by-relatives"}
VICTIM_STATUS = [
    ("released-or-escaped", 40), ("released-to-relatives", 15), ("currently-held", 5),
    ("still-missing", 4), ("resettled-other-country", 8), ("displaced-in-flight", 5),
    ("unknown", 23),
]  # fmt: skip
METHODS = [
    "beating",
    "electric-shock",
    "verbal-abuse",
    "threat-of-outing",
    "deprived-food-water",
    "forced-nakedness",
    "filming-humiliation",
    "blows-with-objects",
    "death-threats",
    "overcrowding",
    "isolation",
    "sexual-threats",
]
PERPETRATOR_TYPES = [
    ("police", 40), ("armed-forces", 12), ("intelligence", 10), ("prison-officials", 5),
    ("local-officials", 5), ("pro-government-forces", 8), ("parents", 4), ("siblings", 4),
    ("other-relatives", 7), ("unknown", 5),
]  # fmt: skip
DEGREES = [
    ("directly-carried-out", 50), ("gave-orders", 15), ("confirmed-present", 20),
    ("suspected", 15),
]  # fmt: skip
PERPETRATOR_STATUS = ["holding-post-unpunished", "holding-post-uncharged", "unknown"]
SOURCE_CONNECTIONS = {
    "ngo-list": ["human-rights-ngo", "ngo"],
    "media": ["reporter", "third-party"],
    "testimony": ["victim", "witness", "fellow-detainee", "victims-relative"],
}
RELIABILITY = [
    ("highly-reliable", 15), ("likely-reliable", 45), ("unsure", 25),
    ("likely-unreliable", 8), ("unknown", 7),
]  # fmt: skip
RELATIONSHIPS = [
    ("sibling", 20, 0.4), ("parent", 15, 0.5), ("uncle-or-aunt", 10, 0.6),
    ("cousin", 10, 0.5), ("threatening-relative", 10, 1.0), ("partner", 15, 0.0),
    ("friend", 15, 0.05), ("fellow-detainee", 5, 0.0),
]  # fmt: skip
INTERVENTIONS = [
    "evacuation", "shelter", "legal-aid", "psychological-support", "medical-aid",
    "complaint-to-national-authorities", "international-mechanism", "demand-for-investigation",
]  # fmt: skip
ORGANISATIONS = [
    "SYNTHETIC Crisis Network", "SYNTHETIC Rights Centre", "SYNTHETIC Shelter Group",
    "SYNTHETIC Legal Aid Project", "SYNTHETIC Press Watch", "SYNTHETIC Relocation Fund",
]  # fmt: skip

MONTHS_EN = [
    "", "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
]  # fmt: skip
MONTHS_RU_GENITIVE = [
    "", "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
    "сентября", "октября", "ноября", "декабря",
]  # fmt: skip


# --- Plain data: what ``plan`` yields ----------------------------------------------------------


class Ref(NamedTuple):
    """A link to the ``index``-th record of ``kind`` in this plan (its pk once written)."""

    kind: str
    index: int


@dataclass
class Spec:
    private: dict[str, Any]
    public: dict[str, Any]


@dataclass
class Batch:
    """Rows written in one transaction: (kind, specs) groups, in order (links point back)."""

    groups: list[tuple[str, list[Spec]]] = field(default_factory=list)
    events_done: int = 0

    def add(self, kind: str, spec: Spec) -> None:
        if not self.groups or self.groups[-1][0] != kind:
            self.groups.append((kind, []))
        self.groups[-1][1].append(spec)

    @property
    def rows(self) -> int:
        return sum(len(specs) for _, specs in self.groups)


def _weighted(pairs: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    keys, cumulative, total = [], [], 0.0
    for key, weight in pairs:
        keys.append(key)
        total += weight
        cumulative.append(total)
    return keys, cumulative


class _Campaign:
    """Draws the campaign from one seeded ``random.Random``, in a fixed order."""

    def __init__(self, events: int, seed: int) -> None:
        if not MIN_EVENTS <= events <= MAX_EVENTS:
            raise ValueError(f"events must be from {MIN_EVENTS} to {MAX_EVENTS}")
        self.rng = random.Random(seed)  # noqa: S311 (reproducible invented data, no secret)
        self.events = events
        self.places = 12 + events // 100
        self.victims = int(events * 1.3)
        self.perpetrators = events // 5
        self.media = max(3, events // 25)
        self.testimonies = max(5, events // 8)
        self.relationships = events // 10
        self.interventions = max(2, events // 40)
        self.tables = {
            name: _weighted(pairs)  # type: ignore[arg-type]
            for name, pairs in {
                "region": REGIONS,
                "act_type": ACT_TYPES,
                "victim_status": VICTIM_STATUS,
                "perpetrator_type": PERPETRATOR_TYPES,
                "degree": DEGREES,
                "reliability": RELIABILITY,
                "place_kind": [(k, w) for k, _, w in PLACE_KINDS],
                "relationship": [(k, w) for k, w, _ in RELATIONSHIPS],
                "wave": [(str(i), w.weight) for i, w in enumerate(WAVES)],
            }.items()
        }
        self.place_labels = {k: label for k, label, _ in PLACE_KINDS}
        self.danger = {k: p for k, _, p in RELATIONSHIPS}
        # A few infamous places hold most detainees (Zipf-like), as in the reports.
        self.place_weights = list(_cumulative([1 / (i + 1) ** 0.8 for i in range(self.places)]))
        self.place_region: list[str] = []
        self.birth_year: list[int] = []
        # Persons: organisations, then victims, then perpetrators.
        self.first_victim = len(ORGANISATIONS)
        self.first_perpetrator = self.first_victim + self.victims
        self.persons = self.first_perpetrator + self.perpetrators
        self.source_kinds: list[str] = []
        self.acts = 0
        self.event_count = 0

    def pick(self, table: str) -> str:
        keys, cumulative = self.tables[table]
        return keys[bisect.bisect(cumulative, self.rng.random() * cumulative[-1])]

    # -- names --

    def name(self, parts: list[tuple[str, str]]) -> tuple[str, str]:
        return "".join(p[0] for p in parts), "".join(p[1] for p in parts)

    def person_name(self) -> dict[str, Any]:
        r = self.rng
        given = self.name([r.choice(GIVEN_START), r.choice(GIVEN_END)])
        father = self.name([r.choice(GIVEN_START), r.choice(GIVEN_END)])
        family = self.name([r.choice(FAMILY_START), r.choice(FAMILY_MIDDLE), r.choice(FAMILY_END)])
        patronymic = (father[0] + "ovich", father[1] + "ович")
        values: dict[str, Any] = {
            "full_name": f"{given[0]} {patronymic[0]} {family[0]}",
            "given_name": given[0],
            "patronymic": patronymic[0],
            "family_name": family[0],
        }
        if r.random() < 0.3:
            values["other_names"] = [f"{family[1]} {given[1]} {patronymic[1]}"]
        return values

    def town(self) -> str:
        return self.name([self.rng.choice(TOWN_START), self.rng.choice(TOWN_END)])[0]

    # -- dates --

    def day_in(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def wording(self, day: date) -> str:
        """A date as a witness might give it, containing ``day``, at a random precision."""
        r = self.rng.random()
        month, year = MONTHS_EN[day.month], day.year
        if r < 0.25:
            return f"{day.day} {month} {year}"
        if r < 0.33:
            return f"{day:%d.%m.%Y}"
        if r < 0.47:
            part = "early" if day.day <= 10 else "mid" if day.day <= 20 else "late"
            return f"{part} {month} {year}"
        if r < 0.60:
            first = max(1, day.day - self.rng.randrange(4))
            last = min(_month_end(day).day, day.day + 1 + self.rng.randrange(5))
            return f"between {first} and {last} {month} {year}"
        if r < 0.75:
            return f"{month} {year}"
        if r < 0.82:
            season = ("winter", "spring", "summer", "autumn")[day.month % 12 // 3]
            return f"{season} {year + 1 if day.month == 12 else year}"
        if r < 0.87:
            return str(year)
        if r < 0.92:
            return f"around {day.day} {month} {year}"
        if r < 0.96:
            part = "начало" if day.day <= 10 else "середина" if day.day <= 20 else "конец"
            return f"{part} {MONTHS_RU_GENITIVE[day.month]} {year} г."
        if r < 0.98:
            return f"{day.day} {MONTHS_RU_GENITIVE[day.month]} {year} года"
        return f"before {_month_end(day).day} {month} {year}"

    def exact(self, day: date) -> dates.FuzzyDate:
        return dates.from_bounds(day, day, f"{day.day} {MONTHS_EN[day.month]} {day.year}")

    # -- the plan --

    def batches(self) -> Iterator[Batch]:
        yield from self._rows("place", self.places, self.place)
        yield from self._rows("person", self.persons, self.person)
        sources = ["ngo-list"] * (2 * len(WAVES)) + ["media"] * self.media
        sources += ["testimony"] * self.testimonies
        self.source_kinds = sources
        yield from self._rows("source", len(sources), self.source)
        yield from self._rows("relationship", self.relationships, self.relationship)
        yield from self._events()

    def _rows(self, kind: str, count: int, make: Callable[[int], Spec]) -> Iterator[Batch]:
        for start in range(0, count, ROWS_PER_BATCH):
            batch = Batch()
            for index in range(start, min(count, start + ROWS_PER_BATCH)):
                batch.add(kind, make(index))
            yield batch

    def place(self, index: int) -> Spec:
        kind = self.pick("place_kind")
        region = self.pick("region")
        self.place_region.append(region)
        town = self.town()
        label = self.place_labels[kind]
        return Spec(
            {
                "name": f"{MARK} {label} No. {index + 1}, {town}",
                "other_names": [f"{MARK} the {label} at {town}"],
                "used": self.wording(self.day_in(date(2015, 1, 1), date(2017, 2, 1))),
                "exact_location": f"{MARK} address: {town}, street {self.rng.randrange(1, 90)}",
                "description": f"{MARK} place invented by the generator; no real place.",
            },
            {"kind": kind, "region": region},
        )

    def person(self, index: int) -> Spec:
        r = self.rng
        if index < self.first_victim:
            self.birth_year.append(0)
            name = ORGANISATIONS[index]
            return Spec(
                {"full_name": name, "remarks": f"{MARK} organisation (intervening party)."},
                {},
            )
        year = r.randrange(1970, 2002)
        self.birth_year.append(year)
        values = self.person_name()
        victim = index < self.first_perpetrator
        born = r.random()
        values["birth_date"] = (
            str(year)
            if born < 0.5
            else f"{MONTHS_EN[r.randrange(1, 13)]} {year}"
            if born < 0.8
            else f"{r.randrange(1, 29):02d}.{r.randrange(1, 13):02d}.{year}"
        )
        values["home_place"] = f"{MARK} {self.town()}"
        values["sex"] = "male" if r.random() < 0.93 else "female"
        if victim:
            values["sexual_orientation"] = "gay" if r.random() < 0.6 else "not-stated"
            if r.random() < 0.2:
                values["contacts"] = [f"{MARK} messenger contact {index:06d}"]
        values["occupation"] = f"{MARK} " + r.choice(
            ["driver", "student", "shop assistant", "teacher", "builder", "musician", "officer"]
        )
        values["remarks"] = f"{MARK} person invented by the generator; no real person."
        return Spec(values, {})

    def source(self, index: int) -> Spec:
        kind = self.source_kinds[index]
        r = self.rng
        public: dict[str, Any] = {}
        if kind == "ngo-list":
            wave = WAVES[index // 2]
            org = ORGANISATIONS[index % 2]
            values = {
                "title": f"{MARK} list of detained persons, {wave.label}, {org}",
                "material_type": "human-rights-press-release",
                "date": self.wording(wave.end + timedelta(days=r.randrange(10, 60))),
                "name": org,
            }
        elif kind == "media":
            wave = WAVES[int(self.pick("wave"))]
            values = {
                "title": f"{MARK} press article No. {index} on detentions, {wave.label}",
                "material_type": "press-article",
                "language": r.choice(["ru", "en"]),
                "date": self.wording(self.day_in(wave.start, wave.end + timedelta(days=90))),
            }
        else:
            person = self.first_victim + r.randrange(self.victims)
            values = {
                "title": f"{MARK} testimony No. {index}",
                "material_type": r.choice(["victim-testimony", "witness-testimony"]),
                "language": "ru",
                "date": self.wording(self.day_in(date(2017, 4, 1), date(2022, 6, 30))),
                "contact": f"{MARK} reachable through the desk's secure channel",
            }
            if r.random() < 0.5:
                public["person"] = Ref("person", person)
        values["remarks"] = f"{MARK} source invented by the generator."
        return Spec(values, public)

    def relationship(self, index: int) -> Spec:
        r = self.rng
        person = self.first_victim + r.randrange(self.victims)
        other = self.first_victim + r.randrange(self.persons - self.first_victim)
        if other == person:
            other = self.first_victim + (person - self.first_victim + 1) % self.victims
        kind = self.pick("relationship")
        return Spec(
            {
                "relationship_type": kind,
                "danger": r.random() < self.danger[kind],
                "remarks": f"{MARK} relationship invented by the generator.",
            },
            {"person": Ref("person", person), "other": Ref("person", other)},
        )

    def _events(self) -> Iterator[Batch]:
        """Umbrella events first (one per wave), then the rest in batches with their acts,
        involvements, information, chain links and interventions."""
        umbrella = len(WAVES)
        index = 0
        while index < self.events:
            batch = Batch()
            end = min(self.events, index + EVENTS_PER_BATCH)
            links: list[Spec] = []
            acts: list[Spec] = []
            involvements: list[Spec] = []
            information: list[Spec] = []
            interventions: list[Spec] = []
            for event in range(index, end):
                if event < umbrella:
                    batch.add("event", self.umbrella(event))
                    continue
                spec, wave, when = self.event(event)
                batch.add("event", spec)
                if self.rng.random() < 0.15:
                    links.append(self.chain(wave, event, "encompasses"))
                elif event > umbrella and self.rng.random() < 0.03:
                    links.append(self.chain(event - 1, event, "precedes"))
                for act in self.acts_of(event, spec, when):
                    acts.append(act)
                    if self.rng.random() < 0.25:
                        involvements.append(self.involvement(self.acts + len(acts) - 1, act))
                    if self.rng.random() < 0.2:
                        information.append(self.information(event, act.public["victim"]))
                information.append(self.information(event, None))
                if self.rng.random() < self.interventions / self.events:
                    interventions.append(self.intervention(event, acts[-1] if acts else None))
            self.acts += len(acts)
            for kind, specs in (
                ("chain", links),
                ("act", acts),
                ("involvement", involvements),
                ("information", information),
                ("intervention", interventions),
            ):
                for spec in specs:
                    batch.add(kind, spec)
            batch.events_done = end
            index = end
            yield batch

    def umbrella(self, index: int) -> Spec:
        wave = WAVES[index]
        return Spec(
            {
                "title": f"{MARK}: wave of detentions, {wave.label}",
                "when": wave.wording,
                "description": f"{MARK} umbrella event: every detention of the {wave.label} "
                "wave that sources link to it.",
            },
            {"region": "ru-ce", "violation_status": "confirmed", "status": "reviewed"},
        )

    def event(self, index: int) -> tuple[Spec, int, dates.FuzzyDate]:
        r = self.rng
        wave_index = int(self.pick("wave"))
        wave = WAVES[wave_index]
        place = bisect.bisect(self.place_weights, r.random() * self.place_weights[-1])
        day = self.day_in(wave.start, wave.end)
        when = dates.parse(self.wording(day))
        town = self.town()
        spec = Spec(
            {
                "title": f"{MARK}: detentions at place L-{place + 1} ({wave.label}), No. {index}",
                "when": when,
                "local_area": f"{MARK} {town} district",
                "description": f"{MARK} event invented by the generator: men taken from "
                f"homes and checkpoints in {town} and held at one place.",
            },
            {
                "region": self.place_region[place],
                "violation_status": r.choice(["confirmed", "likely", "likely", "possible"]),
                "status": "reviewed" if r.random() < 0.6 else "draft",
            },
        )
        spec.public["_place"] = place
        self.event_count += 1
        return spec, wave_index, when

    def acts_of(self, event: int, spec: Spec, when: dates.FuzzyDate) -> Iterator[Spec]:
        r = self.rng
        count = r.choices((1, 2, 3, 4, 5, 7), cum_weights=(15, 40, 65, 82, 92, 100))[0]
        place = spec.public["_place"]
        victims: set[int] = set()
        while len(victims) < count:
            victims.add(self.first_victim + r.randrange(self.victims))
        for victim in sorted(victims):
            act_type = self.pick("act_type")
            if when.precision is dates.Precision.DAY or r.random() < 0.4:
                act_when = when
            else:
                start = when.earliest or (when.latest or date(2017, 3, 1)) - timedelta(days=30)
                act_when = self.exact(self.day_in(start, when.latest or start))
            born = self.birth_year[victim]
            values: dict[str, Any] = {
                "when": act_when,
                "exact_location": f"{MARK} room {r.randrange(1, 30)}",
                "stated_reason": f"{MARK} stated reason: 'checking documents'",
                "characteristics": ["perceived-lgbt"] if r.random() < 0.8 else ["homosexual"],
                "age_at_time": (act_when.latest or act_when.earliest or date(2017, 1, 1)).year
                - born,
                "remarks": f"{MARK} act invented by the generator.",
            }
            if act_type in ("arrest", "detention", "abduction", "disappearance"):
                values["detention_type"] = "no-legal-procedure"
                values["whereabouts"] = r.choice(
                    ["location-not-disclosed", "capture-denied", "family-contact-denied"]
                )
                values["legal_counsel"] = "no-counsel-permitted"
            if act_type in ("torture", "ill-treatment"):
                values["methods"] = r.sample(METHODS, r.randrange(1, 4))
                values["intent"] = r.choice(["names-of-others", "punishment", "extortion"])
            status = "dead" if act_type in KILLINGS else self.pick("victim_status")
            yield Spec(
                values,
                {
                    "event": Ref("event", event),
                    "victim": Ref("person", victim),
                    "place": Ref("place", place),
                    "region": self.place_region[place],
                    "act_type": act_type,
                    "victim_status": status,
                },
            )

    def chain(self, from_event: int, to_event: int, kind: str) -> Spec:
        return Spec(
            {"remarks": f"{MARK} chain link invented by the generator."},
            {
                "from_event": Ref("event", from_event),
                "to_event": Ref("event", to_event),
                "chain_type": kind,
            },
        )

    def involvement(self, act: int, act_spec: Spec) -> Spec:
        r = self.rng
        # Mostly the perpetrators' own records, a few of them repeat offenders; some are
        # victims of other acts (officers detained in their turn).
        if r.random() < 0.08:
            perpetrator = self.first_victim + r.randrange(self.victims)
        else:
            rank = int(self.perpetrators * r.random() ** 2)
            perpetrator = self.first_perpetrator + min(rank, self.perpetrators - 1)
        if perpetrator == act_spec.public["victim"].index:
            perpetrator = self.first_perpetrator
        return Spec(
            {
                "degree": self.pick("degree"),
                "unit": f"{MARK} unit No. {r.randrange(1, 40)}",
                "latest_status": r.choice(PERPETRATOR_STATUS),
                "remarks": f"{MARK} involvement invented by the generator.",
            },
            {
                "act": Ref("act", act),
                "perpetrator": Ref("person", perpetrator),
                "perpetrator_type": self.pick("perpetrator_type"),
            },
        )

    def information(self, event: int, person: Ref | None) -> Spec:
        r = self.rng
        source = r.randrange(len(self.source_kinds))
        kind = self.source_kinds[source]
        public: dict[str, Any] = {"source": Ref("source", source), "event": Ref("event", event)}
        if person is not None:
            public["person"] = person
        return Spec(
            {
                "connection": r.choice(SOURCE_CONNECTIONS[kind]),
                "reliability": self.pick("reliability"),
                "summary": f"{MARK} what the source says about this event"
                + (" and this person." if person else "."),
                "reference": f"{MARK} p. {r.randrange(1, 40)}",
            },
            public,
        )

    def intervention(self, event: int, act: Spec | None) -> Spec:
        r = self.rng
        public: dict[str, Any] = {
            "event": Ref("event", event),
            "party": Ref("person", r.randrange(len(ORGANISATIONS))),
        }
        if act is not None:
            public["victim"] = act.public["victim"]
        return Spec(
            {
                "intervention_type": r.choice(INTERVENTIONS),
                "when": self.wording(self.day_in(date(2017, 4, 1), date(2022, 6, 30))),
                "status": r.choice(["pending", "some-continuing", "closed"]),
                "remarks": f"{MARK} intervention invented by the generator.",
            },
            public,
        )


def _cumulative(weights: list[float]) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def plan(events: int, seed: int = DEFAULT_SEED) -> Iterator[Batch]:
    """The campaign for ``events`` events (about 3 acts each, 1.5 persons), as batches of
    plain data; the same arguments give the same batches.

    Raises:
        ValueError: ``events`` is outside ``MIN_EVENTS`` .. ``MAX_EVENTS``.
    """
    return _Campaign(events, seed).batches()


@dataclass
class Written:
    counts: dict[str, int]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def write(
    ws: Workspace,
    batches: Iterator[Batch],
    *,
    progress: Callable[[Batch, dict[str, int], float], None] | None = None,
) -> Written:
    """Check, seal and write every batch (one transaction each); one audit entry at the end.
    ``progress`` is called after each batch with the counts so far and the seconds spent.

    Raises:
        BadInput: a generated value the schema refuses (a bug in the generator).
    """
    desk_id = ws.desk.pk
    pks: dict[str, array[int]] = {}
    counts: dict[str, int] = {}
    started = time.perf_counter()

    def resolve(value: Any) -> Any:
        if isinstance(value, Ref):
            model = RECORD_TYPES[value.kind]
            return model(pk=pks[value.kind][value.index], desk_id=desk_id)
        return value

    for batch in batches:
        with transaction.atomic():
            for kind, specs in batch.groups:
                model = RECORD_TYPES[kind]
                prepared = []
                for spec in specs:
                    public = {k: resolve(v) for k, v in spec.public.items() if k[0] != "_"}
                    done = services.prepare(ws, model(), spec.private, public)
                    assert done is not None
                    prepared.append(done)
                services.save_many(ws, prepared)
                pks.setdefault(kind, array("q")).extend(p.row.pk for p in prepared)
                counts[kind] = counts.get(kind, 0) + len(prepared)
        if progress is not None:
            progress(batch, counts, time.perf_counter() - started)
    audit(ws.actor, "records.synthesize", "events", str(counts.get("event", 0)))
    return Written(counts, time.perf_counter() - started)


def generate(
    ws: Workspace,
    events: int,
    *,
    seed: int = DEFAULT_SEED,
    progress: Callable[[Batch, dict[str, int], float], None] | None = None,
) -> Written:
    """Write the synthetic campaign of ``events`` events into ``ws``'s desk.

    Raises:
        ValueError: ``events`` is outside ``MIN_EVENTS`` .. ``MAX_EVENTS``.
    """
    return write(ws, plan(events, seed), progress=progress)
