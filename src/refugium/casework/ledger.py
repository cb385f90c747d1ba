"""The rules of a case's cost ledger without Django: categories, currencies, amounts (issue 9).

A grant report sums what was spent per month, currency and category, so amounts are exact
integers in the currency's minor unit (kopecks, cents; a yen has none) and never floats, and
each currency is summed on its own: converting would need a rate and a day, which is the
finance officer's call, not the server's.

The currencies are ISO 4217's current codes with their minor units, funds and precious
metals left out (nobody buys a ticket in XAU). An amount is refused if it is not a positive
whole number of minor units, or larger than ``MAX_MAJOR`` units of its currency: no single
cost of a case comes near a hundred million of anything, so such a number is a slip of the
keyboard (an amount in kopecks typed as roubles twice over), and refusing it keeps a total's
sum far from the 64-bit limit of the database.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

from refugium.errors import BadInput

__all__ = [
    "CATEGORIES",
    "CURRENCIES",
    "MAX_MAJOR",
    "category",
    "check_amount",
    "currency",
    "format_amount",
    "parse_amount",
]

#: What a cost was for, as the grant reports group it.
CATEGORIES: Final[tuple[str, ...]] = (
    "tickets",
    "shelter",
    "documents",
    "medical",
    "legal",
    "subsistence",
    "other",
)

#: The largest amount of one entry, in major units of its currency.
MAX_MAJOR: Final = 100_000_000

_NO_MINOR = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP "
    "GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD "
    "LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB "
    "PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC "
    "SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES XCD XCG YER ZAR ZMW ZWG"
)

#: ISO 4217 code: digits of its minor unit.
CURRENCIES: Final[dict[str, int]] = {
    **dict.fromkeys(_TWO.split(), 2),
    **dict.fromkeys(_NO_MINOR.split(), 0),
    **dict.fromkeys(_THREE.split(), 3),
    **dict.fromkeys(_FOUR.split(), 4),
}

_CODE = re.compile(r"[A-Z]{3}")
_DECIMAL = re.compile(r"\d{1,15}(?:[.,]\d{1,4})?")


def category(value: str) -> str:
    """Raises:
    BadInput: not one of ``CATEGORIES``.
    """
    if value not in CATEGORIES:
        raise BadInput(f"no cost category {value!r}; categories: {', '.join(CATEGORIES)}")
    return value


def currency(code: str) -> str:
    """The ISO 4217 code, upper-cased.

    Raises:
        BadInput: not three letters, or not a current ISO 4217 currency.
    """
    text = code.strip().upper() if isinstance(code, str) else ""
    if not _CODE.fullmatch(text):
        raise BadInput("a currency is an ISO 4217 code of three letters, such as EUR or RUB")
    if text not in CURRENCIES:
        raise BadInput(f"{text!r} is not a current ISO 4217 currency")
    return text


def check_amount(amount: int, code: str) -> int:
    """``amount`` (in minor units of ``code``) if it is a cost one entry can record.

    Raises:
        BadInput: not a whole number, zero or negative, or over ``MAX_MAJOR`` units.
    """
    digits = CURRENCIES[currency(code)]
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise BadInput("an amount is a whole number of minor units (cents, kopecks)")
    if amount <= 0:
        raise BadInput("an amount must be more than zero (a refund is not a cost)")
    if amount > MAX_MAJOR * 10**digits:
        raise BadInput(
            f"an amount over {MAX_MAJOR:,} {code.strip().upper()} is not one cost of a case; "
            "check the amount (it is in minor units: cents, kopecks)"
        )
    return amount


def parse_amount(text: str, code: str) -> int:
    """Minor units of ``code`` from an amount as a person types it (``"12.50"``,
    ``"12,5"``, ``"1 200"``), exact, never through a float.

    Raises:
        BadInput: not a number, more decimals than the currency has, or an amount
            ``check_amount`` refuses.
    """
    digits = CURRENCIES[currency(code)]
    cleaned = "".join(text.split()) if isinstance(text, str) else ""
    if not _DECIMAL.fullmatch(cleaned):
        raise BadInput("an amount is a number such as 1200 or 12.50")
    try:
        value = Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        raise BadInput("an amount is a number such as 1200 or 12.50") from None
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise BadInput(f"{code.strip().upper()} has {digits} decimal places, not more")
    return check_amount(int(minor), code)


def format_amount(amount: int, code: str) -> str:
    """Minor units as a decimal string with the currency's places (``1250, "EUR"`` →
    ``"12.50"``), as the totals' CSV writes it."""
    digits = CURRENCIES[currency(code)]
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**digits)
    return f"{sign}{whole}.{part:0{digits}d}" if digits else f"{sign}{whole}"
