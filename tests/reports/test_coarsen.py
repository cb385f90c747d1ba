"""Coarsening dates and places: never finer than the input, never passed through unmapped."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refugium.errors import BadInput
from refugium.records.dates import parse
from refugium.reports import coarsen_date, coarsen_place


def test_a_day_goes_to_its_iso_week_or_month() -> None:
    assert coarsen_date(date(2017, 2, 22), "week").label == "2017-W08"
    assert coarsen_date("2017-02-22", "month").label == "2017-02"
    # ISO week-years: 1 January 2017 is a Sunday, in the last week of 2016.
    assert coarsen_date(date(2017, 1, 1), "week").label == "2016-W52"


def test_a_date_known_only_to_the_month_is_never_made_a_week() -> None:
    coarse = coarsen_date(parse("February 2017"), "week")
    assert (coarse.unit, coarse.label) == ("month", "2017-02")
    assert coarsen_date("2017-02", "week").label == "2017-02"


def test_fuzzy_dates_within_one_week_stay_a_week() -> None:
    # 20-26 February 2017 is Monday to Sunday of ISO week 8.
    coarse = coarsen_date(parse("between 20 and 26 February 2017"), "week")
    assert (coarse.unit, coarse.label) == ("week", "2017-W08")
    assert coarsen_date(parse("between 20 and 27 February 2017"), "week").label == "2017-02"


def test_dates_across_months_become_a_span_and_whole_years_a_year() -> None:
    late_feb = coarsen_date(parse("late February 2017"), "week")
    assert late_feb.label == "2017-02"
    spring = coarsen_date(parse("spring 2017"), "month")
    assert (spring.unit, spring.label, spring.start, spring.end) == (
        "span",
        "2017-03..2017-05",
        "2017-03",
        "2017-05",
    )
    assert coarsen_date("2017", "month").label == "2017"
    assert coarsen_date(parse("winter 2017"), "month").label == "2016-12..2017-02"


def test_open_dates_keep_their_open_side() -> None:
    assert coarsen_date(parse("before 20 March 2017"), "week").label == "..2017-03"
    after = coarsen_date(parse("after 20 March 2017"), "month")
    assert (after.label, after.end) == ("2017-03..", None)


def test_bad_units_and_values_are_refused() -> None:
    with pytest.raises(BadInput):
        coarsen_date(date(2017, 1, 1), "day")  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        coarsen_date("14.02.2017", "week")  # ISO only for strings
    with pytest.raises(BadInput):
        coarsen_date(20170214, "week")  # type: ignore[arg-type]


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)), st.integers(0, 60))
def test_a_coarsened_date_always_contains_every_possible_day(start: date, days: int) -> None:
    from datetime import timedelta

    from refugium.records.dates import from_bounds

    end = min(start + timedelta(days=days), date(2100, 12, 31))
    fuzzy = from_bounds(start, end)
    for unit in ("week", "month"):
        coarse = coarsen_date(fuzzy, unit)  # type: ignore[arg-type]
        if coarse.unit == "week":
            assert start.isocalendar()[:2] == end.isocalendar()[:2]
        elif coarse.unit == "month":
            assert (start.year, start.month) == (end.year, end.month)
        else:
            assert coarse.start == f"{start:%Y-%m}"
            assert coarse.end == f"{end:%Y-%m}"


PLACES = {"L-0001": ("Argun district", "Chechnya"), "L-0002": (None, "Chechnya")}


def test_places_go_to_district_or_region_and_never_finer() -> None:
    assert coarsen_place("L-0001", "district", PLACES).label == "Argun district"
    assert coarsen_place("L-0001", "region", PLACES).label == "Chechnya"
    unknown_district = coarsen_place("L-0002", "district", PLACES)
    assert (unknown_district.unit, unknown_district.label) == ("region", "Chechnya")


def test_an_unmapped_place_is_refused_not_published() -> None:
    with pytest.raises(BadInput, match="L-0009") as e:
        coarsen_place("L-0009", "district", PLACES)
    assert e.value.code == "coarsen_place_unknown"
    with pytest.raises(BadInput):
        coarsen_place("L-0001", "village", PLACES)  # type: ignore[arg-type]
