"""The report compiler: a definition and the documentation desk's records in, the contract's
dict out (``/work/briefs/report_contract.md``, ``docs/reports.md`` "Building a report").

What is read: the public columns and links of the records (act type, months, region, place,
victim, event, source), the sealed ``details`` of acts, events, places, involvements,
sources and information (dates, the perpetrator unit, source type and reliability), and the
sealed ``identity`` of only the persons and places named in a case summary, to redact them
(each such read is audited like any identity read). Nothing sealed reaches the report as it
is: every value goes through the sensitivity policy (``refugium.reports.sensitivity``), dates
through ``coarsen_date``, places through ``coarsen_place``, records through ``Pseudonyms``,
and every count through ``Table.protect`` (or the same threshold for single counts).

Selection. An act is in the report when its months overlap the period, its region is one of
the definition's (or below one in the regions vocabulary) and its type one of the
definition's (or below one). An act's months are its own ``month_from``/``month_to`` or, when
it has none, its event's; its region its own, else its event's, else its place's — as the
estimates page counts them. The month range ``[month_from, month_to]`` overlaps the period
when the last day of ``month_to`` is on or after the period's first day and ``month_from``
is on or before its last day. An act with no month at all cannot be placed in a period and
is left out (counted in a note).

Determinism. The same definition and the same records give byte-identical ``data.json``: no
clock, no random number (the estimates use the fixed seed of the estimates page), sorted
orders everywhere, and pseudonyms numbered under a secret derived from the desk's keyed-hash
key and the definition's canonical JSON (:func:`pseudonym_secret`). Noise, when a definition
asks for it, is drawn fresh on purpose and is the one exception.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import math
import multiprocessing
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from django.db.models.functions import Coalesce

import refugium
from refugium.errors import BadInput
from refugium.records.dates import FuzzyDate, Precision
from refugium.reports import coarsen
from refugium.reports.definition import BadDefinition, Definition, unknown_terms
from refugium.reports.noise import MECHANISM_NAME, add_noise
from refugium.reports.pseudonyms import Pseudonyms
from refugium.reports.sensitivity import Policy, Sensitivity, default_policy
from refugium.reports.tables import Axis, Table
from refugium.reports.withheld import Withheld
from refugium.web.estimates.services import merged_into, with_descendants
from refugium.web.records import services as records
from refugium.web.records.models import (
    Act,
    ChainLink,
    Event,
    Information,
    Involvement,
    Person,
    Place,
    Source,
    Term,
)

__all__ = ["FORMAT", "Build", "compile_report", "pseudonym_secret"]

FORMAT: Final = "refugium-report/1"
NONE_KEY: Final = "(none)"
"""The category of acts with no value (no place, no unit): not a slug, so no term clashes."""
ESTIMATE_SEED: Final = 2017
"""The estimates page's documented seed: the same selection gives the same figures."""
MIN_LISTS: Final = 3
MAX_LISTS: Final = 8
"""Sources as lists for the estimates: the latent-class sampler takes minutes beyond 8; the
sources naming the most selected victims are used and the others counted in a note."""
LEVEL: Final = 0.95
_SECRET_PURPOSE: Final = "report-pseudonyms"  # noqa: S105 (a domain label, not a secret)

_AXES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "by_wave": (("act", "when"),),
    "by_place": (("act", "region"), ("act", "place")),
    "by_facility": (("place", "kind"),),
    "by_act_type": (("act", "act_type"),),
    "by_perpetrator_unit": (("involvement", "unit"),),
    "sources_by_type": (("source", "material_type"), ("information", "reliability")),
}
"""The fields each table counts by, as the sensitivity policy names them."""

# --- Words, in the report's language --------------------------------------------------------

_WORDS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "month": "Month",
        "week": "Week",
        "region": "Region",
        "district": "District",
        "facility": "Kind of place",
        "act_type": "Type of act",
        "unit": "Perpetrator unit",
        "source_type": "Type of source",
        "reliability": "Reliability",
        "none_place": "No place recorded",
        "none_region": "Region not recorded",
        "unspecified": "{label} (not more specific)",
        "none_unit": "No unit recorded",
        "none": "Not recorded",
        "by_wave_week": "Acts by week",
        "by_wave_month": "Acts by month",
        "by_wave_caption": "Acts reported in each {grain} of the period, by the date of the act; "
        "acts dated only more coarsely than a {grain} are not counted here.",
        "by_wave_alt": "A line chart of acts per {grain} from {first} to {last}; the highest "
        "published count is {peak} in {peak_at}.",
        "by_wave_alt_none": "A line chart of acts per {grain} from {first} to {last}; no count "
        "could be published.",
        "by_place_region": "Acts by region",
        "by_place_district": "Acts by district",
        "by_place_caption": "Acts reported in each {grain} of the report, by where they happened.",
        "by_facility": "Acts by kind of place",
        "by_facility_caption": "Acts reported by the kind of place where they happened, such "
        "as police stations and unofficial detention facilities.",
        "by_act_type": "Acts by type",
        "by_act_type_caption": "Acts reported, by type of act.",
        "by_perpetrator_unit": "Acts by perpetrator unit",
        "by_perpetrator_unit_caption": "Acts reported, by the unit or agency of a perpetrator; "
        "an act with perpetrators of several units is counted once for each.",
        "sources_by_type": "Statements by type of source and reliability",
        "sources_by_type_caption": "Statements of sources about the events and persons of "
        "this report, by type of source and reliability; sources are never named.",
        "bar_alt": "A bar chart of {title}: {shown} of {n} categories published, the largest "
        "being {peak}.",
        "bar_alt_none": "A bar chart of {title}: no count could be published.",
        "note_coarse": "{n} acts are dated only more coarsely than a {grain} and are not in "
        "the series by {grain}; they are in every other table.",
        "note_coarse_few": "Fewer than {k} acts are dated only more coarsely than a {grain} and "
        "are not in the series by {grain}; they are in every other table.",
        "note_undated": "Acts with no month at all cannot be placed in the period and are "
        "left out.",
        "note_district": "The records give no district below the region for some places; "
        "those acts are counted by region.",
        "note_noise": "Counts carry random noise for privacy (differential privacy, epsilon "
        "{epsilon}); totals are sums of noisy counts and the report cannot be rebuilt to the "
        "same figures.",
        "note_k": "Counts from 1 to {km1} are not published (shown as suppressed), nor any "
        "count from which one of them could be worked out.",
        "note_summaries": "The records have no summary written for publication, so a case "
        "summary gives only coded facts: types of act, kinds of place, when and where, "
        "coarsened.",
        "note_summary_left_out": "{n} case summaries asked for are not in the report: their "
        "records are not in its selection.",
        "note_estimates_few": "No estimate: the victims in this report are named by {n} "
        "sources; estimating the unrecorded needs at least {m}.",
        "note_estimates_small": "No estimate: fewer than {k} victims are named by the sources.",
        "note_estimates_lists": "Estimates use the {n} sources naming the most victims of this "
        "report as lists; the others are not used.",
        "note_units": "Perpetrator units are as researchers typed them.",
        "note_policy": "The table {table} is left out: the sensitivity policy withholds what it "
        "counts by.",
        "linkage": "Reports are acts in the selection. Victims are the distinct persons they "
        "were done to, after merging the records a researcher confirmed to be the same person "
        "on the matches desk; records not confirmed as duplicates count as different persons.",
        "chain": "{a} ({when_a}, {where_a}) → {b} ({when_b}, {where_b}): {chain}.",
        "summary_event": "{acts}. {n_persons} in the report. Places: {places}.",
        "summary_person": "{acts}. Places: {places}.",
        "acts": "Acts: {types}",
        "persons_n": "{n} persons",
        "persons_few": "Fewer than {k} persons",
        "no_places": "not recorded",
        "Event": "Event",
        "Person": "Person",
        "Item": "Item",
        "unknown_when": "date unknown",
        "unknown_where": "place unknown",
        "loglinear": "Log-linear models: the sources' overlaps, with the dependence between "
        "sources that the best-fitting model allows; persons whom every source missed are "
        "assumed to behave like those some sources found, within that model.",
        "lcmcr": "Latent classes (Bayesian): persons fall into a few hidden groups within which "
        "sources find them independently; the groups can differ in how easily they are "
        "found.",
        "dga": "Decomposable graphical models averaged over their fit (Bayesian): like the "
        "log-linear models, with the uncertainty about which sources depend on which "
        "included.",
    },
    "ru": {
        "month": "Месяц",
        "week": "Неделя",
        "region": "Регион",
        "district": "Район",
        "facility": "Тип места",
        "act_type": "Вид действия",
        "unit": "Подразделение",
        "source_type": "Тип источника",
        "reliability": "Надёжность",
        "none_place": "Место не указано",
        "none_region": "Регион не указан",
        "unspecified": "{label} (без уточнения)",
        "none_unit": "Подразделение не указано",
        "none": "Не указано",
        "by_wave_week": "Действия по неделям",
        "by_wave_month": "Действия по месяцам",
        "by_wave_caption": "Действия за каждый период ({grain}) по дате действия; действия, "
        "датированные грубее, здесь не учитываются.",
        "by_wave_alt": "Линейный график числа действий ({grain}) с {first} по {last}; "
        "наибольшее опубликованное число — {peak} в {peak_at}.",
        "by_wave_alt_none": "Линейный график числа действий ({grain}) с {first} по {last}; "
        "ни одно число не опубликовано.",
        "by_place_region": "Действия по регионам",
        "by_place_district": "Действия по районам",
        "by_place_caption": "Действия по месту, где они произошли ({grain}).",
        "by_facility": "Действия по типу места",
        "by_facility_caption": "Действия по типу места, где они произошли: отделы полиции, "
        "неофициальные места содержания и другие.",
        "by_act_type": "Действия по видам",
        "by_act_type_caption": "Действия по виду действия.",
        "by_perpetrator_unit": "Действия по подразделениям",
        "by_perpetrator_unit_caption": "Действия по подразделению или ведомству исполнителя; "
        "действие с исполнителями нескольких подразделений учтено для каждого.",
        "sources_by_type": "Сведения по типу источника и надёжности",
        "sources_by_type_caption": "Сведения источников о событиях и людях этого доклада по "
        "типу источника и надёжности; источники не называются.",
        "bar_alt": "Столбчатая диаграмма «{title}»: опубликовано {shown} из {n} категорий, "
        "наибольшая — {peak}.",
        "bar_alt_none": "Столбчатая диаграмма «{title}»: ни одно число не опубликовано.",
        "note_coarse": "{n} действий датированы грубее, чем {grain}, и не входят в ряд по "
        "времени; они учтены во всех остальных таблицах.",
        "note_coarse_few": "Менее {k} действий датированы грубее, чем {grain}, и не входят в "
        "ряд по времени; они учтены во всех остальных таблицах.",
        "note_undated": "Действия без месяца нельзя отнести к периоду; они не учтены.",
        "note_district": "Для некоторых мест в записях нет района; такие действия учтены по "
        "региону.",
        "note_noise": "К числам добавлен случайный шум для защиты данных (дифференциальная "
        "приватность, epsilon {epsilon}); итоги — суммы зашумлённых чисел, и доклад нельзя "
        "пересобрать с теми же числами.",
        "note_k": "Числа от 1 до {km1} не публикуются (показаны как скрытые), как и числа, по "
        "которым их можно вычислить.",
        "note_summaries": "В записях нет резюме, написанного для публикации, поэтому описание "
        "случая содержит только кодированные сведения: виды действий, типы мест, огрублённые "
        "время и место.",
        "note_summary_left_out": "Запрошенные описания случаев ({n}) не включены: их записи не "
        "входят в выборку доклада.",
        "note_estimates_few": "Оценки нет: жертв этого доклада называют {n} источника; для "
        "оценки неучтённых нужно не меньше {m}.",
        "note_estimates_small": "Оценки нет: источники называют менее {k} жертв.",
        "note_estimates_lists": "Для оценок списками служат {n} источников, называющих больше "
        "всего жертв этого доклада; остальные не используются.",
        "note_units": "Подразделения указаны так, как их записали исследователи.",
        "note_policy": "Таблица {table} не включена: политика чувствительности скрывает то, по "
        "чему она считает.",
        "linkage": "Сообщения — действия в выборке. Жертвы — разные люди, с которыми они "
        "совершены, после объединения записей, которые исследователь подтвердил как одного "
        "человека; неподтверждённые дубликаты считаются разными людьми.",
        "chain": "{a} ({when_a}, {where_a}) → {b} ({when_b}, {where_b}): {chain}.",
        "summary_event": "{acts}. {n_persons} в докладе. Места: {places}.",
        "summary_person": "{acts}. Места: {places}.",
        "acts": "Действия: {types}",
        "persons_n": "Людей: {n}",
        "persons_few": "Менее {k} человек",
        "no_places": "не указаны",
        "Event": "Событие",
        "Person": "Человек",
        "Item": "Материал",
        "unknown_when": "дата неизвестна",
        "unknown_where": "место неизвестно",
        "loglinear": "Лог-линейные модели: пересечения источников с той зависимостью между "
        "ними, которую допускает лучшая модель; предполагается, что люди, которых не нашёл ни "
        "один источник, в рамках модели не отличаются от найденных.",
        "lcmcr": "Латентные классы (байесовский метод): люди делятся на несколько скрытых "
        "групп, внутри которых источники находят их независимо; группы могут различаться тем, "
        "насколько легко их найти.",
        "dga": "Усреднение разложимых графических моделей (байесовский метод): как "
        "лог-линейные модели, но с учётом неопределённости в том, какие источники зависят "
        "друг от друга.",
    },
}


def _w(language: str, key: str, **values: Any) -> str:
    return _WORDS[language][key].format(**values)


# --- Results --------------------------------------------------------------------------------


@dataclass
class Build:
    """A compiled report: the contract's dict (data.json) and the desk's withheld report."""

    report: dict[str, Any]
    withheld: Withheld


def pseudonym_secret(ws: records.Workspace, definition: Definition) -> bytes:
    """The report's pseudonym secret: the desk's keyed hash of the definition's canonical JSON.

    Derived, not stored: the same definition on the same desk gives the same secret (a rebuild
    is byte-identical), another definition (another period, filter or title) an unrelated one
    (two reports cannot be joined on "Person 3"), and without the desk's key nobody can
    recompute it. A new key generation after a rotation changes every report's pseudonyms,
    which is the price of not keeping one more secret at rest.
    """
    digest = ws.hasher.digest(definition.to_json(), purpose=_SECRET_PURPOSE)
    return hashlib.sha256(digest.encode("ascii")).digest()


def definition_digest(definition: Definition) -> str:
    """SHA-256 of the canonical definition: what the audit log records of a build."""
    return hashlib.sha256(definition.to_json().encode("utf-8")).hexdigest()


# --- Selection ------------------------------------------------------------------------------


def check_terms(ws: records.Workspace, definition: Definition, source: str) -> None:
    """Raises:
    BadDefinition: a region or act type is not in the database's vocabularies.
    """
    problems = unknown_terms(
        definition,
        regions=[t.key for t in ws.terms("regions")],
        act_types=[t.key for t in ws.terms("act-types")],
    )
    if problems:
        raise BadDefinition(source, problems)


def _expanded(ws: records.Workspace, vocabulary: str, keys: Sequence[str]) -> set[int] | None:
    if not keys:
        return None
    found: set[int] = set()
    for key in keys:
        found |= with_descendants(ws, vocabulary, ws.term(vocabulary, key, allow_retired=True))
    return found


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


class _Dates:
    """``records.when_of`` with a memo: the acts of one event mostly share its date, and a
    report reads 300,000 of them. FuzzyDate is immutable, so sharing one is safe."""

    def __init__(self) -> None:
        self._seen: dict[tuple[Any, ...], FuzzyDate | None] = {}

    def when(self, values: Mapping[str, Any]) -> FuzzyDate | None:
        raw = values.get("when")
        if not isinstance(raw, dict):
            return records.when_of(values)
        try:
            # With each value's type: 1 and True are equal keys, but only 1 is a version.
            key = tuple((name, type(value), value) for name, value in raw.items())
            hash(key)
        except TypeError:  # a malformed stored date (a list inside): no memo
            return records.when_of(values)
        if key not in self._seen:
            self._seen[key] = records.when_of(values)
        return self._seen[key]


@dataclass
class _Act:
    pk: int
    event: int
    victim: int
    place: int | None
    act_type: int | None
    region: int | None
    first: date
    last: date
    when: FuzzyDate


def _selection(ws: records.Workspace, definition: Definition) -> tuple[Any, int]:
    """The query of the selected acts (by their public columns only: period, region, act
    type), and how many matched but had no month."""
    regions = _expanded(ws, "regions", definition.regions)
    types = _expanded(ws, "act-types", definition.act_types)
    acts = Act.objects.filter(desk=ws.desk).annotate(
        first=Coalesce("month_from", "month_to", "event__month_from", "event__month_to"),
        last=Coalesce("month_to", "month_from", "event__month_to", "event__month_from"),
        where=Coalesce("region", "event__region", "place__region"),
    )
    if regions is not None:
        acts = acts.filter(where__in=regions)
    if types is not None:
        acts = acts.filter(act_type__in=types)
    undated = acts.filter(first__isnull=True).count()
    acts = acts.filter(
        last__gte=_first_of_month(definition.period.start), first__lte=definition.period.end
    ).order_by("pk")
    return acts, undated


def _open_acts(ws: records.Workspace, acts: Any) -> list[_Act]:
    """The selected acts, each with its date opened (or its event's, when it has none)."""
    # Plain tuples, not model instances: building 300,000 Acts costs more than reading them.
    rows = acts.values_list(
        "pk",
        "event_id",
        "victim_id",
        "place_id",
        "act_type_id",
        "where",
        "first",
        "last",
        "uid",
        "details",
    )
    memo = _Dates()
    opened = [
        (row[:8], memo.when(ws.sealer.open_column(Act, row[8], "details", row[9]))) for row in rows
    ]
    # Acts with no date of their own take their event's; only those events are read.
    events = Event.objects.in_bulk({row[1] for row, when in opened if when is None})
    event_when = {pk: records.when_of(ws.sealer.open(e, "details")) for pk, e in events.items()}
    selected = []
    for row, own in opened:
        pk, event, victim, place, act_type, where, first, last = row
        when = own if own is not None else event_when[event]
        if when is None:
            when = FuzzyDate(first, _month_end(last), "", Precision.RANGE)
        selected.append(
            _Act(
                pk=pk,
                event=event,
                victim=victim,
                place=place,
                act_type=act_type,
                region=where,
                first=first,
                last=last,
                when=when,
            )
        )
    return selected


# --- Tables ---------------------------------------------------------------------------------


class _Background:
    """``fn(*args)`` in a forked child process; ``result()`` waits for its answer.

    Why: the estimates are CPU-bound numpy work on a small table that needs neither the
    database nor Django, and take about 20 s; on the second core they cost the report
    nothing. The child gets a copy of this process's memory (fork), so nothing is pickled
    on the way in, writes nothing, and answers through a pipe. Where fork is unavailable
    the work runs here, in line.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._value: Any = None
        self._process: Any = None
        if "fork" not in multiprocessing.get_all_start_methods():
            self._value = fn(*args)
            return
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_answer, args=(send, fn, args), daemon=True)
        self._process.start()
        send.close()

    def result(self) -> Any:
        """The answer, or the child's exception raised here.

        Raises:
            RuntimeError: the child died without an answer (killed, out of memory).
        """
        if self._process is None:
            return self._value
        try:
            ok, value = self._receive.recv()
        except EOFError:
            raise RuntimeError("the estimates' process ended without an answer") from None
        finally:
            self._receive.close()
            self._process.join()
            self._process = None
        if not ok:
            raise value
        self._value = value
        return value

    def close(self) -> None:
        """Stops the child if it is still running (the report failed elsewhere)."""
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            self._receive.close()
            self._process = None


def _answer(send: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        send.send((True, fn(*args)))
    except BaseException as exc:  # handed to the parent, which raises it
        send.send((False, exc))
    finally:
        send.close()


class _Estimates:
    """The estimates section while its methods run: the notes it adds, and the child."""

    def __init__(self, compiler: _Compiler) -> None:
        self.compiler = compiler
        self.notes: list[str] = []
        self.withheld: list[str] = []
        self.running: _Background | None = None

    def finish(self) -> list[dict[str, Any]]:
        """Adds the notes and returns the published rows, once the methods are done."""
        self.compiler.notes.extend(self.notes)
        for note in self.withheld:
            self.compiler.withheld.note(note)
        if self.running is None:
            return []
        return self.compiler.estimate_rows(self.running.result())

    def close(self) -> None:
        if self.running is not None:
            self.running.close()


class _Compiler:
    def __init__(
        self,
        ws: records.Workspace,
        definition: Definition,
        language: str,
        identities: Sequence[Any] | None,
        policy: Policy,
    ) -> None:
        self.ws = ws
        self.d = definition
        self.lang = language
        self.identities = identities
        self.policy = policy
        self.withheld = Withheld()
        self.notes: list[str] = []
        self.secret = pseudonym_secret(ws, definition)
        self.tables: list[dict[str, Any]] = []
        self._event_dates: dict[int, FuzzyDate | None] = {}
        self._event_places: dict[int | None, str] = {}

    # -- helpers --

    def allowed(self, table: str) -> bool:
        """Whether the sensitivity policy lets every field a table counts by be published
        (public, or coarsened for dates and places); a table whose axis the policy withholds
        is left out, with a note, rather than published against it."""
        for kind, field in _AXES[table]:
            sensitivity = self.policy.class_of(kind, field)
            if sensitivity not in (Sensitivity.PUBLIC, Sensitivity.COARSEN):
                self.withheld.note(f"{table}: left out; the policy withholds {kind}.{field}")
                self.notes.append(_w(self.lang, "note_policy", table=table))
                return False
        return True

    def protect(self, table: Table) -> Table:
        if self.d.epsilon is not None:
            table = table.with_noise(self.d.epsilon)
        protected = table.protect(self.d.k)
        return protected

    def publish(self, table: Table, caption: str, chart: str | None, alt: str) -> None:
        self.withheld.add_table(table)
        data = table.to_json()
        data.update({"caption": caption, "chart": chart, "alt": alt})
        self.tables.append(data)

    def small(self, n: int) -> dict[str, Any]:
        """A single published count: suppressed from 1 to k − 1 like any cell."""
        return {"suppressed": True} if 0 < n < self.d.k else {"count": n}

    def terms(self, vocabulary: str) -> dict[int, Term]:
        return {t.pk: t for t in self.ws.terms(vocabulary)}

    def label(self, term: Term) -> str:
        return term.label(self.lang)

    def row_label(self, term: Term, vocabulary: Mapping[int, Term]) -> str:
        """A term's label as a table row: a term with narrower terms below it (a federal
        district, "violations of the right to life") counts only the acts recorded at that
        level, and says so. Every term is a row whether or not it occurs, so a row's presence
        never tells that some act has it."""
        if any(t.parent_id == term.pk for t in vocabulary.values()):
            return _w(self.lang, "unspecified", label=self.label(term))
        return self.label(term)

    def _ordered(self, terms: Iterable[Term]) -> list[Term]:
        return sorted(terms, key=lambda t: (t.position, t.key))

    def _bar_alt(self, table: Table, data_title: str) -> str:
        assert table.protection is not None
        hidden = table.protection.hidden
        shown = [
            (table.counts[i][0], table.rows.labels[i])
            for i in range(len(table.rows.keys))
            if (i, 0) not in hidden
        ]
        if not shown:
            return _w(self.lang, "bar_alt_none", title=data_title)
        peak = max(shown, key=lambda pair: pair[0])[1]
        return _w(
            self.lang,
            "bar_alt",
            title=data_title,
            shown=len(shown),
            n=len(table.rows.keys),
            peak=peak,
        )

    def one_way(
        self,
        name: str,
        title: str,
        caption: str,
        axis: Axis,
        items: Iterable[str],
        chart: str | None = "bar",
    ) -> Table:
        table = self.protect(Table.tally(name, title, axis, list(items)))
        self.publish(table, caption, chart, self._bar_alt(table, title))
        return table

    # -- sections --

    def by_wave(self, acts: Sequence[_Act]) -> None:
        grain = self.d.date_grain
        steps = _steps(self.d.period.start, self.d.period.end, grain)
        index = set(steps)
        counted, coarse = [], 0
        for act in acts:
            c = coarsen.coarsen_date(act.when, grain)
            if c.unit == grain and c.label in index:
                counted.append(c.label)
            else:
                coarse += 1
        word = _w(self.lang, grain)
        axis = Axis(grain, word, tuple(steps), tuple(steps))
        title = _w(self.lang, f"by_wave_{grain}")
        table = self.protect(Table.tally("by_wave", title, axis, counted))
        assert table.protection is not None
        hidden = table.protection.hidden
        shown = [(table.counts[i][0], steps[i]) for i in range(len(steps)) if (i, 0) not in hidden]
        if shown:
            peak, peak_at = max(shown, key=lambda pair: pair[0])
            alt = _w(
                self.lang,
                "by_wave_alt",
                grain=word.lower(),
                first=steps[0],
                last=steps[-1],
                peak=peak,
                peak_at=peak_at,
            )
        else:
            alt = _w(
                self.lang, "by_wave_alt_none", grain=word.lower(), first=steps[0], last=steps[-1]
            )
        caption = _w(self.lang, "by_wave_caption", grain=word.lower())
        self.publish(table, caption, "line", alt)
        if coarse:
            if coarse >= self.d.k:
                self.notes.append(_w(self.lang, "note_coarse", n=coarse, grain=word.lower()))
            else:
                self.notes.append(_w(self.lang, "note_coarse_few", k=self.d.k, grain=word.lower()))
            self.withheld.note(
                f"by_wave: acts dated more coarsely than a {grain} are left out of the series"
            )

    def by_place(self, acts: Sequence[_Act]) -> None:
        grain = self.d.place_grain
        regions = self.terms("regions")
        mapping = _region_mapping(regions)
        selected = _expanded(self.ws, "regions", self.d.regions)
        candidates = [t for t in regions.values() if (selected is None or t.pk in selected)]
        if selected is None:
            candidates = [t for t in candidates if not t.retired]
        rows: dict[str, str] = {}
        for term in self._ordered(candidates):
            place = coarsen.coarsen_place(term.key, grain, mapping)
            rows.setdefault(place.label, self.row_label(_by_key(regions, place.label), regions))
        place_regions = dict(Place.objects.filter(desk=self.ws.desk).values_list("pk", "region_id"))
        items: list[str] = []
        fell_back = False
        for act in acts:
            term_pk = act.region
            if act.place is not None and place_regions.get(act.place) in regions:
                candidate = regions[place_regions[act.place]]
                if selected is None or candidate.pk in selected:
                    term_pk = candidate.pk
            if term_pk is None or term_pk not in regions:
                items.append(NONE_KEY)
                continue
            place = coarsen.coarsen_place(regions[term_pk].key, grain, mapping)
            fell_back |= place.unit != grain
            if place.label not in rows:
                rows[place.label] = self.row_label(_by_key(regions, place.label), regions)
            items.append(place.label)
        if NONE_KEY in items or selected is None:
            rows[NONE_KEY] = _w(self.lang, "none_region")
        word = _w(self.lang, grain)
        title = _w(self.lang, f"by_place_{grain}")
        self.one_way(
            "by_place",
            title,
            _w(self.lang, "by_place_caption", grain=word.lower()),
            Axis.of(grain, word, rows),
            items,
        )
        if grain == "district" and fell_back:
            self.notes.append(_w(self.lang, "note_district"))

    def by_facility(self, acts: Sequence[_Act]) -> None:
        kinds = self.terms("place-kinds")
        place_kind = dict(Place.objects.filter(desk=self.ws.desk).values_list("pk", "kind_id"))
        items = []
        for act in acts:
            kind = place_kind.get(act.place) if act.place is not None else None
            items.append(kinds[kind].key if kind in kinds else NONE_KEY)
        rows = {
            t.key: self.row_label(t, kinds)
            for t in self._ordered(kinds.values())
            if not t.retired or t.key in items
        }
        rows[NONE_KEY] = _w(self.lang, "none_place")
        title = _w(self.lang, "by_facility")
        self.one_way(
            "by_facility",
            title,
            _w(self.lang, "by_facility_caption"),
            Axis.of("facility", _w(self.lang, "facility"), rows),
            items,
        )

    def by_act_type(self, acts: Sequence[_Act]) -> None:
        types = self.terms("act-types")
        selected = _expanded(self.ws, "act-types", self.d.act_types)
        items = [types[a.act_type].key if a.act_type in types else NONE_KEY for a in acts]
        chosen = [
            t
            for t in types.values()
            if (t.pk in selected if selected is not None else not t.retired) or t.key in items
        ]
        rows = {t.key: self.row_label(t, types) for t in self._ordered(chosen)}
        if selected is None:
            rows[NONE_KEY] = _w(self.lang, "none")
        title = _w(self.lang, "by_act_type")
        self.one_way(
            "by_act_type",
            title,
            _w(self.lang, "by_act_type_caption"),
            Axis.of("act_type", _w(self.lang, "act_type"), rows),
            items,
        )

    def by_perpetrator_unit(self, acts: Sequence[_Act]) -> None:
        selected = {a.pk for a in acts}
        units: dict[int, set[str]] = defaultdict(set)
        # Every involvement of the desk as plain tuples, kept when its act is selected: one
        # query, where a list of 300,000 selected acts would take several long ones.
        involvements = Involvement.objects.filter(desk=self.ws.desk).order_by("pk")
        for act, uid, details in involvements.values_list("act_id", "uid", "details"):
            if act not in selected:
                continue
            opened = self.ws.sealer.open_column(Involvement, uid, "details", details)
            unit = _plain(str(opened.get("unit") or ""))
            if unit:
                units[act].add(unit)
        items: list[str] = []
        for act in acts:
            items.extend(sorted(units.get(act.pk, ())) or [NONE_KEY])
        names = sorted({i for i in items if i != NONE_KEY}, key=_natural)
        rows = {name: name for name in names}
        rows[NONE_KEY] = _w(self.lang, "none_unit")
        title = _w(self.lang, "by_perpetrator_unit")
        self.one_way(
            "by_perpetrator_unit",
            title,
            _w(self.lang, "by_perpetrator_unit_caption"),
            Axis.of("unit", _w(self.lang, "unit"), rows),
            items,
        )
        if names:
            self.notes.append(_w(self.lang, "note_units"))

    def sources_by_type(self, acts: Sequence[_Act], victims: set[int]) -> None:
        events = {a.event for a in acts}
        # About a selected event or victim; filtered here rather than with IN lists of
        # 100,000 events and 150,000 victims, which near SQLite's variable limit.
        infos = (
            Information.objects.filter(desk=self.ws.desk)
            .order_by("pk")
            .values_list("event_id", "person_id", "source_id", "uid", "details")
        )
        found: list[tuple[int, str]] = []
        for event, person, source_id, uid, details in infos:
            if event not in events and person not in victims:
                continue
            opened = self.ws.sealer.open_column(Information, uid, "details", details)
            found.append((source_id, str(opened.get("reliability") or NONE_KEY)))
        # Each source read and opened once, all in one query rather than one per source.
        source_type: dict[int, str] = {}
        sources = Source.objects.filter(desk=self.ws.desk).values_list("pk", "uid", "details")
        wanted = {source_id for source_id, _ in found}
        for pk, uid, details in sources:
            if pk in wanted:
                opened = self.ws.sealer.open_column(Source, uid, "details", details)
                source_type[pk] = str(opened.get("material_type") or NONE_KEY)
        for pk in wanted - set(source_type):  # not the desk's own: read as before, one by one
            opened = self.ws.sealer.open(Source.objects.get(pk=pk), "details")
            source_type[pk] = str(opened.get("material_type") or NONE_KEY)
        pairs = [(source_type[source_id], reliability) for source_id, reliability in found]
        types = self.terms("source-material-types")
        levels = self.terms("reliability")
        row_keys = {t.key: self.label(t) for t in self._ordered(types.values()) if not t.retired}
        col_keys = {t.key: self.label(t) for t in self._ordered(levels.values()) if not t.retired}
        by_key_types = {t.key: t for t in types.values()}
        by_key_levels = {t.key: t for t in levels.values()}
        cleaned = []
        for row, col in pairs:
            row = row if row in by_key_types else NONE_KEY
            col = col if col in by_key_levels else NONE_KEY
            if row != NONE_KEY and row not in row_keys:
                row_keys[row] = self.label(by_key_types[row])
            if col != NONE_KEY and col not in col_keys:
                col_keys[col] = self.label(by_key_levels[col])
            cleaned.append((row, col))
        row_keys[NONE_KEY] = _w(self.lang, "none")
        col_keys[NONE_KEY] = _w(self.lang, "none")
        rows = Axis.of("source_type", _w(self.lang, "source_type"), row_keys)
        cols = Axis.of("reliability", _w(self.lang, "reliability"), col_keys)
        title = _w(self.lang, "sources_by_type")
        table = self.protect(Table.tally("sources_by_type", title, rows, cleaned, columns=cols))
        # The chart shows counts by type: the margin of the protected two-way table, so it
        # hides exactly the type totals the two-way table hid.
        margin = table.margin("rows", "sources_by_type_total", title)
        self.publish(
            table, _w(self.lang, "sources_by_type_caption"), None, self._bar_alt(margin, title)
        )

    def unique_victims(self, acts: Sequence[_Act], victims: set[int]) -> dict[str, Any]:
        """Reports (acts) and victims (persons after confirmed merges), each a count like any
        cell: noisy when the definition asks for noise, suppressed from 1 to k − 1."""
        reports, persons = len(acts), len(victims)
        if self.d.epsilon is not None:
            (reports, persons), _ = add_noise([reports, persons], self.d.epsilon, 1)
        if 0 < reports < self.d.k:
            self.withheld.note("unique_victims: the number of reports is below k")
        if 0 < persons < self.d.k:
            self.withheld.note("unique_victims: the number of victims is below k")
        return {
            "reports": self.small(reports),
            "victims": self.small(persons),
            "note": _w(self.lang, "linkage"),
        }

    def estimates(self, victims: set[int], merged: Mapping[int, int]) -> _Estimates:
        """Builds the capture table and starts the methods on it in a process of their own
        (the latent-class sampler takes about 20 s whatever the data's size), so that the
        rest of the report compiles meanwhile. The notes are added by ``_Estimates.finish``,
        where the report has always had them."""
        from refugium.estimation.run import Options, estimate_tables
        from refugium.estimation.table import table_from_memberships
        from refugium.web.estimates import services as est

        pending = _Estimates(self)
        on: dict[int, set[int]] = defaultdict(set)
        named = Information.objects.filter(desk=self.ws.desk, person__isnull=False)
        for person_id, source_id in named.values_list("person_id", "source_id"):
            person = merged.get(person_id, person_id)
            if person in victims:
                on[source_id].add(person)
        if len(on) < MIN_LISTS:
            pending.notes.append(_w(self.lang, "note_estimates_few", n=len(on), m=MIN_LISTS))
            pending.withheld.append("estimates: fewer than 3 sources name the selected victims")
            return pending
        ranked = sorted(on, key=lambda s: (-len(on[s]), s))
        lists = sorted(ranked[:MAX_LISTS])
        if len(ranked) > MAX_LISTS:
            pending.notes.append(_w(self.lang, "note_estimates_lists", n=MAX_LISTS))
        membership: dict[int, set[str]] = defaultdict(set)
        names = {source: f"list{n}" for n, source in enumerate(lists, 1)}
        for source in lists:
            for person in on[source]:
                membership[person].add(names[source])
        observed = len(membership)
        if observed < self.d.k:
            pending.notes.append(_w(self.lang, "note_estimates_small", k=self.d.k))
            return pending
        table = table_from_memberships(
            [names[s] for s in lists], [frozenset(v) for _, v in sorted(membership.items())]
        )
        options = Options(seed=ESTIMATE_SEED, iterations=est.LCMCR_ITERATIONS)
        pending.running = _Background(
            estimate_tables, {None: table}, list(self.d.sections.estimates), options
        )
        return pending

    def estimate_rows(self, results: Sequence[Any]) -> list[dict[str, Any]]:
        out = []
        for r in results:
            # A method that could not run gives NaN (its warnings say why); an interval
            # open at the top gives inf, published as null. Neither may reach round().
            ran = math.isfinite(r.estimate)
            interval = None
            if ran and math.isfinite(r.lower):
                interval = [round(r.lower), round(r.upper) if math.isfinite(r.upper) else None]
            out.append(
                {
                    "method": r.method,
                    "stratum": None,
                    "estimate": round(r.estimate) if ran else None,
                    "interval": interval,
                    "level": LEVEL,
                    "observed": r.observed,
                    "assumptions": _w(self.lang, r.method),
                    "warnings": [_no_codes(w) for w in r.warnings],
                }
            )
        return out

    def timeline(
        self, acts: Sequence[_Act], events: Mapping[int, Event], names: Mapping[str, str]
    ) -> list[dict[str, str]]:
        selected = {a.event for a in acts}
        links = _chain_links(self.ws, selected)
        chain_types = self.terms("chain-types")
        rows = []
        for from_event, to_event, chain_type in links:
            a, b = events[from_event], events[to_event]
            kind = chain_types.get(chain_type) if chain_type is not None else None
            when_a, where_a = self.event_when(a), self.event_where(a)
            when_b, where_b = self.event_when(b), self.event_where(b)
            text = _w(
                self.lang,
                "chain",
                a=names[str(a.pk)],
                b=names[str(b.pk)],
                chain=self.label(kind) if kind else "—",
                when_a=when_a,
                where_a=where_a,
                when_b=when_b,
                where_b=where_b,
            )
            rows.append(
                (
                    (self.event_sort(a), names[str(a.pk)], names[str(b.pk)]),
                    {"when": when_a, "text": text},
                )
            )
        return [entry for _, entry in sorted(rows, key=lambda pair: pair[0])]

    # -- events --

    def _event_fuzzy(self, event: Event) -> FuzzyDate | None:
        """The event's date, opened once per event: a wave's umbrella event is on one end
        of thousands of chain links."""
        if event.pk in self._event_dates:
            return self._event_dates[event.pk]
        when = records.when_of(self.ws.sealer.open(event, "details"))
        if when is None and event.month_from is not None:
            last = event.month_to or event.month_from
            when = FuzzyDate(event.month_from, _month_end(last), "", Precision.RANGE)
        self._event_dates[event.pk] = when
        return when

    def event_when(self, event: Event) -> str:
        fuzzy = self._event_fuzzy(event)
        if fuzzy is None:
            return _w(self.lang, "unknown_when")
        return coarsen.coarsen_date(fuzzy, self.d.date_grain).label

    def event_sort(self, event: Event) -> str:
        fuzzy = self._event_fuzzy(event)
        if fuzzy is None:
            return "9999"
        return (fuzzy.earliest or date.min).isoformat()

    def event_where(self, event: Event) -> str:
        """The event's region as published, worked out once per region."""
        if event.region_id not in self._event_places:
            self._event_places[event.region_id] = self._where(event.region_id)
        return self._event_places[event.region_id]

    def _where(self, region_id: int | None) -> str:
        regions = self.terms("regions")
        if region_id not in regions:
            return _w(self.lang, "unknown_where")
        mapping = _region_mapping(regions)
        place = coarsen.coarsen_place(regions[region_id].key, self.d.place_grain, mapping)
        return self.label(_by_key(regions, place.label))


def _chain_links(ws: records.Workspace, selected: set[int]) -> list[tuple[int, int, int | None]]:
    """(from event, to event, chain type) of the desk's chain links between two selected
    events, in record order. Filtered here: IN lists of 100,000 selected events would near
    SQLite's variable limit, and chain links are far fewer than events."""
    links = ChainLink.objects.filter(desk=ws.desk).order_by("pk")
    return [
        (a, b, kind)
        for a, b, kind in links.values_list("from_event_id", "to_event_id", "chain_type_id")
        if a in selected and b in selected
    ]


def _by_key(terms: Mapping[int, Term], key: str) -> Term:
    for term in terms.values():
        if term.key == key:
            return term
    raise BadInput(f"region {key!r} is not in the vocabulary")


def _region_mapping(regions: Mapping[int, Term]) -> dict[str, tuple[str | None, str]]:
    """Region term key → (district, region) from the regions vocabulary's hierarchy.

    The vocabulary runs country → federal district → region (``ru`` →
    ``north-caucasus-federal-district`` → ``ru-ce``); a term an administrator adds below a
    region is a district of it. So a term's region is its ancestor two levels below the root
    (itself when it is that deep, or shallower: ``ru-mow`` sits right under ``ru``), and its
    district is the ancestor one level deeper, when there is one.
    """
    mapping: dict[str, tuple[str | None, str]] = {}
    for term in regions.values():
        chain = [term]
        while (
            chain[-1].parent_id is not None and chain[-1].parent_id in regions and len(chain) < 32
        ):
            chain.append(regions[chain[-1].parent_id])
        if len(chain) <= 3:
            mapping[term.key] = (None, term.key)
        else:
            mapping[term.key] = (chain[-4].key, chain[-3].key)
    return mapping


def _steps(start: date, end: date, grain: str) -> list[str]:
    """Every week or month of the period, in order, so that zero counts are shown."""
    labels: list[str] = []
    if grain == "week":
        day = start - timedelta(days=start.weekday())
        while day <= end:
            year, week, _ = day.isocalendar()
            labels.append(f"{year:04d}-W{week:02d}")
            day += timedelta(days=7)
        return labels
    day = _first_of_month(start)
    while day <= end:
        labels.append(f"{day.year:04d}-{day.month:02d}")
        day = _month_end(day) + timedelta(days=1)
    return labels


_SPACES = re.compile(r"\s+")
_CODES = re.compile(r"\b[LEPSAVNIC]-[0-9]{4,9}\b")


def _plain(text: str) -> str:
    return _SPACES.sub(" ", text).strip()[:200]


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p.casefold() for p in re.split(r"([0-9]+)", text))


def _no_codes(text: str) -> str:
    """A warning from the estimation package, without any record code it may quote."""
    return _CODES.sub("—", text)


# --- Redaction ------------------------------------------------------------------------------


def _values(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _values(item)


class Redactor:
    """Replaces every identifying value of some persons and places in a text.

    Built from their sealed identity (names, contacts, documents, addresses, exact
    locations) and the names of their places; each value is replaced by the person's
    pseudonym or ``[withheld]``, longest first (a full name before the family name inside
    it), case-insensitively and only as a whole word (``Ali`` is not cut out of ``Alania``).
    Exact dates are replaced in ISO and ``DD.MM.YYYY`` form.
    """

    MIN_LENGTH: Final = 2

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def add(self, value: Any, replacement: str) -> None:
        for text in _values(value):
            text = _SPACES.sub(" ", text).strip()
            if len(text) >= self.MIN_LENGTH:
                self._values.setdefault(text, replacement)

    def add_date(self, day: date | None, replacement: str) -> None:
        if day is not None:
            self._values.setdefault(day.isoformat(), replacement)
            self._values.setdefault(day.strftime("%d.%m.%Y"), replacement)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=lambda v: (-len(v), v)):
            pattern = rf"(?<!\w){re.escape(value)}(?!\w)"
            text = re.sub(pattern, _constant(self._values[value]), text, flags=re.IGNORECASE)
        return text


def _constant(text: str) -> Any:
    """A replacement function for ``re.sub``: the text as it is (no backslash escapes)."""
    return lambda _match: text


# --- The whole report -----------------------------------------------------------------------


def compile_report(
    ws: records.Workspace,
    definition: Definition,
    *,
    language: str,
    identities: Sequence[Any] | None = None,
    source: str = "definition",
    policy: Policy | None = None,
) -> Build:
    """The report's dict and the withheld report (see the module docstring).

    ``policy`` is the sensitivity policy (default: the packaged file). ``identities`` are
    the desk's age identities, needed only for the evidence annex (an
    item's SHA-256 and media type are sealed to the desk); without them the annex is empty
    and a note says so.

    Raises:
        BadDefinition: a region or act type the vocabularies lack; a language the definition
            has no title in.
        DecryptionFailed: a record does not open with the desk's keys.
    """
    if language not in definition.title:
        raise BadDefinition(
            source, [f"title.{language}: missing; the report is built in {language!r}"]
        )
    if definition.desk != ws.desk.name:
        raise BadDefinition(
            source, [f"desk: {definition.desk!r}; reports read the {ws.desk.name!r} desk's records"]
        )
    check_terms(ws, definition, source)
    policy = policy or default_policy()
    c = _Compiler(ws, definition, language, identities, policy)
    c.withheld.add_policy(policy)
    selection, undated = _selection(ws, definition)
    if undated:
        c.notes.append(_w(language, "note_undated"))
        c.withheld.note("selection: acts with no month at all are left out")
    merged = merged_into(ws)
    # The victims come from the public columns: the estimates can start before the acts'
    # dates are opened (10 s at 100,000 events), and finish where the section has always
    # been (its notes included).
    victims = {merged.get(v, v) for v in selection.values_list("victim_id", flat=True)}
    s = definition.sections
    pending = c.estimates(victims, merged) if s.estimates else None
    try:
        acts = _open_acts(ws, selection)
        return _compile_rest(c, ws, definition, acts, victims, merged, pending)
    finally:
        if pending is not None:
            pending.close()


def _compile_rest(
    c: _Compiler,
    ws: records.Workspace,
    definition: Definition,
    acts: list[_Act],
    victims: set[int],
    merged: Mapping[int, int],
    pending: _Estimates | None,
) -> Build:
    language = c.lang
    s = definition.sections
    sections = (
        (s.by_wave, "by_wave", c.by_wave),
        (s.by_place, "by_place", c.by_place),
        (s.by_facility, "by_facility", c.by_facility),
        (s.by_act_type, "by_act_type", c.by_act_type),
        (s.by_perpetrator_unit, "by_perpetrator_unit", c.by_perpetrator_unit),
    )
    for asked, name, make in sections:
        if asked and c.allowed(name):
            make(acts)
    if s.sources and c.allowed("sources_by_type"):
        c.sources_by_type(acts, victims)
    unique = c.unique_victims(acts, victims) if s.unique_victims else None
    estimates = pending.finish() if pending is not None else []

    wanted_events, summary_rows, left_out = _summary_records(ws, definition, acts, victims)
    timeline_events: set[int] = set()
    if s.timeline:
        for a, b, _ in _chain_links(ws, {a.event for a in acts}):
            timeline_events |= {a, b}
    events = Event.objects.in_bulk(timeline_events)
    event_names = Pseudonyms(c.secret, "Event").assign(timeline_events | wanted_events)
    shown_events = {
        k: f"{_w(language, 'Event')} {v.rsplit(' ', 1)[1]}" for k, v in event_names.items()
    }
    timeline = c.timeline(acts, events, shown_events) if s.timeline else []
    summaries = _summaries(c, summary_rows, acts, shown_events, merged)
    if s.case_summaries:
        c.notes.append(_w(language, "note_summaries"))
    if left_out:
        c.notes.append(_w(language, "note_summary_left_out", n=left_out))
        c.withheld.note(f"case_summaries: {left_out} records asked for are not in the selection")
    evidence = _evidence(c, acts, victims) if s.evidence else []
    if definition.epsilon is not None:
        c.notes.append(_w(language, "note_noise", epsilon=definition.epsilon))
    c.notes.append(_w(language, "note_k", km1=definition.k - 1))
    parameters: dict[str, Any] = {
        "k": definition.k,
        "date_grain": definition.date_grain,
        "place_grain": definition.place_grain,
        "noise": None,
    }
    if definition.epsilon is not None:
        parameters["noise"] = {
            "mechanism": MECHANISM_NAME,
            "epsilon": definition.epsilon,
            "sensitivity": 1,
        }
    report: dict[str, Any] = {
        "format": FORMAT,
        "software": {"name": "refugium", "version": refugium.__version__},
        "language": language,
        "title": definition.title_in(language),
        "definition": _published_definition(definition, summary_rows, shown_events, summaries),
        "parameters": parameters,
        "period": definition.period.to_dict(),
        "tables": c.tables,
        "unique_victims": unique,
        "estimates": estimates,
        "timeline": timeline,
        "summaries": summaries,
        "evidence": evidence,
        "notes": c.notes,
    }
    return Build(report=report, withheld=c.withheld)


def _published_definition(
    definition: Definition,
    rows: Sequence[tuple[str, int]],
    event_names: Mapping[str, str],
    summaries: Sequence[Mapping[str, str]],
) -> dict[str, Any]:
    """The canonical definition as data.json embeds it, with one change: the record codes of
    ``sections.case_summaries`` become the pseudonyms the report gives those records.

    A code (``E-0042``) next to its pseudonym would tie "Event 3" to a row of the database,
    which a later leak of the database would resolve: the very link pseudonyms exist to
    break. Records outside the selection (left out, see the notes) become
    ``"(not in the selection)"``. Everything else is the canonical form, byte for byte.
    """
    data: dict[str, Any] = json.loads(definition.to_json())
    shown = iter(s["pseudonym"] for s in summaries)
    selected = {(kind, pk) for kind, pk in rows}
    codes = []
    for code in definition.sections.case_summaries:
        prefix, _, number = code.partition("-")
        kind = {"E": "event", "P": "person"}.get(prefix, "")
        codes.append(next(shown) if (kind, int(number)) in selected else "(not in the selection)")
    data["sections"]["case_summaries"] = codes
    return data


def _summary_records(
    ws: records.Workspace, definition: Definition, acts: Sequence[_Act], victims: set[int]
) -> tuple[set[int], list[tuple[str, int]], int]:
    """The records of the case summaries that are in the selection, as (kind, pk) in the
    definition's order, the events among them, and how many asked for were not selected."""
    events_selected = {a.event for a in acts}
    wanted: set[int] = set()
    rows: list[tuple[str, int]] = []
    left_out = 0
    for code in definition.sections.case_summaries:
        prefix, _, number = code.partition("-")
        pk = int(number)
        if prefix == "E" and pk in events_selected:
            wanted.add(pk)
            rows.append(("event", pk))
        elif prefix == "P" and pk in victims:
            rows.append(("person", pk))
        else:
            left_out += 1
    return wanted, rows, left_out


def _summaries(
    c: _Compiler,
    rows: Sequence[tuple[str, int]],
    acts: Sequence[_Act],
    event_names: Mapping[str, str],
    merged: Mapping[int, int],
) -> list[dict[str, str]]:
    if not rows:
        return []
    lang = c.lang
    victims_all = sorted({merged.get(a.victim, a.victim) for a in acts})
    persons = Pseudonyms(c.secret, "Person").assign(victims_all)
    person_name = {k: f"{_w(lang, 'Person')} {v.rsplit(' ', 1)[1]}" for k, v in persons.items()}
    types = c.terms("act-types")
    kinds = c.terms("place-kinds")
    place_rows = Place.objects.in_bulk({a.place for a in acts if a.place is not None})
    out = []
    for kind, pk in rows:
        if kind == "event":
            mine = [a for a in acts if a.event == pk]
        else:
            mine = [a for a in acts if merged.get(a.victim, a.victim) == pk]
        # Everything identifying about the persons and places of this case, to redact.
        redact = Redactor()
        for person in Person.objects.filter(pk__in={a.victim for a in mine}).order_by("pk"):
            values = records.read(c.ws, person, identity=True, why="report")
            name = person_name.get(str(merged.get(person.pk, person.pk)), "[withheld]")
            for field in (
                "full_name",
                "given_name",
                "patronymic",
                "family_name",
                "other_names",
                "contacts",
                "id_documents",
                "addresses",
                "birth_place",
                "home_place",
            ):
                redact.add(values.get(field), name)
            for field in ("birth_date", "date_of_death"):
                redact.add_date(_day(values.get(field)), "[withheld]")
        for place in (place_rows[a.place] for a in mine if a.place in place_rows):
            values = records.read(c.ws, place, identity=True, why="report")
            for field in ("name", "other_names", "exact_location", "coordinates"):
                redact.add(values.get(field), "[withheld]")
        for act in mine:
            redact.add_date(
                act.when.earliest if act.when.precision is Precision.DAY else None, "[withheld]"
            )
        type_labels = sorted({c.label(types[a.act_type]) for a in mine if a.act_type in types})
        place_labels = sorted(
            {
                c.label(kinds[place_rows[a.place].kind_id])
                for a in mine
                if a.place in place_rows and place_rows[a.place].kind_id in kinds
            }
        )
        acts_text = _w(lang, "acts", types=", ".join(type_labels) or "—")
        places_text = ", ".join(place_labels) or _w(lang, "no_places")
        first = min((a.when for a in mine), key=lambda f: f.earliest or date.min)
        when = coarsen.coarsen_date(first, c.d.date_grain).label
        if kind == "event":
            event = Event.objects.get(pk=pk)
            pseudonym = event_names[str(pk)]
            where = c.event_where(event)
            people = {merged.get(a.victim, a.victim) for a in mine}
            n_persons = (
                _w(lang, "persons_n", n=len(people))
                if len(people) >= c.d.k
                else _w(lang, "persons_few", k=c.d.k)
            )
            text = _w(
                lang, "summary_event", acts=acts_text, n_persons=n_persons, places=places_text
            )
        else:
            pseudonym = person_name[str(pk)]
            where = c.event_where(Event.objects.get(pk=mine[0].event))
            text = _w(lang, "summary_person", acts=acts_text, places=places_text)
        out.append({"pseudonym": pseudonym, "when": when, "where": where, "text": redact(text)})
    c.withheld.note("case_summaries: written from coded fields only; identifying values redacted")
    return out


def _day(value: Any) -> date | None:
    if not value:
        return None
    try:
        fuzzy = FuzzyDate.from_json(value)
    except (BadInput, KeyError, TypeError, ValueError):
        return None
    return fuzzy.earliest if fuzzy.precision is Precision.DAY else None


def _evidence(c: _Compiler, acts: Sequence[_Act], victims: set[int]) -> list[dict[str, Any]]:
    """Evidence items attached to the selected acts, their events and victims: pseudonym,
    media type, SHA-256, size and a custody summary; never a file name or a source."""
    from refugium.web.evidence import services as evidence
    from refugium.web.evidence.models import Link

    wanted = {
        "act": {a.pk for a in acts},
        "event": {a.event for a in acts},
        "person": set(victims) | {a.victim for a in acts},
    }
    items: dict[int, Any] = {}
    # The desk's links of these kinds, kept when their record is selected: items are few
    # next to records, and lists of 100,000 selected records would take several long queries.
    links = (
        Link.objects.filter(record_type__in=wanted, item__desk=c.ws.desk, item__case_keyed=False)
        .select_related("item")
        .order_by("pk")
    )
    for link in links:
        if link.record_pk in wanted[link.record_type]:
            items.setdefault(link.item_id, link.item)
    if not items:
        return []
    if c.identities is None:
        c.withheld.note("evidence: the desk's identities were not given; the annex is empty")
        return []
    names = Pseudonyms(c.secret, "Item").assign(item.code for item in items.values())
    codes = {item.code for item in items.values()}
    custody: dict[str, list[str]] = defaultdict(list)
    log = evidence.custody()
    if log.path.exists():
        for entry in log.entries():
            code = entry["body"].get("item")
            if code in codes:
                custody[code].append(str(entry["body"].get("at", ""))[:7])
    out = []
    for item in items.values():
        meta = evidence.open_meta(item, c.identities)
        months = sorted(m for m in custody[item.code] if m)
        number = int(names[item.code].rsplit(" ", 1)[1])
        out.append(
            (
                number,
                {
                    "pseudonym": f"{_w(c.lang, 'Item')} {number}",
                    "media_type": meta.media_type,
                    "sha256": meta.sha256,
                    "size": item.size,
                    "custody": {
                        "events": len(custody[item.code]),
                        "first": months[0] if months else None,
                        "last": months[-1] if months else None,
                    },
                },
            )
        )
    c.withheld.field("evidence", "name", "withhold", "file names and sources of evidence items")
    return [entry for _, entry in sorted(out, key=lambda pair: pair[0])]
