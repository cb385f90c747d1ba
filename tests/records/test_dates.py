from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refugium.errors import BadInput
from refugium.records import dates
from refugium.records.dates import (
    MAX_WORDING_CHARS,
    FuzzyDate,
    Precision,
    from_bounds,
    parse,
    parse_iso_partial,
)

D = date
P = Precision

# (wording, earliest, latest, precision); a comment gives the reason where it is not obvious.
EXAMPLES: list[tuple[str, date | None, date | None, Precision]] = [
    # English
    ("14 February 2017", D(2017, 2, 14), D(2017, 2, 14), P.DAY),
    ("on the 14th of February 2017", D(2017, 2, 14), D(2017, 2, 14), P.DAY),
    ("February 14, 2017", D(2017, 2, 14), D(2017, 2, 14), P.DAY),  # month first: unambiguous
    ("  14 Feb. 2017 ", D(2017, 2, 14), D(2017, 2, 14), P.DAY),
    ("February 2017", D(2017, 2, 1), D(2017, 2, 28), P.MONTH),
    ("February 2016", D(2016, 2, 1), D(2016, 2, 29), P.MONTH),  # leap year
    ("Sept 2017", D(2017, 9, 1), D(2017, 9, 30), P.MONTH),
    ("in 2017", D(2017, 1, 1), D(2017, 12, 31), P.YEAR),
    ("early March 2017", D(2017, 3, 1), D(2017, 3, 10), P.PART_OF_MONTH),
    ("mid-March 2017", D(2017, 3, 11), D(2017, 3, 20), P.PART_OF_MONTH),
    ("late February 2017", D(2017, 2, 21), D(2017, 2, 28), P.PART_OF_MONTH),
    ("LATE FEBRUARY 2016", D(2016, 2, 21), D(2016, 2, 29), P.PART_OF_MONTH),
    ("end of February 2017", D(2017, 2, 21), D(2017, 2, 28), P.PART_OF_MONTH),
    ("second half of March 2017", D(2017, 3, 16), D(2017, 3, 31), P.PART_OF_MONTH),
    ("early 2017", D(2017, 1, 1), D(2017, 4, 30), P.PART_OF_YEAR),
    ("mid-2017", D(2017, 5, 1), D(2017, 8, 31), P.PART_OF_YEAR),  # the hyphen is no range
    ("late 2017", D(2017, 9, 1), D(2017, 12, 31), P.PART_OF_YEAR),
    ("first half of 2017", D(2017, 1, 1), D(2017, 6, 30), P.PART_OF_YEAR),
    ("spring 2017", D(2017, 3, 1), D(2017, 5, 31), P.SEASON),
    ("summer 2017", D(2017, 6, 1), D(2017, 8, 31), P.SEASON),
    ("fall 2017", D(2017, 9, 1), D(2017, 11, 30), P.SEASON),
    # The winter that ends in 2017 starts in December 2016.
    ("winter 2017", D(2016, 12, 1), D(2017, 2, 28), P.SEASON),
    ("winter 2015/2016", D(2015, 12, 1), D(2016, 2, 29), P.SEASON),
    ("between 10 and 15 March 2017", D(2017, 3, 10), D(2017, 3, 15), P.RANGE),
    ("10-15 March 2017", D(2017, 3, 10), D(2017, 3, 15), P.RANGE),
    ("from 28 February to 3 March 2017", D(2017, 2, 28), D(2017, 3, 3), P.RANGE),
    ("March–April 2017", D(2017, 3, 1), D(2017, 4, 30), P.RANGE),
    ("March — April 2017", D(2017, 3, 1), D(2017, 4, 30), P.RANGE),
    ("December 2016 - January 2017", D(2016, 12, 1), D(2017, 1, 31), P.RANGE),
    ("2016–2018", D(2016, 1, 1), D(2018, 12, 31), P.RANGE),
    # A range runs from the earliest day of its start to the latest day of its end.
    ("late February to early March 2017", D(2017, 2, 21), D(2017, 3, 10), P.RANGE),
    ("spring to summer 2017", D(2017, 3, 1), D(2017, 8, 31), P.RANGE),
    ("2017-02-14..2017-02-20", D(2017, 2, 14), D(2017, 2, 20), P.RANGE),
    ("10.03.2017 – 15.03.2017", D(2017, 3, 10), D(2017, 3, 15), P.RANGE),
    ("10–15.03.2017", D(2017, 3, 10), D(2017, 3, 15), P.RANGE),
    ("before 20 March 2017", None, D(2017, 3, 19), P.BEFORE),
    ("before March 2017", None, D(2017, 2, 28), P.BEFORE),
    ("before 2017", None, D(2016, 12, 31), P.BEFORE),
    ("after May 2017", D(2017, 6, 1), None, P.AFTER),
    ("after 14 February 2017", D(2017, 2, 15), None, P.AFTER),
    # ISO open spans (what str() prints) include their end.
    ("..2017-03-19", None, D(2017, 3, 19), P.BEFORE),
    ("2017-06..", D(2017, 6, 1), None, P.AFTER),
    # around: a day +-3 days, a month or finer-than-year +-1 whole month, a year +-1 year.
    ("around 5 April 2017", D(2017, 4, 2), D(2017, 4, 8), P.APPROXIMATE),
    ("about 1 March 2017", D(2017, 2, 26), D(2017, 3, 4), P.APPROXIMATE),
    ("around March 2017", D(2017, 2, 1), D(2017, 4, 30), P.APPROXIMATE),
    ("circa late February 2017", D(2017, 1, 1), D(2017, 3, 31), P.APPROXIMATE),
    ("~2017", D(2016, 1, 1), D(2018, 12, 31), P.APPROXIMATE),
    ("around 30 December 2017", D(2017, 12, 27), D(2018, 1, 2), P.APPROXIMATE),
    ("2017-02-14", D(2017, 2, 14), D(2017, 2, 14), P.DAY),
    ("2017-02", D(2017, 2, 1), D(2017, 2, 28), P.MONTH),
    ("14.02.2017", D(2017, 2, 14), D(2017, 2, 14), P.DAY),
    ("14/02/2017", D(2017, 2, 14), D(2017, 2, 14), P.DAY),  # day/month/year, never m/d/y
    ("4/2/2017", D(2017, 2, 4), D(2017, 2, 4), P.DAY),
    ("02.2017", D(2017, 2, 1), D(2017, 2, 28), P.MONTH),
    ("２０１７", D(2017, 1, 1), D(2017, 12, 31), P.YEAR),  # full-width digits (NFKC)
    # Russian
    ("14 февраля 2017", D(2017, 2, 14), D(2017, 2, 14), P.DAY),
    ("14 февраля 2017 г.", D(2017, 2, 14), D(2017, 2, 14), P.DAY),
    ("14 февраля 2017 года", D(2017, 2, 14), D(2017, 2, 14), P.DAY),
    ("февраль 2017", D(2017, 2, 1), D(2017, 2, 28), P.MONTH),
    ("в феврале 2017 года", D(2017, 2, 1), D(2017, 2, 28), P.MONTH),
    ("в 2017 году", D(2017, 1, 1), D(2017, 12, 31), P.YEAR),
    ("2017 г.", D(2017, 1, 1), D(2017, 12, 31), P.YEAR),
    ("2017г.", D(2017, 1, 1), D(2017, 12, 31), P.YEAR),  # digits and letters need no space
    ("14февраля 2017", D(2017, 2, 14), D(2017, 2, 14), P.DAY),
    ("конец февраля 2017", D(2017, 2, 21), D(2017, 2, 28), P.PART_OF_MONTH),
    ("в конце февраля 2017 г.", D(2017, 2, 21), D(2017, 2, 28), P.PART_OF_MONTH),
    ("начало марта 2017", D(2017, 3, 1), D(2017, 3, 10), P.PART_OF_MONTH),
    ("в середине марта 2017", D(2017, 3, 11), D(2017, 3, 20), P.PART_OF_MONTH),
    ("во второй половине марта 2017", D(2017, 3, 16), D(2017, 3, 31), P.PART_OF_MONTH),
    ("середина 2017", D(2017, 5, 1), D(2017, 8, 31), P.PART_OF_YEAR),
    ("в конце 2017 года", D(2017, 9, 1), D(2017, 12, 31), P.PART_OF_YEAR),
    ("весной 2017", D(2017, 3, 1), D(2017, 5, 31), P.SEASON),
    ("осенью 2017 г.", D(2017, 9, 1), D(2017, 11, 30), P.SEASON),
    ("зимой 2017", D(2016, 12, 1), D(2017, 2, 28), P.SEASON),
    ("зима 2016-2017", D(2016, 12, 1), D(2017, 2, 28), P.SEASON),
    ("с 10 по 15 марта 2017", D(2017, 3, 10), D(2017, 3, 15), P.RANGE),
    ("с 10 до 15 марта 2017 г.", D(2017, 3, 10), D(2017, 3, 15), P.RANGE),
    ("между 10 и 15 марта 2017", D(2017, 3, 10), D(2017, 3, 15), P.RANGE),
    ("март–апрель 2017", D(2017, 3, 1), D(2017, 4, 30), P.RANGE),
    ("с марта по апрель 2017 г.", D(2017, 3, 1), D(2017, 4, 30), P.RANGE),
    ("2016–2017 гг.", D(2016, 1, 1), D(2017, 12, 31), P.RANGE),
    ("до 20 марта 2017", None, D(2017, 3, 19), P.BEFORE),
    ("после мая 2017", D(2017, 6, 1), None, P.AFTER),
    ("около 5 апреля 2017", D(2017, 4, 2), D(2017, 4, 8), P.APPROXIMATE),
    ("примерно в марте 2017", D(2017, 2, 1), D(2017, 4, 30), P.APPROXIMATE),
    ("ВЕСНОЙ 2017", D(2017, 3, 1), D(2017, 5, 31), P.SEASON),
    ("в сентябре 2017", D(2017, 9, 1), D(2017, 9, 30), P.MONTH),
    ("3 сент. 2017", D(2017, 9, 3), D(2017, 9, 3), P.DAY),
]


@pytest.mark.parametrize(("text", "earliest", "latest", "precision"), EXAMPLES)
def test_examples(
    text: str, earliest: date | None, latest: date | None, precision: Precision
) -> None:
    d = parse(text)
    assert (d.earliest, d.latest, d.precision) == (earliest, latest, precision)
    assert d.wording == text.strip()


def test_yo_and_ye_are_the_same() -> None:
    # No month name has ё, but a keyboard may put one in a prefix word; ё is folded to е.
    assert parse("в начале марта 2017").earliest == D(2017, 3, 1)
    assert parse("в середине 2017").latest == parse("в серёдине 2017").latest


# Year-less dates take the most recent such period that began on or before ``today``.
TODAY = D(2026, 3, 5)
YEARLESS: list[tuple[str, date, date]] = [
    ("early March", D(2026, 3, 1), D(2026, 3, 10)),  # began 1 March, before today
    ("late March", D(2025, 3, 21), D(2025, 3, 31)),  # would begin after today: last year
    ("14 February", D(2026, 2, 14), D(2026, 2, 14)),
    ("конец февраля", D(2026, 2, 21), D(2026, 2, 28)),
    ("29 February", D(2024, 2, 29), D(2024, 2, 29)),  # the last year that had one
    ("10-15 March", D(2025, 3, 10), D(2025, 3, 15)),  # the end sets the year
    ("spring", D(2026, 3, 1), D(2026, 5, 31)),
]


@pytest.mark.parametrize(("text", "earliest", "latest"), YEARLESS)
def test_yearless_with_today(text: str, earliest: date, latest: date) -> None:
    d = parse(text, today=TODAY)
    assert (d.earliest, d.latest) == (earliest, latest)


def test_today_on_the_first_day_counts_as_begun() -> None:
    assert parse("early March", today=D(2026, 3, 1)).earliest == D(2026, 3, 1)
    assert parse("early March", today=D(2026, 2, 28)).earliest == D(2025, 3, 1)


# (wording, code, a fragment of the message)
ERRORS: list[tuple[str, str, str]] = [
    ("", "date_empty", "empty"),
    ("   ", "date_empty", "empty"),
    ("x" * (MAX_WORDING_CHARS + 1), "date_too_long", "at most"),
    ("yesterday", "date_unreadable", "cannot read"),
    ("14 February 2017?", "date_unreadable", "unexpected character"),
    ("early March", "date_needs_year", "add the year"),
    ("14 февраля", "date_needs_year", "add the year"),
    ("31 February 2017", "date_no_such_day", "no day 31 in February"),
    ("29 February 2017", "date_no_such_day", "it has 28 days"),
    ("31.04.2017", "date_no_such_day", "no day 31 in April"),
    # Month-first numeric dates are not guessed: there is no month 14.
    ("02/14/2017", "date_no_such_day", "no month 14"),
    ("2017-13", "date_no_such_day", "no month 13"),
    ("14.02.17", "date_two_digit_year", "four digits"),
    ("14/02/17", "date_two_digit_year", "four digits"),
    ("February 17", "date_two_digit_year", "four digits"),  # Feb 2017, or the 17th?
    ("14 February 17", "date_two_digit_year", "four digits"),
    ("winter 2016/17", "date_two_digit_year", "four digits"),
    ("14 February 201", "date_unreadable", "four digits"),
    ("15-10 March 2017", "date_reversed", "ends before it starts"),
    ("April–March 2017", "date_reversed", "ends before it starts"),
    ("December–January 2017", "date_reversed", "December 2016 - January 2017"),
    ("между 15 и 10 марта 2017", "date_reversed", "ends before it starts"),
    ("between 10 March 2017", "date_unreadable", "start and an end"),
    ("10 - ", "date_unreadable", "start and an end"),
    ("10-15-20 March 2017", "date_unreadable", "more than one range separator"),
    ("winter 2015/2017", "date_unreadable", "consecutive"),
    ("late 14 March 2017", "date_unreadable", "not a day"),
    ("spring March 2017", "date_unreadable", "season takes only a year"),
    ("early", "date_unreadable", "needs the month or year"),
    ("14", "date_unreadable", "needs a month"),
    ("2017 February", "date_unreadable", "order"),
    ("before 0001-01-01", "date_out_of_range", "outside"),
    ("after 9999-12-31", "date_out_of_range", "outside"),
    ("0000", "date_out_of_range", "outside"),
    ("winter 0001", "date_out_of_range", "outside"),
]


@pytest.mark.parametrize(("text", "code", "fragment"), ERRORS)
def test_errors(text: str, code: str, fragment: str) -> None:
    with pytest.raises(BadInput) as info:
        parse(text)
    assert info.value.code == code
    assert fragment in info.value.message


def test_error_messages_never_quote_the_wording() -> None:
    with pytest.raises(BadInput) as info:
        parse("Ivanov detained yesterday")
    assert "Ivanov" not in info.value.message
    assert "ivanov" not in info.value.message


# --- the value -------------------------------------------------------------------------------


def test_str_is_the_iso_span() -> None:
    assert str(parse("14 February 2017")) == "2017-02-14"
    assert str(parse("February 2017")) == "2017-02"
    assert str(parse("2017")) == "2017"
    assert str(parse("late February 2017")) == "2017-02-21..2017-02-28"
    assert str(parse("winter 2017")) == "2016-12..2017-02"
    assert str(parse("2016-2018")) == "2016..2018"
    assert str(parse("before 20 March 2017")) == "..2017-03-19"
    assert str(parse("after May 2017")) == "2017-06-01.."


def test_display_in_both_languages() -> None:
    assert parse("late February 2017").display("en") == "21–28 February 2017"
    assert parse("late February 2017").display("ru") == "21–28 февраля 2017 г."
    assert parse("winter 2017").display("en") == "December 2016 – February 2017"
    assert parse("winter 2017").display("ru") == "декабрь 2016 – февраль 2017 г."
    assert parse("28 Feb - 3 Mar 2017").display("en") == "28 February – 3 March 2017"
    assert parse("30 Dec 2016 - 2 Jan 2017").display("ru") == ("30 декабря 2016 – 2 января 2017 г.")
    assert parse("before 20 March 2017").display("ru") == "до 20 марта 2017 г."
    assert parse("after May 2017").display("en") == "after May 2017"
    assert parse("after 2016").display("ru") == "после 2016 г."
    assert parse("2016-2018").display("ru") == "2016–2018 гг."
    with pytest.raises(ValueError, match="unknown language"):
        parse("2017").display("fr")


def test_display_falls_back_to_iso_at_the_edge_of_the_calendar() -> None:
    assert from_bounds(None, date.max).display("en") == "..9999-12-31"
    assert from_bounds(date.min, None).display("ru") == "0001-01-01.."


def test_json_round_trip_and_shape() -> None:
    d = parse("в конце февраля 2017 г.")
    assert d.to_json() == {
        "v": 1,
        "earliest": "2017-02-21",
        "latest": "2017-02-28",
        "precision": "part_of_month",
        "wording": "в конце февраля 2017 г.",
    }
    assert FuzzyDate.from_json(d.to_json()) == d
    open_start = parse("before 2017")
    assert FuzzyDate.from_json(open_start.to_json()) == open_start


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"v": 2, "earliest": None, "latest": "2017-01-01", "precision": "before", "wording": ""},
        {"v": 1, "earliest": None, "latest": None, "precision": "before", "wording": ""},
        {"v": 1, "earliest": "2017-1-1", "latest": None, "precision": "after", "wording": ""},
        {"v": 1, "earliest": "20170101", "latest": None, "precision": "after", "wording": ""},
        {"v": 1, "earliest": "2017-02-30", "latest": None, "precision": "after", "wording": ""},
        {"v": 1, "earliest": "2017-01-01", "latest": None, "precision": "day", "wording": ""},
        {
            "v": 1,
            "earliest": "2017-01-02",
            "latest": "2017-01-01",
            "precision": "range",
            "wording": "",
        },
        {"v": 1, "earliest": "2017-01-01", "latest": None, "precision": "soon", "wording": ""},
        {"v": 1, "earliest": "2017-01-01", "latest": None, "precision": "after", "wording": 5},
        {"v": True, "earliest": None, "latest": "2017-01-01", "precision": "before", "wording": ""},
    ],
)
def test_from_json_rejects_malformed(data: dict[str, object]) -> None:
    with pytest.raises(BadInput) as info:
        FuzzyDate.from_json(data)
    assert info.value.code == "date_malformed"


def test_construction_checks_invariants() -> None:
    with pytest.raises(BadInput, match="earliest day is after"):
        FuzzyDate(D(2017, 2, 2), D(2017, 2, 1), "", P.RANGE)
    with pytest.raises(BadInput, match="precision contradicts"):
        FuzzyDate(None, D(2017, 2, 1), "", P.DAY)
    with pytest.raises(BadInput, match="not a datetime"):
        FuzzyDate(D(2017, 1, 1), datetime(2017, 1, 2), "", P.RANGE)


def test_repr_leaves_out_the_wording() -> None:
    assert "Ivanov" not in repr(from_bounds("2017", "2017", "when Ivanov left"))


def test_month_bounds() -> None:
    assert parse("late February 2017").month_bounds() == (D(2017, 2, 1), D(2017, 2, 1))
    assert parse("winter 2017").month_bounds() == (D(2016, 12, 1), D(2017, 2, 1))
    assert parse("before 20 March 2017").month_bounds() == (None, D(2017, 3, 1))


def test_contains_checks_both_ends() -> None:
    d = parse("between 10 and 15 March 2017")
    assert d.contains(D(2017, 3, 9)) is False
    assert d.contains(D(2017, 3, 10)) is True
    assert d.contains(D(2017, 3, 15)) is True
    assert d.contains(D(2017, 3, 16)) is False
    before = parse("before 20 March 2017")
    assert before.contains(D(1900, 1, 1)) is True
    assert before.contains(D(2017, 3, 19)) is True
    assert before.contains(D(2017, 3, 20)) is False


def test_overlaps() -> None:
    late_feb = parse("late February 2017")
    assert late_feb.overlaps(parse("28 February 2017")) is True
    assert late_feb.overlaps(parse("1 March 2017")) is False
    assert late_feb.overlaps(parse("February 2017")) is True
    assert parse("before 2017").overlaps(parse("after 2016")) is False
    assert parse("before 2018").overlaps(parse("after 2016")) is True
    assert parse("before 2017").overlaps(parse("before 2010")) is True
    assert parse("after 2017").overlaps(parse("20 February 2020")) is True


# --- importers -------------------------------------------------------------------------------


def test_parse_iso_partial() -> None:
    assert parse_iso_partial("2017").precision is P.YEAR
    assert (parse_iso_partial("2017-02").earliest, parse_iso_partial("2017-02").latest) == (
        D(2017, 2, 1),
        D(2017, 2, 28),
    )
    assert parse_iso_partial(" 2017-02-14 ").wording == "2017-02-14"
    for bad in ("17", "2017-2", "2017-02-1", "14.02.2017", "2017-02-30", "2017-00", "February"):
        with pytest.raises(BadInput):
            parse_iso_partial(bad)


def test_from_bounds() -> None:
    d = from_bounds("2017-02", "2017-03", "Feb or March")
    assert (d.earliest, d.latest, d.precision, d.wording) == (
        D(2017, 2, 1),
        D(2017, 3, 31),
        P.RANGE,
        "Feb or March",
    )
    assert from_bounds("2017", "2017").precision is P.YEAR
    assert from_bounds("2017-02", "2017-02").precision is P.MONTH
    assert from_bounds(D(2017, 2, 14), "2017-02-14").precision is P.DAY
    assert from_bounds(None, "2017").latest == D(2017, 12, 31)
    assert from_bounds(None, "2017").precision is P.BEFORE
    assert from_bounds("2017", None).precision is P.AFTER
    with pytest.raises(BadInput) as info:
        from_bounds("2018", "2017")
    assert info.value.code == "date_reversed"
    with pytest.raises(BadInput):
        from_bounds(None, None)
    with pytest.raises(BadInput):
        from_bounds("14.02.2017", None)


# --- properties ------------------------------------------------------------------------------

GRAMMAR_WORDS = [
    *dates._MONTHS,
    *dates._SEASONS,
    *dates._PARTS,
    *dates._HALF_FIRST,
    *dates._HALF_SECOND,
    *dates._HALF_WORDS,
    *dates._BEFORE,
    *dates._AFTER,
    *dates._AROUND,
    *dates._OPENERS,
    *dates._INFIX,
    *dates._IGNORED,
    "and", "и", "Feb.", "г.", "гг.", "ё", "–", "—", "/", "..", "...", "-", "mid-",
    "0", "1", "9", "10", "12", "13", "28", "29", "30", "31", "32", "99", "0001", "1000",
    "2016", "2017", "9999", "0000", "123", "12345",
    "2017-02-14", "2017-02", "2017-13", "2017-02-30", "14.02.2017", "14/02/2017", "02/14/2017",
    "14.02.17", "02.2017", "14.02", "0001-01-01", "9999-12-31", "29.02.2016",
]  # fmt: skip

grammar_text = st.lists(st.sampled_from(GRAMMAR_WORDS), max_size=8).flatmap(
    lambda words: st.sampled_from([" ".join(words), "".join(words)])
)
todays = st.none() | st.dates()


def parse_or_none(text: str, today: date | None) -> FuzzyDate | None:
    """Parse, letting only BadInput through as "unreadable"; any other error fails the test."""
    try:
        return parse(text, today=today)
    except BadInput as e:
        error = e
    assert error.code.startswith("date_")
    assert error.message
    return None


def check_invariants(d: FuzzyDate) -> None:
    assert d.earliest is not None or d.latest is not None
    if d.earliest is not None and d.latest is not None:
        assert d.earliest <= d.latest


@settings(max_examples=500)
@given(st.text(max_size=60), todays)
def test_any_text_is_parsed_or_refused_with_bad_input(text: str, today: date | None) -> None:
    d = parse_or_none(text, today)
    if d is not None:
        check_invariants(d)


@settings(max_examples=1500)
@given(grammar_text, todays)
def test_grammar_soup_is_parsed_or_refused_with_bad_input(text: str, today: date | None) -> None:
    d = parse_or_none(text, today)
    if d is not None:
        check_invariants(d)
        assert FuzzyDate.from_json(d.to_json()) == d


@st.composite
def spans(draw: st.DrawFn) -> FuzzyDate:
    """Dates of every shape str() prints: a day, a month, a year, ranges of each, open ends."""
    kind = draw(st.sampled_from(["day", "month", "year", "days", "months", "years", "open"]))
    a, b = sorted(draw(st.lists(st.dates(), min_size=2, max_size=2)))
    if kind == "day":
        return from_bounds(a, a)
    if kind in ("month", "months"):
        first = a.isoformat()[:7]
        return from_bounds(first, first if kind == "month" else b.isoformat()[:7])
    if kind in ("year", "years"):
        return from_bounds(f"{a.year:04d}", f"{(a if kind == 'year' else b).year:04d}")
    if kind == "days":
        return from_bounds(a, b)
    return draw(st.sampled_from([from_bounds(None, a), from_bounds(a, None)]))


@given(spans())
def test_str_parses_back_to_the_same_bounds(d: FuzzyDate) -> None:
    again = parse(str(d))
    assert (again.earliest, again.latest) == (d.earliest, d.latest)


@given(spans(), st.sampled_from(["en", "ru"]))
def test_display_parses_back_to_the_same_bounds(d: FuzzyDate, lang: str) -> None:
    again = parse(d.display(lang))
    assert (again.earliest, again.latest) == (d.earliest, d.latest)


@given(st.dates(), st.sampled_from(["day", "month", "year"]))
def test_iso_partial_forms_parse_the_same_everywhere(day: date, form: str) -> None:
    text = {"day": day.isoformat(), "month": day.isoformat()[:7], "year": f"{day.year:04d}"}[form]
    a, b = parse(text), parse_iso_partial(text)
    assert (a.earliest, a.latest, a.precision) == (b.earliest, b.latest, b.precision)
    assert a.contains(day) is True


@given(spans(), st.text(max_size=30))
def test_json_round_trip(d: FuzzyDate, wording: str) -> None:
    d = FuzzyDate(d.earliest, d.latest, wording, d.precision)
    assert FuzzyDate.from_json(d.to_json()) == d


@given(st.dictionaries(st.text(max_size=10), st.none() | st.text(max_size=12) | st.integers()))
def test_from_json_refuses_anything_else_with_bad_input(data: dict[str, object]) -> None:
    with contextlib.suppress(BadInput):
        FuzzyDate.from_json(data)


@given(spans())
def test_month_bounds_contain_the_bounds(d: FuzzyDate) -> None:
    first, last = d.month_bounds()
    for bound, month_start in ((d.earliest, first), (d.latest, last)):
        if bound is None:
            assert month_start is None
        else:
            assert month_start is not None
            assert month_start <= bound
            assert (month_start.year, month_start.month, month_start.day) == (
                bound.year,
                bound.month,
                1,
            )


@given(spans(), st.dates())
def test_contains_agrees_with_overlapping_a_day(d: FuzzyDate, day: date) -> None:
    assert d.overlaps(from_bounds(day, day)) is d.contains(day)


@given(spans(), spans())
def test_overlaps_is_symmetric(a: FuzzyDate, b: FuzzyDate) -> None:
    assert a.overlaps(b) is b.overlaps(a)


@given(
    st.dates(min_value=D(1000, 1, 1), max_value=D(9998, 12, 31)),
    st.integers(min_value=0, max_value=365),
)
def test_ranges_of_generated_days_parse_in_both_languages(start: date, length: int) -> None:
    end = start + timedelta(days=length)
    for text in (
        f"{start.isoformat()}..{end.isoformat()}",
        f"between {start.day} {dates._EN_MONTHS[start.month - 1]} {start.year} "
        f"and {end.day} {dates._EN_MONTHS[end.month - 1]} {end.year}",
        f"с {start.day} {dates._RU_GENITIVE[start.month - 1]} {start.year} "
        f"по {end.day} {dates._RU_GENITIVE[end.month - 1]} {end.year} г.",
        f"{start.day:02d}.{start.month:02d}.{start.year} – "
        f"{end.day:02d}/{end.month:02d}/{end.year}",
    ):
        d = parse(text)
        assert (d.earliest, d.latest) == (start, end)
