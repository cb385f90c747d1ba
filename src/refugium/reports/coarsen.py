"""Coarsening: dates to an ISO week or a month, places to a district or a region.

Dates
    :func:`coarsen_date` takes a ``datetime.date``, an ISO partial date (``"2017-02-14"``,
    ``"2017-02"``, ``"2017"``) or a :class:`refugium.records.dates.FuzzyDate` (the earliest
    and latest possible day of a witness's wording) and a target unit, ``"week"`` (ISO 8601,
    ``2017-W08``) or ``"month"`` (``2017-02``).

    The result is never finer than the input. A date is published in the target unit only if
    all its possible days fall within one such unit; otherwise it climbs to the next unit
    that holds them all: week, then month, then a span of months (``2017-02..2017-03``),
    written ``2017`` when the span is a whole calendar year. So a date known only to the month
    ("February 2017") asked for as a week comes back as the month ``2017-02`` with
    ``unit == "month"``, and "late February to early March" as ``2017-02..2017-03`` unless
    its days fall within one ISO week. Open dates ("before 20 March 2017") keep their open
    side: ``..2017-03``. The caller counts a date in a weekly series only when
    :attr:`CoarseDate.unit` is the series' unit, and reports the others apart ("dated only
    to the month: 12"): spreading them over weeks would invent a precision nobody gave.

Places
    :func:`coarsen_place` maps a place (its key, whatever the caller uses: a place record's
    code or a term) to its district or region through a mapping the caller supplies (place →
    (district, region)). A place without a district coarsened to a district gives its region
    (coarser, never finer); a place missing from the mapping is an error, never passed
    through, because passing it through would publish it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from refugium.errors import BadInput
from refugium.records.dates import FuzzyDate, Precision, parse_iso_partial

__all__ = ["CoarseDate", "CoarsePlace", "DateUnit", "PlaceUnit", "coarsen_date", "coarsen_place"]

DateUnit = Literal["week", "month"]
PlaceUnit = Literal["district", "region"]


@dataclass(frozen=True)
class CoarseDate:
    """A coarsened date: ``unit`` is what it could be coarsened to ("week", "month" or "span"),
    ``label`` its published form (``2017-W08``, ``2017-02``, ``2017-02..2017-03``, ``2017``,
    ``..2017-03``), ``start`` and ``end`` the first and last months or weeks (None if open).
    """

    unit: Literal["week", "month", "span"]
    label: str
    start: str | None
    end: str | None

    def to_json(self) -> dict[str, object]:
        return {"end": self.end, "label": self.label, "start": self.start, "unit": self.unit}


@dataclass(frozen=True)
class CoarsePlace:
    """A coarsened place: ``unit`` ("district" or "region") and its ``label``."""

    unit: PlaceUnit
    label: str


def _week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _as_fuzzy(value: date | str | FuzzyDate) -> FuzzyDate:
    if isinstance(value, FuzzyDate):
        return value
    if type(value) is date:
        return FuzzyDate(value, value, "", Precision.DAY)
    if isinstance(value, str):
        return parse_iso_partial(value)
    raise BadInput(
        "a date to coarsen must be a date, an ISO date or a FuzzyDate", code="coarsen_date"
    )


def coarsen_date(value: date | str | FuzzyDate, to: DateUnit) -> CoarseDate:
    """Coarsen ``value`` to ``to`` or, if its possible days do not fit in one, coarser.

    Raises:
        BadInput: ``to`` is not "week" or "month", or ``value`` is not a date this reads.
    """
    if to not in ("week", "month"):
        raise BadInput(f"dates coarsen to week or month, not {to!r}", code="coarsen_unit")
    fuzzy = _as_fuzzy(value)
    first, last = fuzzy.earliest, fuzzy.latest
    if first is not None and last is not None:
        if to == "week" and _week(first) == _week(last):
            return CoarseDate("week", _week(first), _week(first), _week(last))
        if _month(first) == _month(last):
            return CoarseDate("month", _month(first), _month(first), _month(last))
        start, end = _month(first), _month(last)
        if first.year == last.year and (first.month, last.month) == (1, 12):
            label = f"{first.year:04d}"
        else:
            label = f"{start}..{end}"
        return CoarseDate("span", label, start, end)
    if first is not None:
        return CoarseDate("span", f"{_month(first)}..", _month(first), None)
    assert last is not None
    return CoarseDate("span", f"..{_month(last)}", None, _month(last))


def coarsen_place(
    place: str, to: PlaceUnit, places: Mapping[str, tuple[str | None, str]]
) -> CoarsePlace:
    """The district or region of ``place`` by the caller's ``places`` mapping.

    ``places`` maps a place to (district, region); district may be None or "" when unknown,
    and then a place asked for as a district comes back as its region.

    Raises:
        BadInput: ``to`` is not "district" or "region", the place is not in the mapping, or
            its region is empty. The message names the place key (an internal code, which
            is not identifying), never a place name.
    """
    if to not in ("district", "region"):
        raise BadInput(f"places coarsen to district or region, not {to!r}", code="coarsen_unit")
    try:
        district, region = places[place]
    except KeyError:
        raise BadInput(
            f"place {place!r} has no district and region in the mapping; it cannot be published",
            code="coarsen_place_unknown",
        ) from None
    if not region:
        raise BadInput(f"place {place!r} has no region", code="coarsen_place_unknown")
    if to == "district" and district:
        return CoarsePlace("district", district)
    return CoarsePlace("region", region)
