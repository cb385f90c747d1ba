"""Report definitions: which records a report covers, how coarse it is, and what it shows.

A definition is a small TOML file a researcher writes (``examples/report.toml``)::

    desk = "documentation"
    languages = ["en", "ru"]
    regions = ["ru-ce"]
    act_types = ["arrest", "detention", "torture"]
    k = 5
    date_grain = "week"
    place_grain = "region"
    noise = "off"

    [title]
    en = "Detentions in the Chechen Republic, 2017"
    ru = "Задержания в Чеченской Республике, 2017"

    [period]
    from = "2017-02"
    to = "2017-12"

    [sections]
    estimates = ["lcmcr", "loglinear"]
    case_summaries = ["E-0012"]

Everything wrong with a definition is reported at once, each problem with its key path
(``period.to``, ``sections.estimates[1]``), and nothing is built until all are fixed. Unknown
keys are refused, never ignored: ``regoins = ["ru-ce"]`` silently dropped would publish every
region's records under a title that names one.

What is checked here is the shape. Whether a region or act type exists is a question for the
vocabularies the build runs against (administrators add terms in the database), so it is a
separate step, :func:`unknown_terms`.

:meth:`Definition.to_json` is canonical (sorted keys, resolved dates, sorted filters): the same
definition always gives the same bytes, which ``data.json`` embeds so that the figures can be
reproduced. The canonical form is itself a valid definition: parsing it gives back an equal
:class:`Definition`. :meth:`Definition.to_toml` writes a definition back as TOML (for the
page that edits definitions), which also parses back to an equal definition.
"""

from __future__ import annotations

import calendar
import difflib
import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Literal

from refugium.errors import BadInput

__all__ = [
    "DATE_GRAINS",
    "DEFAULT_K",
    "ESTIMATION_METHODS",
    "LANGUAGES",
    "PLACE_GRAINS",
    "BadDefinition",
    "Definition",
    "Period",
    "Sections",
    "from_mapping",
    "load",
    "parse",
    "unknown_terms",
]

DEFAULT_K: Final = 5
MIN_K: Final = 2
"""A cell of 1 is a person; k = 1 would publish everyone. The issue's default is 5."""
MAX_TITLE: Final = 200
MAX_PROBLEMS: Final = 50
LANGUAGES: Final = ("en", "ru")
DATE_GRAINS: Final = ("week", "month")
PLACE_GRAINS: Final = ("district", "region")
ESTIMATION_METHODS: Final = ("loglinear", "lcmcr", "dga")
"""The methods of ``refugium.estimation.run.METHODS``, in its order (a test keeps them equal;
importing it here would load statsmodels for parsing a few lines of TOML)."""
RECORD_PREFIXES: Final = "LEPSAVNI"
"""The record kinds' code prefixes (``E-0042``), as ``refugium.web.records.models`` makes them."""

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_DESK = re.compile(r"[a-z][a-z0-9_-]{0,31}\Z")
_RECORD_CODE = re.compile(rf"[{RECORD_PREFIXES}]-[0-9]{{4,9}}\Z")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})\Z")
_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

DateGrain = Literal["week", "month"]
PlaceGrain = Literal["district", "region"]


class BadDefinition(BadInput):
    """A definition breaks the rules; ``problems`` lists every one, each with its key path."""

    code = "bad_definition"

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        shown = list(problems[:MAX_PROBLEMS])
        more = len(problems) - len(shown)
        lines = [f"{source}: {problem}" for problem in shown]
        if more:
            lines.append(f"{source}: … and {more} more")
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the report definition:\n"
            + "\n".join(lines)
        )
        self.source = source
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Period:
    """The days a report covers, both included; a month given as ``2017-02`` is resolved to
    its first day (``from``) or its last (``to``)."""

    start: date
    end: date

    def to_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


@dataclass(frozen=True)
class Sections:
    """Which parts of the content a report includes.

    ``estimates`` lists the estimation methods to run (empty: no estimates section);
    ``case_summaries`` the codes of the records whose researcher-written summaries are
    published (redacted by the compiler), in the order the report shows them.
    """

    by_wave: bool = True
    by_place: bool = True
    by_facility: bool = True
    by_act_type: bool = True
    by_perpetrator_unit: bool = True
    unique_victims: bool = True
    estimates: tuple[str, ...] = ()
    timeline: bool = True
    case_summaries: tuple[str, ...] = ()
    sources: bool = True
    evidence: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "by_wave": self.by_wave,
            "by_place": self.by_place,
            "by_facility": self.by_facility,
            "by_act_type": self.by_act_type,
            "by_perpetrator_unit": self.by_perpetrator_unit,
            "unique_victims": self.unique_victims,
            "estimates": list(self.estimates),
            "timeline": self.timeline,
            "case_summaries": list(self.case_summaries),
            "sources": self.sources,
            "evidence": self.evidence,
        }


_BOOL_SECTIONS: Final = (
    "by_wave",
    "by_place",
    "by_facility",
    "by_act_type",
    "by_perpetrator_unit",
    "unique_victims",
    "timeline",
    "sources",
    "evidence",
)
_SECTION_KEYS: Final = frozenset(_BOOL_SECTIONS) | {"estimates", "case_summaries"}
_TOP_KEYS: Final = frozenset(
    {
        "title",
        "desk",
        "period",
        "regions",
        "act_types",
        "k",
        "date_grain",
        "place_grain",
        "noise",
        "sections",
        "languages",
    }
)


@dataclass(frozen=True)
class Definition:
    """A checked report definition. ``regions``/``act_types`` empty means no filter (all);
    ``epsilon`` ``None`` means no noise."""

    title: Mapping[str, str]
    period: Period
    desk: str = "documentation"
    regions: tuple[str, ...] = ()
    act_types: tuple[str, ...] = ()
    k: int = DEFAULT_K
    date_grain: DateGrain = "month"
    place_grain: PlaceGrain = "region"
    epsilon: float | None = None
    sections: Sections = field(default_factory=Sections)
    languages: tuple[str, ...] = LANGUAGES

    def title_in(self, language: str) -> str:
        """The title in ``language`` (every language of the report has one)."""
        return self.title[language]

    def to_dict(self) -> dict[str, Any]:
        """The canonical form, as plain JSON values; itself a valid definition."""
        data: dict[str, Any] = {
            "title": {lang: self.title[lang] for lang in sorted(self.title)},
            "desk": self.desk,
            "period": self.period.to_dict(),
            "k": self.k,
            "date_grain": self.date_grain,
            "place_grain": self.place_grain,
            "noise": "off" if self.epsilon is None else {"epsilon": self.epsilon},
            "sections": self.sections.to_dict(),
            "languages": list(self.languages),
        }
        # Absent, not empty: an empty list is refused on input (it would select nothing).
        if self.regions:
            data["regions"] = list(self.regions)
        if self.act_types:
            data["act_types"] = list(self.act_types)
        return data

    def to_toml(self) -> str:
        """The definition as a TOML file a researcher can read and edit (the page that edits
        definitions saves this); parsing it gives back an equal definition."""
        data = self.to_dict()
        lines = [f"{key} = {_toml_value(data[key])}" for key in _TOML_TOP if key in data]
        for table in ("title", "period", "sections"):
            lines.append("")
            lines.append(f"[{table}]")
            lines += [f"{key} = {_toml_value(value)}" for key, value in data[table].items()]
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        """Canonical JSON: the same definition always gives the same text."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# --- Reading --------------------------------------------------------------------------------


def load(path: Path) -> Definition:
    """Read and check a definition file; raises :class:`BadDefinition` naming the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read the report definition ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadDefinition(str(path), ["not UTF-8 text"]) from None
    return parse(text, source=str(path))


def parse(text: str, *, source: str = "definition") -> Definition:
    """Parse TOML text; a syntax error is reported with tomllib's line and column."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadDefinition(source, [f"not valid TOML: {exc}"]) from None
    return from_mapping(data, source=source)


def from_mapping(data: Mapping[str, Any], *, source: str = "definition") -> Definition:
    """Check a parsed definition (from TOML, or the canonical JSON) and build it."""
    reader = _Reader()
    definition = reader.definition(data)
    if reader.problems or definition is None:
        raise BadDefinition(source, reader.problems)
    return definition


def unknown_terms(
    definition: Definition, *, regions: Iterable[str], act_types: Iterable[str]
) -> list[str]:
    """The definition's region and act-type keys missing from the given vocabularies, one
    problem each with its key path (empty when every term exists)."""
    known_regions, known_acts = set(regions), set(act_types)
    problems = [
        f"regions: {key!r} is not a region in the vocabulary"
        for key in definition.regions
        if key not in known_regions
    ]
    problems += [
        f"act_types: {key!r} is not an act type in the vocabulary"
        for key in definition.act_types
        if key not in known_acts
    ]
    return problems


class _Reader:
    """Walks a mapping, collecting every problem with its key path instead of stopping."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def known_keys(self, data: Mapping[str, Any], known: Iterable[str], prefix: str) -> None:
        names = sorted(known)
        for key in data:
            if key in names:
                continue
            path = f"{prefix}{key}"
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(names)})"
            self.problem(path, f"unknown key{hint}")

    def definition(self, data: Mapping[str, Any]) -> Definition | None:
        if not isinstance(data, Mapping):
            self.problem("(top)", "a definition is a table of keys")
            return None
        self.known_keys(data, _TOP_KEYS, "")
        languages = self.languages(data.get("languages"))
        title = self.title(data.get("title"), languages)
        period = self.period(data.get("period"))
        desk = self.desk(data.get("desk", "documentation"))
        regions = self.terms(data, "regions")
        act_types = self.terms(data, "act_types")
        k = self.k(data.get("k", DEFAULT_K))
        date_grain = self.choice(data.get("date_grain", "month"), "date_grain", DATE_GRAINS)
        place_grain = self.choice(data.get("place_grain", "region"), "place_grain", PLACE_GRAINS)
        epsilon = self.noise(data.get("noise", "off"))
        sections = self.sections(data.get("sections", {}))
        if self.problems or title is None or period is None or sections is None:
            return None
        return Definition(
            title=title,
            period=period,
            desk=desk,
            regions=regions,
            act_types=act_types,
            k=k,
            date_grain=date_grain,  # type: ignore[arg-type]  # checked by choice()
            place_grain=place_grain,  # type: ignore[arg-type]
            epsilon=epsilon,
            sections=sections,
            languages=languages,
        )

    # --- keys -----------------------------------------------------------------------------

    def languages(self, value: Any) -> tuple[str, ...]:
        if value is None:
            return LANGUAGES
        items = self.string_list(value, "languages")
        if items is None:
            return LANGUAGES
        if not items:
            self.problem("languages", "at least one of " + ", ".join(LANGUAGES))
            return LANGUAGES
        for i, item in enumerate(items):
            if item not in LANGUAGES:
                self.problem(f"languages[{i}]", f"{item!r} is not one of {', '.join(LANGUAGES)}")
        # The canonical order is LANGUAGES' order: English first, as the interface lists them.
        return tuple(lang for lang in LANGUAGES if lang in items)

    def title(self, value: Any, languages: tuple[str, ...]) -> dict[str, str] | None:
        if value is None:
            self.problem("title", f"missing; give one per language (title.{languages[0]} = …)")
            return None
        if not isinstance(value, Mapping):
            self.problem("title", "must be a table with one title per language (title.en = …)")
            return None
        self.known_keys(value, LANGUAGES, "title.")
        title: dict[str, str] = {}
        for lang in LANGUAGES:
            path = f"title.{lang}"
            if lang not in value:
                if lang in languages:
                    self.problem(path, f"missing; the report is built in {lang!r}")
                continue
            text = value[lang]
            if not isinstance(text, str):
                self.problem(path, f"must be text, not {_kind(text)}")
            elif not text.strip():
                self.problem(path, "is empty")
            elif len(text) > MAX_TITLE:
                self.problem(path, f"is {len(text)} characters; at most {MAX_TITLE}")
            elif _CONTROL.search(text):
                self.problem(path, "contains a control character (a line break or tab?)")
            else:
                title[lang] = text.strip()
        return title

    def period(self, value: Any) -> Period | None:
        if value is None:
            self.problem(
                "period", 'missing; a report states its period ([period] from = "2017-02")'
            )
            return None
        if not isinstance(value, Mapping):
            self.problem("period", 'must be a table: [period] from = "…", to = "…"')
            return None
        self.known_keys(value, ("from", "to"), "period.")
        start = self.day(value.get("from"), "period.from", end=False)
        end = self.day(value.get("to"), "period.to", end=True)
        if start is None or end is None:
            return None
        if start > end:
            self.problem("period", f"from ({start.isoformat()}) is after to ({end.isoformat()})")
            return None
        return Period(start, end)

    def day(self, value: Any, path: str, *, end: bool) -> date | None:
        if value is None:
            self.problem(path, 'missing; a month ("2017-02") or a day ("2017-02-20")')
            return None
        if isinstance(value, datetime):
            self.problem(path, "a date without a time of day, please (2017-02-20)")
            return None
        if isinstance(value, date):
            return value
        if not isinstance(value, str):
            self.problem(
                path, f'must be a month ("2017-02") or a day ("2017-02-20"), not {_kind(value)}'
            )
            return None
        try:
            if month := _MONTH.match(value):
                year, mon = int(month[1]), int(month[2])
                day = calendar.monthrange(year, mon)[1] if end else 1
                return date(year, mon, day)
            if _DAY.match(value):
                return date.fromisoformat(value)
        except ValueError:
            self.problem(path, f"{value!r} is not a real month or day")
            return None
        self.problem(path, f'{value!r} is neither a month ("2017-02") nor a day ("2017-02-20")')
        return None

    def desk(self, value: Any) -> str:
        if not isinstance(value, str) or not _DESK.match(value):
            self.problem(
                "desk", f"must be a desk's name such as 'documentation', not {_show(value)}"
            )
            return "documentation"
        return value

    def terms(self, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
        if key not in data:
            return ()
        items = self.string_list(data[key], key)
        if items is None:
            return ()
        if not items:
            self.problem(
                key, "is empty, which would select nothing; leave the key out to select all"
            )
        for i, item in enumerate(items):
            if not _SLUG.match(item):
                self.problem(f"{key}[{i}]", f"{item!r} is not a vocabulary key (like 'ru-ce')")
        # A filter is a set: sorted, so that the canonical form does not depend on the order.
        return tuple(sorted(set(items)))

    def k(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem("k", f"must be a whole number, not {_show(value)}")
            return DEFAULT_K
        if value < MIN_K:
            self.problem("k", f"is {value}; at least {MIN_K} (a cell of 1 is one person)")
        return int(value)

    def choice(self, value: Any, path: str, choices: Sequence[str]) -> str:
        if value not in choices or not isinstance(value, str):
            self.problem(path, f"must be one of {', '.join(choices)}, not {_show(value)}")
            return choices[0]
        return value

    def noise(self, value: Any) -> float | None:
        if value == "off" and isinstance(value, str):
            return None
        if not isinstance(value, Mapping):
            self.problem(
                "noise",
                f'must be "off" or a table ([noise] epsilon = 1.0), not {_show(value)}',
            )
            return None
        self.known_keys(value, ("epsilon",), "noise.")
        epsilon = value.get("epsilon")
        if epsilon is None:
            self.problem("noise.epsilon", 'missing; or write noise = "off"')
            return None
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)):
            self.problem("noise.epsilon", f"must be a number, not {_show(epsilon)}")
            return None
        if not math.isfinite(epsilon) or epsilon <= 0:
            self.problem("noise.epsilon", f"is {epsilon}; it must be a finite number above 0")
            return None
        return float(epsilon)

    def sections(self, value: Any) -> Sections | None:
        if not isinstance(value, Mapping):
            self.problem(
                "sections", f"must be a table ([sections] by_wave = true), not {_kind(value)}"
            )
            return None
        self.known_keys(value, _SECTION_KEYS, "sections.")
        flags: dict[str, bool] = {}
        for name in _BOOL_SECTIONS:
            flag = value.get(name, True)
            if not isinstance(flag, bool):
                self.problem(f"sections.{name}", f"must be true or false, not {_show(flag)}")
            else:
                flags[name] = flag
        estimates = self.estimates(value.get("estimates", []))
        summaries = self.case_summaries(value.get("case_summaries", []))
        return Sections(**flags, estimates=estimates, case_summaries=summaries)

    def estimates(self, value: Any) -> tuple[str, ...]:
        if value is False:
            return ()
        if value is True:
            return ESTIMATION_METHODS
        items = self.string_list(value, "sections.estimates")
        if items is None:
            return ()
        for i, item in enumerate(items):
            if item not in ESTIMATION_METHODS:
                self.problem(
                    f"sections.estimates[{i}]",
                    f"{item!r} is not a method ({', '.join(ESTIMATION_METHODS)})",
                )
        return tuple(m for m in ESTIMATION_METHODS if m in items)

    def case_summaries(self, value: Any) -> tuple[str, ...]:
        items = self.string_list(value, "sections.case_summaries")
        if items is None:
            return ()
        for i, item in enumerate(items):
            if not _RECORD_CODE.match(item):
                self.problem(
                    f"sections.case_summaries[{i}]",
                    f"{item!r} is not a record code (like 'E-0042')",
                )
        # The researchers' order is the report's order, so it is kept.
        return tuple(items)

    def string_list(self, value: Any, path: str) -> list[str] | None:
        """The distinct strings of a list (each wrong item a problem), ``None`` if no list."""
        if not isinstance(value, list):
            self.problem(path, f'must be a list of text (["…", "…"]), not {_kind(value)}')
            return None
        items: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.problem(f"{path}[{i}]", f"must be text, not {_kind(item)}")
            elif item in items:
                self.problem(f"{path}[{i}]", f"{item!r} is listed twice")
            else:
                items.append(item)
        # Problems are recorded, so nothing is built; the rest is still checked, for the report.
        return items


_TOML_TOP: Final = (
    "desk",
    "languages",
    "regions",
    "act_types",
    "k",
    "date_grain",
    "place_grain",
    "noise",
)


def _toml_value(value: Any) -> str:
    """A TOML value for the plain JSON values of :meth:`Definition.to_dict`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # finite (checked); repr round-trips and is valid TOML
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items())
        return "{" + items + "}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _kind(value: Any) -> str:
    names = {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a table",
        date: "a date",
        datetime: "a date and time",
    }
    return names.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    """A value in a message: short values as written, anything else by kind."""
    if (
        isinstance(value, (str, int, float))
        and not isinstance(value, bool)
        and len(repr(value)) <= 40
    ):
        return repr(value)
    return _kind(value)
