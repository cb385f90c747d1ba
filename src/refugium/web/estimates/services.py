"""The capture table of the documentation database, and the estimates made from it.

Everything here reads plaintext links and coded columns only (DESIGN §2): which Person an
Act was done to, its months, region and type, which Source an Information row links to
which Person, and which Persons a confirmed duplicate merged. No sealed column is opened and
no one is named, so no person's record is read; one audit entry covers the whole run
(``audit_run``).

Who is counted (the issue: "computed on the coded fields and linked Persons"):

- **The population** is every Person who is the victim of an Act of the desk in the scope:
  its months overlap the period (an act from December 2016 to February 2017 is in a period
  starting in January 2017), its region is the chosen region or one below it in the regions
  vocabulary (the North Caucasus district takes in Chechnya, Dagestan, …), its type the
  chosen type or one below it. An Act with no months or region of its own takes its Event's,
  as the timelines do. With a period, an act with no month at all cannot be placed and is
  left out; the victims left out only for that are counted (``undated``).
- **A list** is a Source. A victim is on it when an Information row links that Source to
  that Person. Information about the victim's Event alone does not count: it says the
  source told us about the event, not that it named this victim (a press report on "twenty
  detained" is not a list of the twenty), and crediting it would invent overlaps, which
  push the estimate down, the dangerous way. Victims whose only link to a chosen source is
  through their event are counted (``event_only``) so the researcher can add the person-level
  Information where the source does name them.
- **Linked Persons**: confirming a duplicate moves every link of the merged Person to the
  kept one, so the merged Person normally has no Act and no Information left; any link
  still pointing at a merged Person (added later by an import, say) is counted for the
  Person it was merged into, following chains of merges. Each human being counts once.
- Victims in the scope whom no chosen list names are not in the table (MSE estimates from
  the lists' overlaps; those people were found by other sources). Their number is reported
  beside the estimate (``on_no_list``), never folded into it.
- **Strata** (optional): by region or by type of act, each victim in the stratum of their
  earliest act in the scope (by month, then by record number); victims with acts in more
  than one stratum are counted (``several_strata``). An act with no region or type is in
  the stratum ``(none)``.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from django.db.models import Q
from django.db.models.functions import Coalesce

from refugium.audit import check_identifier
from refugium.errors import BadInput, NotFound
from refugium.estimation.result import Estimate
from refugium.estimation.run import Options, estimate_tables
from refugium.estimation.table import MAX_LISTS, CaptureTable, table_from_memberships
from refugium.web.core.auditing import record as audit
from refugium.web.matches.models import PersonMatch
from refugium.web.records import services as records
from refugium.web.records.models import Act, Information, Source, Term

MIN_LISTS: Final = 2
FAST_METHODS: Final = ("loglinear", "dga")
SLOW_METHOD: Final = "lcmcr"
DEFAULT_SEED: Final = 2017
"""A fixed, documented seed: the same scope gives the same figures, here and with the CLI."""
LCMCR_ITERATIONS: int | None = None
"""Sweeps a chain for the latent-class sampler; ``None`` is the library's default (the
tests set a tiny number)."""
PAGE_MAX_LISTS: Final = 12
"""Estimates run in the request; the log-linear model search took 24 s on 13 lists and more
than five minutes on 15 (2 shared cores), beyond the server's 120 s worker timeout. With more
lists the page shows the table and its download, and leaves the estimate to the CLI."""
LCMCR_MAX_LISTS: Final = 8
"""The latent-class sampler runs in the request: about 20 s on 3 to 5 lists with the default
sweeps, 35 s or so on 8, minutes on 12 (beyond the server's 120 s worker timeout). More
lists, or strata (one run each), are for ``refugium estimate`` on the downloaded table."""
NO_TERM: Final = "(none)"
"""The stratum of acts with no region (or no type): not a slug, so no term key can clash."""
STRATA: Final = {"region": "regions", "act_type": "act-types"}
METHOD_TAGS: Final = {"loglinear": "l", "dga": "d", "lcmcr": "c"}


class NothingToEstimate(BadInput):
    """The scope holds no victim, or none on a chosen list: there is no table to estimate."""

    code = "nothing_to_estimate"


@dataclass(frozen=True)
class Scope:
    """What the researcher chose: the lists, the period, the region, the type, the strata."""

    sources: tuple[Source, ...]
    month_from: date | None = None
    month_to: date | None = None
    region: Term | None = None
    act_type: Term | None = None
    strata: str = ""  # "", "region" or "act_type"

    @property
    def lists(self) -> tuple[str, ...]:
        return tuple(source.code for source in self.sources)


@dataclass
class Population:
    """The capture table(s) of a scope and what they leave out, in counts."""

    scope: Scope
    tables: dict[str | None, CaptureTable]
    victims: int
    on_lists: int
    event_only: int = 0
    undated: int = 0
    several_strata: int = 0
    list_totals: dict[str, int] = field(default_factory=dict)

    @property
    def on_no_list(self) -> int:
        return self.victims - self.on_lists


# --- Choosing -------------------------------------------------------------------------------


def with_descendants(ws: records.Workspace, vocabulary: str, term: Term) -> set[int]:
    """The term and every term below it (retired ones too: old acts keep them)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for candidate in ws.terms(vocabulary):
        children[candidate.parent_id].append(candidate.pk)
    found, todo = {term.pk}, [term.pk]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def sources_by_code(ws: records.Workspace, codes: Iterable[str]) -> tuple[Source, ...]:
    """The desk's Sources in code order, each once.

    Raises:
        BadInput: a code names no Source of the desk; fewer than two or more than 15.
    """
    found: dict[int, Source] = {}
    for code in codes:
        try:
            source = records.get(ws, "source", code)
        except NotFound:
            raise BadInput(f"no source {code.strip()!r} on this desk") from None
        found[source.pk] = source  # type: ignore[assignment]
    if not MIN_LISTS <= len(found) <= MAX_LISTS:
        raise BadInput(
            f"{len(found)} source(s): choose from {MIN_LISTS} to {MAX_LISTS} sources as lists"
        )
    return tuple(found[pk] for pk in sorted(found))


def candidate_sources(ws: records.Workspace) -> list[tuple[Source, int]]:
    """Sources that name at least one Person (the only ones that can be lists), with how many
    Persons each names, most first."""
    merged = merged_into(ws)
    counts: dict[int, set[int]] = defaultdict(set)
    named = Information.objects.filter(desk=ws.desk, person__isnull=False)
    for source_id, person_id in named.values_list("source_id", "person_id"):
        counts[source_id].add(merged.get(person_id, person_id))
    rows = Source.objects.filter(desk=ws.desk, pk__in=list(counts)).in_bulk()
    return sorted(
        ((rows[pk], len(persons)) for pk, persons in counts.items() if pk in rows),
        key=lambda pair: (-pair[1], pair[0].pk),
    )


# --- Counting -------------------------------------------------------------------------------


def merged_into(ws: records.Workspace) -> dict[int, int]:
    """Person id → the id of the Person it ended up merged into, through chains of merges."""
    direct = dict(
        PersonMatch.objects.filter(desk=ws.desk, status=PersonMatch.Status.CONFIRMED)
        .exclude(merged=None)
        .values_list("merged_id", "kept_id")
    )
    final: dict[int, int] = {}
    for merged in direct:
        target, seen = direct[merged], {merged}
        while target in direct and target not in seen:  # a cycle would be a bug; stop anyway
            seen.add(target)
            target = direct[target]
        final[merged] = target
    return final


def _acts(ws: records.Workspace, scope: Scope, *, dated: bool) -> Any:
    """The desk's acts in the scope's region and type, with months and region falling back
    to the event's; ``dated`` also applies the period."""
    acts = Act.objects.filter(desk=ws.desk).annotate(
        first=Coalesce("month_from", "month_to", "event__month_from", "event__month_to"),
        last=Coalesce("month_to", "month_from", "event__month_to", "event__month_from"),
        where=Coalesce("region", "event__region"),
    )
    if scope.region is not None:
        acts = acts.filter(where__in=with_descendants(ws, "regions", scope.region))
    if scope.act_type is not None:
        acts = acts.filter(act_type__in=with_descendants(ws, "act-types", scope.act_type))
    if dated:
        if scope.month_from is not None:
            acts = acts.filter(last__gte=scope.month_from)
        if scope.month_to is not None:
            acts = acts.filter(first__lte=scope.month_to)
    return acts


def _stratum_keys(ws: records.Workspace, strata: str) -> dict[int | None, str]:
    keys: dict[int | None, str] = {None: NO_TERM}
    if strata:
        keys.update({term.pk: term.key for term in ws.terms(STRATA[strata])})
    return keys


def population(ws: records.Workspace, scope: Scope) -> Population:
    """Count who is on which chosen list, per stratum, from links and coded columns only.

    Raises:
        NothingToEstimate: no victim in the scope, or none of them on a chosen list.
    """
    merged = merged_into(ws)
    acts = _acts(ws, scope, dated=True)
    keys = _stratum_keys(ws, scope.strata)
    rows = acts.values_list("victim_id", "event_id", "first", "pk", "where", "act_type_id")
    earliest: dict[int, tuple[date, int, str]] = {}
    strata_of: dict[int, set[str]] = defaultdict(set)
    events_of: dict[int, set[int]] = defaultdict(set)
    for victim, event, first, pk, region, act_type in rows:
        person = merged.get(victim, victim)
        term = region if scope.strata == "region" else act_type
        stratum = keys.get(term, NO_TERM) if scope.strata else ""
        strata_of[person].add(stratum)
        events_of[person].add(event)
        candidate = (first or date.max, pk, stratum)
        if person not in earliest or candidate < earliest[person]:
            earliest[person] = candidate
    if not earliest:
        raise NothingToEstimate("no victim of an act in this period and region")
    on: dict[int, set[str]] = defaultdict(set)
    code_of = {source.pk: source.code for source in scope.sources}
    named = Information.objects.filter(
        desk=ws.desk, source__in=list(code_of), person__isnull=False
    ).values_list("person_id", "source_id")
    for person_id, source_id in named:
        person = merged.get(person_id, person_id)
        if person in earliest:
            on[person].add(code_of[source_id])
    if not on:
        raise NothingToEstimate(
            f"none of the {len(earliest):,} victims in this period and region is named by "
            "a chosen source"
        )
    tables = _tables(scope, {person: earliest[person][2] for person in on}, on)
    pooled_totals: dict[str, int] = {code: 0 for code in scope.lists}
    for sources in on.values():
        for code in sources:
            pooled_totals[code] += 1
    return Population(
        scope=scope,
        tables=tables,
        victims=len(earliest),
        on_lists=len(on),
        event_only=_event_only(ws, scope, events_of, set(on)),
        undated=_undated(ws, scope, merged, set(earliest)),
        several_strata=sum(1 for s in strata_of.values() if len(s) > 1),
        list_totals=pooled_totals,
    )


def _tables(
    scope: Scope, stratum_of: Mapping[int, str], on: Mapping[int, set[str]]
) -> dict[str | None, CaptureTable]:
    by_stratum: dict[str, list[frozenset[str]]] = defaultdict(list)
    for person, sources in on.items():
        by_stratum[stratum_of[person]].append(frozenset(sources))
    if not scope.strata:
        return {None: table_from_memberships(scope.lists, by_stratum[""])}
    return {
        stratum: table_from_memberships(scope.lists, by_stratum[stratum])
        for stratum in sorted(by_stratum)
    }


def _event_only(
    ws: records.Workspace, scope: Scope, events_of: Mapping[int, set[int]], on: set[int]
) -> int:
    """Victims on no chosen list whose event a chosen source told us about."""
    told = set(
        Information.objects.filter(
            desk=ws.desk, source__in=[s.pk for s in scope.sources], event__isnull=False
        ).values_list("event_id", flat=True)
    )
    return sum(1 for person, events in events_of.items() if person not in on and events & told)


def _undated(
    ws: records.Workspace, scope: Scope, merged: Mapping[int, int], counted: set[int]
) -> int:
    """With a period: victims left out only because none of their acts has a month."""
    if scope.month_from is None and scope.month_to is None:
        return 0
    undated = _acts(ws, scope, dated=False).filter(Q(first__isnull=True))
    victims = {merged.get(v, v) for v in undated.values_list("victim_id", flat=True)}
    return len(victims - counted)


# --- Estimating -----------------------------------------------------------------------------


def methods_for(latent_classes: bool) -> tuple[str, ...]:
    return (*FAST_METHODS, SLOW_METHOD) if latent_classes else FAST_METHODS


def estimate(population: Population, methods: Sequence[str], seed: int) -> list[Estimate]:
    """Every method on every stratum, then pooled (``estimate_tables``); a method that cannot
    run comes back with its reason in its warnings, not as an exception."""
    options = Options(seed=seed, iterations=LCMCR_ITERATIONS)
    return estimate_tables(population.tables, methods, options)


def pattern_csv(population: Population) -> str:
    """The table in ``refugium estimate``'s pattern-table format: one 0/1 column per source
    code, a stratum column when stratified, and ``count``. Counts only; patterns nobody had
    are left out, as the format allows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    lists = population.scope.lists
    stratum_column = [population.scope.strata] if population.scope.strata else []
    writer.writerow([*lists, *stratum_column, "count"])
    for stratum, table in population.tables.items():
        for mask in range(1, 2**table.k):
            count = int(table.counts[mask])
            if count:
                pattern = [(mask >> j) & 1 for j in range(table.k)]
                writer.writerow([*pattern, *([stratum] if stratum_column else []), count])
    return out.getvalue()


# --- Auditing -------------------------------------------------------------------------------


def _months(scope: Scope) -> str:
    first = f"{scope.month_from:%Y%m}" if scope.month_from else ""
    last = f"{scope.month_to:%Y%m}" if scope.month_to else ""
    return f"{first}-{last}"


def _scope_id(scope: Scope, methods: Sequence[str], *, by_key: bool) -> str:
    def term(value: Term | None) -> str:
        if value is None:
            return ""
        return value.key if by_key else f"t{value.pk}"

    strata = {"region": "r", "act_type": "a"}.get(scope.strata, "")
    tags = "".join(METHOD_TAGS[m] for m in methods)
    return f"{_months(scope)}:{term(scope.region)}:{term(scope.act_type)}:{strata}:{tags}"


def _is_identifier(value: str) -> bool:
    try:
        check_identifier("object", value, required=True)
    except BadInput:
        return False
    return True


def audit_ids(scope: Scope, methods: Sequence[str]) -> tuple[str, list[str]]:
    """The audit entry's object type (the scope) and object id(s) (the sources' numbers).

    The type is ``FROM-TO:REGION:ACT_TYPE:STRATA:METHODS``: months as ``YYYYMM`` (blank when
    open), term keys (or ``t`` and the term's number when the keys would not make a short
    identifier), strata ``r`` (region), ``a`` (act type) or blank, methods ``l`` log-linear,
    ``d`` dga, ``c`` latent classes. The id is the sources' numbers joined by dots
    (``1.2.17`` for S-0001, S-0002, S-0017); an id holds at most 64 characters, so 15 sources
    with long numbers take a second id.
    """
    scope_id = _scope_id(scope, methods, by_key=True)
    if not _is_identifier(scope_id):
        scope_id = _scope_id(scope, methods, by_key=False)
    ids, current = [], ""
    for source in scope.sources:
        number = str(source.pk)
        joined = f"{current}.{number}" if current else number
        if len(joined) > 64:
            ids.append(current)
            joined = number
        current = joined
    ids.append(current)
    return scope_id, ids


def audit_run(ws: records.Workspace, action: str, scope: Scope, methods: Sequence[str]) -> None:
    """One audit entry for the run (``records.estimate`` or ``records.estimate_table``),
    written before anything is counted; a continuation (``ACTION.more``) only when the
    sources' numbers overflow one id."""
    scope_id, ids = audit_ids(scope, methods)
    audit(ws.actor, action, scope_id, ids[0])
    for more in ids[1:]:
        audit(ws.actor, f"{action}.more", scope_id, more)
