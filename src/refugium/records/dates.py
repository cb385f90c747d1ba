"""Dates as witnesses give them: the earliest and latest possible day, and the words used.

Testimony rarely names a day. "Late February 2017", "spring 2017" or "before 20 March" are
what people remember, and a database that stores them as one day invents a precision nobody
gave: HURIDOCS ESF tools (OpenEvSys among them) stored an unknown day or month as the 1st, so
"2017" became 1 January 2017 and sorted, counted and matched as if it were known. Here a date
is a ``FuzzyDate``: the earliest possible day, the latest possible day (either may be open),
how precise the wording was, and the wording itself, stripped, so that a reviewer can always
see what was said and re-read it if a convention below turns out wrong.

Conventions (every reading below is what ``parse`` does; none of it is a guess per record):

* A day is itself; a month runs from its 1st to its last day; a year from 1 January to
  31 December.
* Parts of a month: early / beginning / start / начало = days 1-10; mid / middle / середина
  = 11-20; late / end / конец = 21 to the last day. First half / первая половина = 1-15,
  second half / вторая половина = 16 to the last day.
* Parts of a year: early = January-April, mid = May-August, late = September-December;
  first half = January-June, second half = July-December.
* Seasons are those of the northern hemisphere (where the people refugium serves live):
  spring = March-May, summer = June-August, autumn / fall = September-November, and winter
  Y = 1 December Y-1 to the end of February Y, the winter that *ends* in Y, because that is
  the winter whose January and February carry the year's number. "Winter 2016/2017" and
  "зима 2016-2017" are the same winter.
* "Around" / "about" / "circa" / "около" / "примерно" / "~" widens: a day by 3 days each
  side; a month, part of a month, season or part of a year from the 1st of the month before
  its earliest day to the end of the month after its latest; a year by one year each side.
* "Before X" / "до X": open start, latest = the day before X's earliest day. "After X" /
  "после X": earliest = the day after X's latest day, open end. ISO-style open spans
  "..X" and "X.." (what ``str`` prints) include X itself.
* A range ("between 10 and 15 March 2017", "March-April 2017", "с 10 по 15 марта 2017",
  "2017-02-14..2017-02-20") runs from the earliest day of its start to the latest day of
  its end. A start may leave out what its end says ("10-15 March 2017": the start takes March
  2017 from the end). A range whose end begins or ends before its start does is an error,
  not silently swapped: "December-January 2017" is reversed; write "December 2016 -
  January 2017".
* Numeric dates are day.month.year or day/month/year (14.02.2017, 14/02/2017) or ISO
  year-month-day (2017-02-14, 2017-02, 2017). "02/14/2017" is an error, not read as 14
  February: a month 14 does not exist, and guessing the order would sometimes be silently
  wrong (03/04/2017).
* Years have four digits. Two-digit years ("14.02.17", "February 17") are rejected, not
  read as 2017 or 1917.
* A date without a year ("early March", "14 февраля") is an error unless the caller passes
  ``today``; then it is the most recent such day or period that began on or before
  ``today`` (testimony speaks of the past). The wording is kept either way.
* Impossible days (31 February, 29 February 2017) are errors.
* Case, ё/е, compatibility forms (NFKC: full-width digits), and dashes (hyphen, en dash, em
  dash, minus) do not matter; "г.", "года", "году", "гг.", "in", "of", "the", "в" are
  ignored; Russian months may be nominative (февраль), genitive (февраля) or prepositional
  (феврале); English months may be abbreviated (Feb, Feb., Sept).

Errors are ``BadInput`` with a ``code`` starting ``date_`` and a message that names the
problem and what to write instead. Messages never quote the wording (it is testimony); they
may name a number the parser read ("month 14").
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import NamedTuple

from refugium.errors import BadInput

__all__ = [
    "LANGUAGES",
    "MAX_WORDING_CHARS",
    "FuzzyDate",
    "Precision",
    "from_bounds",
    "parse",
    "parse_iso_partial",
]

# Long enough for "в период с 10 февраля 2017 года по 15 марта 2018 года" and then some;
# checked first, so that no normalisation is spent on a pasted paragraph.
MAX_WORDING_CHARS = 200
JSON_VERSION = 1
LANGUAGES = ("en", "ru")

_AROUND_DAYS = 3


class Precision(StrEnum):
    """How precise the wording was, for display and for choosing how to aggregate."""

    DAY = "day"
    PART_OF_MONTH = "part_of_month"
    MONTH = "month"
    SEASON = "season"
    PART_OF_YEAR = "part_of_year"
    YEAR = "year"
    RANGE = "range"
    BEFORE = "before"
    AFTER = "after"
    APPROXIMATE = "approximate"


def _bad(code: str, message: str) -> BadInput:
    return BadInput(message, code=code)


_HINT = (
    "write, for example, '14 February 2017', 'February 2017', '2017', 'late February 2017', "
    "'between 10 and 15 March 2017' or 'before 20 March 2017'"
)


def _unreadable(what: str) -> BadInput:
    return _bad("date_unreadable", f"cannot read this date ({what}); {_HINT}")


# --- vocabulary ------------------------------------------------------------------------------

_EN_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
_RU_NOMINATIVE = (
    "январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь",
    "октябрь", "ноябрь", "декабрь",
)  # fmt: skip
_RU_GENITIVE = (
    "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
    "октября", "ноября", "декабря",
)  # fmt: skip
_RU_PREPOSITIONAL = (
    "январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе", "сентябре",
    "октябре", "ноябре", "декабре",
)  # fmt: skip
_RU_ABBREVIATIONS = {
    "янв": 1, "фев": 2, "февр": 2, "мар": 3, "апр": 4, "июн": 6, "июл": 7, "авг": 8, "сен": 9,
    "сент": 9, "окт": 10, "ноя": 11, "нояб": 11, "дек": 12,
}  # fmt: skip

_MONTHS: dict[str, int] = {
    **{name: n for n, name in enumerate(_EN_MONTHS, 1)},
    **{name[:3]: n for n, name in enumerate(_EN_MONTHS, 1)},
    "sept": 9,
    **{name: n for n, name in enumerate(_RU_NOMINATIVE, 1)},
    **{name: n for n, name in enumerate(_RU_GENITIVE, 1)},
    **{name: n for n, name in enumerate(_RU_PREPOSITIONAL, 1)},
    **_RU_ABBREVIATIONS,
}

_SEASONS = {
    "spring": "spring", "summer": "summer", "autumn": "autumn", "fall": "autumn",
    "winter": "winter",
    "весна": "spring", "весной": "spring", "весны": "spring", "весне": "spring",
    "лето": "summer", "летом": "summer", "лета": "summer", "лете": "summer",
    "осень": "autumn", "осенью": "autumn", "осени": "autumn",
    "зима": "winter", "зимой": "winter", "зимы": "winter", "зиме": "winter",
}  # fmt: skip
# First and last month of each season within its year; winter is handled apart.
_SEASON_MONTHS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11)}

_PARTS = {
    "early": "early", "beginning": "early", "start": "early",
    "mid": "mid", "middle": "mid",
    "late": "late", "end": "late",
    "начало": "early", "начала": "early", "начале": "early",
    "середина": "mid", "середины": "mid", "середине": "mid",
    "конец": "late", "конца": "late", "конце": "late",
}  # fmt: skip
_HALF_FIRST = {"first", "1st", "первая", "первой"}
_HALF_SECOND = {"second", "2nd", "вторая", "второй"}
_HALF_WORDS = {"half", "половина", "половины", "половине"}
# Days of the month (first, last; None = the month's last day) and months of the year.
_PART_DAYS: dict[str, tuple[int, int | None]] = {
    "early": (1, 10), "mid": (11, 20), "late": (21, None), "h1": (1, 15), "h2": (16, None),
}  # fmt: skip
_PART_MONTHS = {"early": (1, 4), "mid": (5, 8), "late": (9, 12), "h1": (1, 6), "h2": (7, 12)}

_BEFORE = {"before", "до"}
_AFTER = {"after", "после"}
_AROUND = {
    "around", "about", "approximately", "approx", "circa", "ca", "c", "~",
    "около", "примерно", "приблизительно", "ориентировочно",
}  # fmt: skip
# A range opener and the words or marks that may close it.
_DASHES = {"-", ".."}
_OPENERS: dict[str, set[str]] = {
    "between": {"and"},
    "from": {"to", "until", "till", "through", *_DASHES},
    "между": {"и"},
    "с": {"по", "до", *_DASHES},
    "со": {"по", "до", *_DASHES},
    "от": {"до", *_DASHES},
}
_INFIX = {"to", "until", "till", "through", "по", "до", *_DASHES}
_IGNORED = {
    "in", "on", "of", "the", "year", ",", ".",
    "в", "во", "г", "гг", "год", "года", "году",
}  # fmt: skip

# --- tokens ----------------------------------------------------------------------------------


class _Tok(NamedTuple):
    kind: str  # "word", "num", "mark", or a numeric date: "ymd", "ym", "dmy", "my", "dm"
    text: str
    numbers: tuple[str, ...] = ()


_TOKEN = re.compile(
    r"""
    (?P<ymd>([0-9]{4})-([0-9]{1,2})-([0-9]{1,2}))(?![0-9])
    | (?P<ym>([0-9]{4})-([0-9]{1,2}))(?![0-9])
    | (?P<dmy>([0-9]{1,2})(?P<sep>[./])([0-9]{1,2})(?P=sep)([0-9]+))
    | (?P<my>([0-9]{1,2})[./]([0-9]{4}))(?![0-9])
    | (?P<dm>([0-9]{1,2})[./]([0-9]{1,2}))(?![0-9])
    | (?P<num>[0-9]+)(?![0-9])(?:st|nd|rd|th)?  # "2017г." is two tokens; "14th" one
    | (?P<word>[a-zа-я]+)
    | (?P<mark>\.{2,}|[-/~,.])
    """,
    re.VERBOSE,
)
_DASH_CHARS = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58"), "-")
_PREFIX_HYPHEN = re.compile(r"\b(early|mid|late)-")


def _tokenize(text: str) -> list[_Tok]:
    """Split normalised text into tokens, dropping words that carry nothing."""
    text = unicodedata.normalize("NFKC", text).lower().replace("ё", "е").translate(_DASH_CHARS)
    text = _PREFIX_HYPHEN.sub(r"\1 ", text)  # "mid-2017" is not a range
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _unreadable("an unexpected character")
        pos = m.end()
        kind = m.lastgroup  # the outermost named group: inner groups close before it
        assert kind is not None
        if kind in ("ymd", "ym", "dmy", "my", "dm"):
            tokens.append(_Tok(kind, m.group(kind), tuple(re.findall("[0-9]+", m.group(kind)))))
        elif kind == "mark":
            mark = m.group("mark")
            tokens.append(_Tok("mark", ".." if mark.startswith("..") else mark))
        else:
            tokens.append(_Tok(kind, m.group(kind)))
    return [t for t in tokens if t.text not in _IGNORED]


# --- points: one day, month, season, part or year, possibly missing its year ---------------


@dataclass(frozen=True)
class _Point:
    year: int | None = None
    month: int | None = None
    day: int | None = None
    part: str | None = None
    season: str | None = None


def _shape_char(tok: _Tok) -> str:
    if tok.kind == "num":
        digits = len(tok.text)
        return "D" if digits <= 2 else "Y" if digits == 4 else "N"
    if tok.kind == "word" and tok.text in _MONTHS:
        return "M"
    if tok.kind in ("ymd", "dmy"):
        return "I"
    if tok.kind in ("ym", "my"):
        return "J"
    if tok.kind == "dm":
        return "K"
    return "?"


def _year(digits: str) -> int:
    if len(digits) != 4:
        if len(digits) <= 2:
            raise _bad(
                "date_two_digit_year",
                "two-digit years are not accepted (17 could be 2017 or 1917); "
                "write the year with four digits",
            )
        raise _bad("date_unreadable", f"a year has four digits; {_HINT}")
    return int(digits)


def _parse_point(toks: list[_Tok]) -> tuple[_Point, Precision]:
    """Read one point (no range, no before/after): its fields and how precise it is."""
    part: str | None = None
    season: str | None = None
    rest = toks
    if rest and rest[0].kind == "word":
        head = rest[0].text
        if head in _PARTS:
            part, rest = _PARTS[head], rest[1:]
        elif head in _HALF_FIRST | _HALF_SECOND and len(rest) > 1 and rest[1].text in _HALF_WORDS:
            part, rest = ("h1" if head in _HALF_FIRST else "h2"), rest[2:]
        elif head in _SEASONS:
            season, rest = _SEASONS[head], rest[1:]
    shape = "".join(_shape_char(t) for t in rest)
    if "N" in shape:
        raise _unreadable("a year has four digits and a day one or two")
    if shape in ("MD", "DMD"):
        _year(rest[-1].text)  # raises: "February 17" is a two-digit year, not a day
    year = month = day = None
    if shape == "Y":
        year = int(rest[0].text)
    elif shape in ("M", "MY"):
        month = _MONTHS[rest[0].text]
        year = int(rest[1].text) if shape == "MY" else None
    elif shape in ("D", "DM", "DMY"):
        day = int(rest[0].text)
        month = _MONTHS[rest[1].text] if len(rest) > 1 else None
        year = int(rest[2].text) if shape == "DMY" else None
    elif shape == "MDY":
        month, day, year = _MONTHS[rest[0].text], int(rest[1].text), int(rest[2].text)
    elif shape == "I":
        numbers = rest[0].numbers
        if rest[0].kind == "ymd":
            year, month, day = int(numbers[0]), int(numbers[1]), int(numbers[2])
        else:
            day, month, year = int(numbers[0]), int(numbers[1]), _year(numbers[2])
    elif shape == "J":
        numbers = rest[0].numbers
        if rest[0].kind == "ym":
            year, month = int(numbers[0]), int(numbers[1])
        else:
            month, year = int(numbers[0]), int(numbers[1])
    elif shape == "K":
        day, month = int(rest[0].numbers[0]), int(rest[0].numbers[1])
    elif shape == "":
        if season is None:
            raise _unreadable("a part of a month or year needs the month or year")
    else:
        raise _unreadable("the words are not in an order this parser knows")
    if season is not None and (month is not None or day is not None):
        raise _unreadable("a season takes only a year")
    if part is not None and day is not None:
        raise _unreadable("early, mid or late takes a month or a year, not a day")
    if day is not None:
        precision = Precision.DAY
    elif season is not None:
        precision = Precision.SEASON
    elif part is not None:
        precision = Precision.PART_OF_MONTH if month is not None else Precision.PART_OF_YEAR
    elif month is not None:
        precision = Precision.MONTH
    else:
        precision = Precision.YEAR
    return _Point(year, month, day, part, season), precision


def _make_date(year: int, month: int, day: int) -> date:
    if not 1 <= year <= 9999:
        raise _bad("date_out_of_range", "the date is outside the years 1 to 9999")
    if not 1 <= month <= 12:
        raise _bad(
            "date_no_such_day",
            f"there is no month {month}; numeric dates are day.month.year or year-month-day",
        )
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise _bad(
            "date_no_such_day",
            f"there is no day {day} in {_EN_MONTHS[month - 1].capitalize()} "
            f"of that year (it has {last} days)",
        )
    return date(year, month, day)


def _month_end(year: int, month: int) -> date:
    first = _make_date(year, month, 1)  # checks the year and month first
    return first.replace(day=calendar.monthrange(year, month)[1])


def _bounds(p: _Point) -> tuple[date, date]:
    """First and last possible day of a point whose year is known."""
    assert p.year is not None
    y = p.year
    if p.season == "winter":
        return _make_date(y - 1, 12, 1), _month_end(y, 2)
    if p.season is not None:
        first, last = _SEASON_MONTHS[p.season]
        return _make_date(y, first, 1), _month_end(y, last)
    if p.month is None:
        if p.day is not None:
            raise _unreadable("a day needs a month")
        first, last = _PART_MONTHS[p.part] if p.part else (1, 12)
        return _make_date(y, first, 1), _month_end(y, last)
    if p.day is not None:
        day = _make_date(y, p.month, p.day)
        return day, day
    if p.part is not None:
        first_day, last_day = _PART_DAYS[p.part]
        start = _make_date(y, p.month, first_day)
        return start, _make_date(y, p.month, last_day) if last_day else _month_end(y, p.month)
    return _make_date(y, p.month, 1), _month_end(y, p.month)


def _with_year(p: _Point, today: date | None) -> _Point:
    """Give a year-less point the year of its most recent start on or before ``today``."""
    if p.year is not None:
        return p
    if p.month is None and p.season is None:
        raise _unreadable("a day needs a month")
    if today is None:
        raise _bad(
            "date_needs_year",
            "the date has no year; add the year (for example 'March 2017'), "
            "or write only the year if the month is not known",
        )
    error: BadInput = _bad("date_out_of_range", "the date is outside the years 1 to 9999")
    for year in range(today.year, max(today.year - 8, 0), -1):
        candidate = _Point(year, p.month, p.day, p.part, p.season)
        try:
            earliest, _latest = _bounds(candidate)
        except BadInput as e:  # 29 February in a common year, winter of year 1
            error = e
            continue
        if earliest <= today:
            return candidate
    raise error


def _point_bounds(toks: list[_Tok], today: date | None) -> tuple[date, date, Precision]:
    point, precision = _parse_point(toks)
    earliest, latest = _bounds(_with_year(point, today))
    return earliest, latest, precision


# --- expressions: points, ranges, before/after, around ---------------------------------------


def _shift(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise _bad("date_out_of_range", "the date is outside the years 1 to 9999") from None


def _add_months(day: date, months: int) -> date:
    """First day of the month ``months`` away from ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return _make_date(index // 12, index % 12 + 1, 1)


def _around(earliest: date, latest: date, precision: Precision) -> tuple[date, date]:
    if precision is Precision.DAY:
        return _shift(earliest, -_AROUND_DAYS), _shift(latest, _AROUND_DAYS)
    if precision is Precision.YEAR:
        return _make_date(earliest.year - 1, 1, 1), _make_date(latest.year + 1, 12, 31)
    after = _add_months(latest, 1)
    return _add_months(earliest, -1), _month_end(after.year, after.month)


def _split(toks: list[_Tok], separators: set[str]) -> tuple[list[_Tok], list[_Tok]] | None:
    cuts = [i for i, t in enumerate(toks) if t.kind in ("word", "mark") and t.text in separators]
    if not cuts:
        return None
    if len(cuts) > 1:
        raise _unreadable("more than one range separator")
    return toks[: cuts[0]], toks[cuts[0] + 1 :]


def _range(start_toks: list[_Tok], end_toks: list[_Tok], today: date | None) -> tuple[date, date]:
    if not start_toks or not end_toks:
        raise _unreadable("a range needs a start and an end")
    start, _ = _parse_point(start_toks)
    end, _ = _parse_point(end_toks)
    end = _with_year(end, today)
    if start.year is None:
        month = start.month
        if month is None and start.day is not None:
            if end.month is None:
                raise _unreadable("a day needs a month")
            month = end.month
        start = _Point(end.year, month, start.day, start.part, start.season)
    start_earliest, start_latest = _bounds(start)
    end_earliest, end_latest = _bounds(end)
    if start_earliest > end_earliest or start_latest > end_latest:
        raise _bad(
            "date_reversed",
            "the range ends before it starts; write the earlier date first, with its year "
            "if the range crosses a new year ('December 2016 - January 2017')",
        )
    return start_earliest, end_latest


def _winter_across_years(toks: list[_Tok]) -> int | None:
    """The year a "winter 2016/2017" or "зима 2016-2017" ends in, or None if not that form."""
    if not (
        len(toks) == 4
        and toks[0].kind == "word"
        and _SEASONS.get(toks[0].text) == "winter"
        and toks[2].text in ("-", "/")
        and toks[1].kind == "num"
        and toks[3].kind == "num"
    ):
        return None
    first, second = _year(toks[1].text), _year(toks[3].text)
    if second != first + 1:
        raise _unreadable("a winter spans two consecutive years")
    return second


def _expression(toks: list[_Tok], today: date | None) -> tuple[date | None, date | None, Precision]:
    if not toks:
        raise _unreadable("no date words or digits")
    head = toks[0].text if toks[0].kind in ("word", "mark") else ""
    if head == "..":  # "..2017-03-19": up to and including
        _, latest, _ = _point_bounds(toks[1:], today)
        return None, latest, Precision.BEFORE
    if toks[-1].kind == "mark" and toks[-1].text == "..":
        earliest, _, _ = _point_bounds(toks[:-1], today)
        return earliest, None, Precision.AFTER
    if head in _BEFORE:
        earliest, _, _ = _point_bounds(toks[1:], today)
        return None, _shift(earliest, -1), Precision.BEFORE
    if head in _AFTER:
        _, latest, _ = _point_bounds(toks[1:], today)
        return _shift(latest, 1), None, Precision.AFTER
    if head in _AROUND:
        earliest, latest, precision = _point_bounds(toks[1:], today)
        earliest, latest = _around(earliest, latest, precision)
        return earliest, latest, Precision.APPROXIMATE
    winter_year = _winter_across_years(toks)
    if winter_year is not None:
        earliest, latest = _bounds(_Point(winter_year, season="winter"))
        return earliest, latest, Precision.SEASON
    if head in _OPENERS:
        halves = _split(toks[1:], _OPENERS[head])
        if halves is None:
            raise _unreadable("a range needs a start and an end")
    else:
        halves = _split(toks, _INFIX)
    if halves is None:
        return _point_bounds(toks, today)
    earliest, latest = _range(*halves, today)
    return earliest, latest, Precision.RANGE


def parse(text: str, *, today: date | None = None) -> FuzzyDate:
    """Read a date as a witness or researcher wrote it, in English or Russian.

    The conventions are in the module docstring. ``today`` lets a date without a year
    ("early March") mean the most recent such period; without it, such a date is an error,
    because the year cannot be told from the words.

    Raises:
        BadInput: the text is empty, too long, not a date this parser can read, an
            impossible day, a reversed range, a two-digit year or (without ``today``) a date
            without a year. ``code`` starts with ``date_``.
    """
    wording = text.strip()
    if not wording:
        raise _bad("date_empty", f"the date is empty; {_HINT}")
    if len(wording) > MAX_WORDING_CHARS:
        raise _bad("date_too_long", f"a date is at most {MAX_WORDING_CHARS} characters")
    earliest, latest, precision = _expression(_tokenize(wording), today)
    return FuzzyDate(earliest, latest, wording, precision)


# --- the value -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FuzzyDate:
    """The earliest and latest possible day of an event, and the words it was given in.

    ``earliest`` None means open towards the past ("before X"), ``latest`` None open towards
    the future ("after X"); never both. No day is ever invented: a month stays a month.
    ``wording`` is left out of ``repr`` because it is testimony and reprs end up in logs.

    Raises:
        BadInput: (on construction, code "date_malformed") both bounds open, earliest after
            latest, a datetime where a date belongs, or a precision that contradicts the
            bounds (BEFORE exactly when earliest is open, AFTER exactly when latest is).
    """

    earliest: date | None
    latest: date | None
    wording: str = field(repr=False)
    precision: Precision

    def __post_init__(self) -> None:
        for bound in (self.earliest, self.latest):
            if bound is not None and (type(bound) is not date):
                raise _bad("date_malformed", "a date bound must be a date (not a datetime)")
        if self.earliest is None and self.latest is None:
            raise _bad("date_malformed", "a date needs at least one bound")
        if self.earliest is not None and self.latest is not None and self.earliest > self.latest:
            raise _bad("date_malformed", "the earliest day is after the latest day")
        if not isinstance(self.wording, str) or not isinstance(self.precision, Precision):
            raise _bad("date_malformed", "wording must be text and precision a Precision")
        if (self.earliest is None) != (self.precision is Precision.BEFORE) or (
            self.latest is None
        ) != (self.precision is Precision.AFTER):
            raise _bad("date_malformed", "the precision contradicts the open bounds")

    # -- storage --

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (ISO days), versioned, for the encrypted record field."""
        return {
            "v": JSON_VERSION,
            "earliest": None if self.earliest is None else self.earliest.isoformat(),
            "latest": None if self.latest is None else self.latest.isoformat(),
            "precision": self.precision.value,
            "wording": self.wording,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> FuzzyDate:
        """The inverse of ``to_json``.

        Raises:
            BadInput: (code "date_malformed") not a dict of that shape and version.
        """
        if not isinstance(data, Mapping) or set(data) != {
            "v",
            "earliest",
            "latest",
            "precision",
            "wording",
        }:
            raise _bad("date_malformed", "a stored date has the wrong fields")
        if data["v"] != JSON_VERSION or type(data["v"]) is not int:
            raise _bad("date_malformed", "a stored date has an unknown version")
        try:
            if not isinstance(data["precision"], str):
                raise ValueError
            precision = Precision(data["precision"])
        except ValueError:
            raise _bad("date_malformed", "a stored date has an unknown precision") from None
        wording = data["wording"]
        if not isinstance(wording, str):
            raise _bad("date_malformed", "a stored date's wording is not text")
        return cls(
            _iso_day_or_none(data["earliest"]),
            _iso_day_or_none(data["latest"]),
            wording,
            precision,
        )

    # -- questions --

    def month_bounds(self) -> tuple[date | None, date | None]:
        """First days of the earliest and latest months: coarse enough to publish and count."""
        return (
            None if self.earliest is None else self.earliest.replace(day=1),
            None if self.latest is None else self.latest.replace(day=1),
        )

    def contains(self, day: date) -> bool:
        """Whether ``day`` is one of the possible days."""
        return (self.earliest is None or self.earliest <= day) and (
            self.latest is None or day <= self.latest
        )

    def overlaps(self, other: FuzzyDate) -> bool:
        """Whether the two could be the same day: the test for "could these events match"."""
        starts = [d for d in (self.earliest, other.earliest) if d is not None]
        ends = [d for d in (self.latest, other.latest) if d is not None]
        return not starts or not ends or max(starts) <= min(ends)

    # -- display --

    def __str__(self) -> str:
        """Language-neutral ISO display: "2017-02-14", "2017-02", "2017", "A..B", "..B", "A.."

        Built from the bounds only, and ``parse`` reads it back to the same bounds.
        """
        if self.earliest is None:
            assert self.latest is not None
            return f"..{self.latest.isoformat()}"
        if self.latest is None:
            return f"{self.earliest.isoformat()}.."
        return _iso_span(self.earliest, self.latest)

    def display(self, lang: str = "en") -> str:
        """The bounds in words, in English ("en") or Russian ("ru"); ``parse`` reads it back.

        Raises:
            ValueError: ``lang`` is not one of ``LANGUAGES``.
        """
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
        ru = lang == "ru"
        try:
            if self.earliest is None:
                assert self.latest is not None
                return ("до " if ru else "before ") + _open_point(
                    _shift(self.latest, 1), start=True, ru=ru
                )
            if self.latest is None:
                return ("после " if ru else "after ") + _open_point(
                    _shift(self.earliest, -1), start=False, ru=ru
                )
        except BadInput:  # an open span at the very edge of the calendar
            return str(self)
        return _words_span(self.earliest, self.latest, ru=ru)


def _iso_day_or_none(value: object) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise _bad("date_malformed", "a stored date bound is not an ISO day")
    try:
        return _make_date(int(value[:4]), int(value[5:7]), int(value[8:]))
    except BadInput:
        raise _bad("date_malformed", "a stored date bound is not a real day") from None


def _is_month_start(day: date) -> bool:
    return day.day == 1


def _is_month_end(day: date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _iso_span(earliest: date, latest: date) -> str:
    if earliest == latest:
        return earliest.isoformat()
    if (earliest.month, earliest.day, latest.month, latest.day) == (1, 1, 12, 31):
        if earliest.year == latest.year:
            return f"{earliest.year:04d}"
        return f"{earliest.year:04d}..{latest.year:04d}"
    if _is_month_start(earliest) and _is_month_end(latest):
        first, last = earliest.isoformat()[:7], latest.isoformat()[:7]
        return first if first == last else f"{first}..{last}"
    return f"{earliest.isoformat()}..{latest.isoformat()}"


def _month_name(month: int, *, ru: bool, genitive: bool) -> str:
    if ru:
        return (_RU_GENITIVE if genitive else _RU_NOMINATIVE)[month - 1]
    return _EN_MONTHS[month - 1].capitalize()


def _year_text(year: int, *, ru: bool, plural: bool = False) -> str:
    return f"{year:04d}" + ((" гг." if plural else " г.") if ru else "")


def _day_text(day: date, *, ru: bool, with_year: bool = True) -> str:
    text = f"{day.day} {_month_name(day.month, ru=ru, genitive=True)}"
    return f"{text} {_year_text(day.year, ru=ru)}" if with_year else text


def _open_point(day: date, *, start: bool, ru: bool) -> str:
    """The coarsest name of ``day`` seen as the start (or end) of a month or year."""
    if (day.month, day.day) == ((1, 1) if start else (12, 31)):
        return _year_text(day.year, ru=ru)
    if _is_month_start(day) if start else _is_month_end(day):
        return f"{_month_name(day.month, ru=ru, genitive=True)} {_year_text(day.year, ru=ru)}"
    return _day_text(day, ru=ru)


def _words_span(earliest: date, latest: date, *, ru: bool) -> str:
    dash = "–"
    if earliest == latest:
        return _day_text(earliest, ru=ru)
    if (earliest.month, earliest.day, latest.month, latest.day) == (1, 1, 12, 31):
        if earliest.year == latest.year:
            return _year_text(earliest.year, ru=ru)
        return f"{earliest.year:04d}{dash}{_year_text(latest.year, ru=ru, plural=True)}"
    if _is_month_start(earliest) and _is_month_end(latest):
        first = _month_name(earliest.month, ru=ru, genitive=False)
        last = _month_name(latest.month, ru=ru, genitive=False)
        if earliest.year != latest.year:
            return f"{first} {earliest.year:04d} {dash} {last} {_year_text(latest.year, ru=ru)}"
        if earliest.month == latest.month:
            return f"{first} {_year_text(latest.year, ru=ru)}"
        return f"{first}{dash}{last} {_year_text(latest.year, ru=ru)}"
    if earliest.year != latest.year:
        return f"{_day_text(earliest, ru=ru)} {dash} {_day_text(latest, ru=ru)}".replace(
            " г. " + dash, " " + dash
        )
    if earliest.month != latest.month:
        return f"{_day_text(earliest, ru=ru, with_year=False)} {dash} {_day_text(latest, ru=ru)}"
    return f"{earliest.day}{dash}{_day_text(latest, ru=ru)}"


# --- importers -------------------------------------------------------------------------------

_ISO_PARTIAL = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


def parse_iso_partial(text: str) -> FuzzyDate:
    """Read an ISO 8601 partial date, ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, and nothing else.

    For importers whose sources (CSV exports, other databases) already use ISO; stricter than
    ``parse`` so that a malformed column fails rather than being read as prose.

    Raises:
        BadInput: (code "date_malformed", or "date_no_such_day"/"date_out_of_range") not one
            of the three forms, or not a real day, month or year.
    """
    wording = text.strip()
    m = _ISO_PARTIAL.fullmatch(wording)
    if m is None:
        raise _bad("date_malformed", "expected an ISO date: YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = m.groups()
    point = _Point(
        int(year), None if month is None else int(month), None if day is None else int(day)
    )
    earliest, latest = _bounds(point)
    precision = Precision.DAY if day else Precision.MONTH if month else Precision.YEAR
    return FuzzyDate(earliest, latest, wording, precision)


def from_bounds(
    earliest: date | str | None, latest: date | str | None, wording: str = ""
) -> FuzzyDate:
    """A date from an importer's two bounds, each a ``date``, an ISO partial date or None.

    A partial bound stands for its widest reading: ``from_bounds("2017-02", "2017-03")`` is
    1 February to 31 March 2017. None leaves that side open. The precision is read off the
    bounds (a single day, a whole month, a whole year, else a range).

    Raises:
        BadInput: a bound that ``parse_iso_partial`` rejects, both bounds None, or earliest
            after latest (code "date_reversed").
    """
    start = _bound(earliest, first=True)
    end = _bound(latest, first=False)
    if start is None and end is None:
        raise _bad("date_malformed", "a date needs at least one bound")
    if start is not None and end is not None and start > end:
        raise _bad("date_reversed", "the earliest bound is after the latest bound")
    return FuzzyDate(start, end, wording.strip(), _precision_of_bounds(start, end))


def _bound(value: date | str | None, *, first: bool) -> date | None:
    if value is None or type(value) is date:
        return value
    if not isinstance(value, str):
        raise _bad("date_malformed", "a bound must be a date, an ISO date string or None")
    partial = parse_iso_partial(value)
    return partial.earliest if first else partial.latest


def _precision_of_bounds(earliest: date | None, latest: date | None) -> Precision:
    if earliest is None:
        return Precision.BEFORE
    if latest is None:
        return Precision.AFTER
    if earliest == latest:
        return Precision.DAY
    if _is_month_start(earliest) and _is_month_end(latest):
        if (earliest.year, earliest.month) == (latest.year, latest.month):
            return Precision.MONTH
        if (earliest.year, earliest.month, latest.month) == (latest.year, 1, 12):
            return Precision.YEAR
    return Precision.RANGE
