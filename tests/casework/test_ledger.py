"""The rules of the cost ledger without Django: categories, currencies and exact amounts
(issue 9: "a small ledger of costs per case")."""

from __future__ import annotations

import pytest

from refugium.casework import ledger
from refugium.errors import BadInput


def test_currencies_are_iso_4217_codes_with_their_minor_units() -> None:
    assert (ledger.CURRENCIES["EUR"], ledger.CURRENCIES["RUB"]) == (2, 2)
    assert (ledger.CURRENCIES["JPY"], ledger.CURRENCIES["KWD"]) == (0, 3)
    assert all(len(code) == 3 and code.isupper() for code in ledger.CURRENCIES)
    assert "XAU" not in ledger.CURRENCIES  # gold is not a currency a ticket is bought in


def test_each_code_is_listed_under_one_minor_unit_only() -> None:
    listed = [
        code
        for group in (ledger._TWO, ledger._NO_MINOR, ledger._THREE, ledger._FOUR)
        for code in group.split()
    ]
    assert len(listed) == len(set(listed)) == len(ledger.CURRENCIES)


@pytest.mark.parametrize("code", ["", "EU", "EURO", "€", "XYZ", "12A", None])
def test_bad_currencies_are_refused(code: str) -> None:
    with pytest.raises(BadInput, match="ISO 4217"):
        ledger.currency(code)


def test_a_currency_is_upper_cased() -> None:
    assert ledger.currency(" rub ") == "RUB"


@pytest.mark.parametrize(
    ("text", "code", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("12,5", "EUR", 1250),
        ("1 200", "RUB", 120000),
        ("1200", "JPY", 1200),
        ("0.001", "KWD", 1),
        ("100000000", "EUR", 10_000_000_000),
    ],
)
def test_typed_amounts_parse_exactly_to_minor_units(text: str, code: str, minor: int) -> None:
    assert ledger.parse_amount(text, code) == minor


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("0", "EUR", "more than zero"),
        ("0.00", "EUR", "more than zero"),
        ("-5", "EUR", "such as"),
        ("1e3", "EUR", "such as"),
        ("12.505", "EUR", "2 decimal places"),
        ("1.5", "JPY", "0 decimal places"),
        ("100000000.01", "EUR", "not one cost"),
        ("nan", "EUR", "such as"),
        ("", "EUR", "such as"),
    ],
)
def test_bad_typed_amounts_are_refused(text: str, code: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        ledger.parse_amount(text, code)


@pytest.mark.parametrize(
    ("amount", "message"),
    [(0, "more than zero"), (-100, "more than zero"), (1.5, "whole number"), (True, "whole")],
)
def test_bad_minor_amounts_are_refused(amount: int, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        ledger.check_amount(amount, "EUR")


def test_the_limit_is_in_major_units_of_each_currency() -> None:
    assert ledger.check_amount(100_000_000, "JPY") == 100_000_000
    with pytest.raises(BadInput, match="not one cost"):
        ledger.check_amount(100_000_001, "JPY")
    assert ledger.check_amount(100_000_000_000, "KWD") == 100_000_000_000


def test_amounts_are_written_with_their_currencys_places() -> None:
    assert ledger.format_amount(1250, "EUR") == "12.50"
    assert ledger.format_amount(5, "EUR") == "0.05"
    assert ledger.format_amount(1200, "JPY") == "1200"
    assert ledger.format_amount(1, "KWD") == "0.001"


def test_categories_are_a_fixed_set() -> None:
    assert ledger.category("tickets") == "tickets"
    with pytest.raises(BadInput, match="categories: tickets, shelter"):
        ledger.category("bribes")
