"""Input records to the table of comparable keys that the Splink model reads.

A record arrives as the columns of ``refugium link``'s CSV contract (``full_name``,
``given_name``, ``patronymic``, ``family_name``, ``birth_date``, ``place``, ``gender``); what
the model compares are keys, never the text as written: folded and split names
(:mod:`refugium.linkage.parse`), their phonetic keys (jellyfish's Metaphone, MIT licence, of
the :func:`loose` key, so that vowel variants and German spellings the fold keeps apart,
Магомед / Магамед or Ахмед / Achmed, still meet), the birth date split into year, month and
day so that partial dates compare by what they share, a folded place without words such as
"село" or "district", and the sex.

The table lives only in memory (a pandas DataFrame handed to an in-memory DuckDB).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Final

import jellyfish
import pandas as pd

from refugium.linkage.names import fold, memoised
from refugium.linkage.parse import parse_name

__all__ = [
    "COLUMNS",
    "KEY_COLUMNS",
    "BadDate",
    "birth_parts",
    "document_key",
    "loose",
    "place_key",
    "prepare",
    "sex",
]

COLUMNS: Final = (
    "id",
    "full_name",
    "given_name",
    "patronymic",
    "family_name",
    "birth_date",
    "place",
    "gender",
    "document_id",
)
"""The input contract of ``refugium link``; other columns are ignored. ``document_id`` (a
passport, identity card or other document number) is an addition to the issue's list."""

KEY_COLUMNS: Final = (
    "unique_id",
    "given",
    "given_phonetic",
    "given_initial",
    "patronymic",
    "family",
    "family_phonetic",
    "family_initial",
    "birth_year",
    "birth_month",
    "birth_day",
    "place",
    "sex",
    "document",
)

_DATE: Final = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_MALE: Final = frozenset({"m", "male", "man", "м", "муж", "мужской", "мужчина", "мж"})
_FEMALE: Final = frozenset({"f", "female", "woman", "ж", "жен", "женский", "женщина"})

PLACE_WORDS: Final = frozenset(
    fold(word)
    for word in (
        "г", "город", "гор", "село", "с", "пос", "посёлок", "поселок", "ст", "станица",
        "район", "р-н", "р-на", "аул", "республика", "респ",
        "city", "town", "village", "settlement", "district", "region", "republic", "of",
    )
)  # fmt: skip
"""Words that say what kind of place a name is, not which: "г. Грозный" is "Grozny"."""


class BadDate(ValueError):
    """A birth date not in one of the contract's forms; the message says which are."""


@dataclass(frozen=True, slots=True)
class BirthParts:
    year: int | None
    month: int | None
    day: int | None


def birth_parts(text: str) -> BirthParts:
    """``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or blank, as year, month and day.

    Raises:
        BadDate: any other text, or a month or day that does not exist.
    """
    text = text.strip()
    if not text:
        return BirthParts(None, None, None)
    match = _DATE.fullmatch(text)
    if match is None:
        raise BadDate("expected YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(part) if part else None for part in match.groups())
    assert year is not None
    if month is not None and not 1 <= month <= 12:
        raise BadDate("no such month")
    if day is not None:
        try:
            pd.Timestamp(year=year, month=month or 1, day=day)
        except ValueError:
            raise BadDate("no such day") from None
    return BirthParts(year, month, day)


def sex(text: str) -> str | None:
    """Sex as "m", "f" or None (blank or anything not recognised: never a guess)."""
    value = text.strip().casefold().rstrip(".")
    if value in _MALE:
        return "m"
    if value in _FEMALE:
        return "f"
    return None


def document_key(text: str) -> str:
    """A document number as letters and digits only, upper case: "45 06 123456" and
    "4506-123456" agree (Russian passports are written with and without spaces)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum()).upper()


def place_key(text: str) -> str:
    """A folded place name without kind words: "с. Урус-Мартан" and "Urus-Martan" agree."""
    return " ".join(word for word in fold(text).split() if word not in PLACE_WORDS)


LOOSE_RULES: Final = (
    ("shch", "s", "щ, before its ch is taken for х"),
    ("ch|kh", "h", "ч and х meet: German and Polish ch for х (Achmed, Chalid, Chasujew)"),
    ("sh|zh|z|c", "s", "ш ж з ц meet с: German sch, s and z (Schamil, Elmursaew, Zozin)"),
    ("(.)\\1+", "\\1", "doubled letters, again, after the merges above"),
)
"""Sounds that transliteration schemes and languages confuse, merged for the phonetic key only
(never for search keys, where they would merge different names: Шамиль / Замиль)."""
_LOOSE: Final = tuple((re.compile(pattern), replacement) for pattern, replacement, _ in LOOSE_RULES)


def loose(folded: str) -> str:
    """The folded key with confusable sounds merged (:data:`LOOSE_RULES`)."""
    for pattern, replacement in _LOOSE:
        folded = pattern.sub(replacement, folded)
    return folded


def _phonetic(folded: str) -> str | None:
    """Metaphone of the loose key: the blocking key and a comparison level for names."""
    return jellyfish.metaphone(loose(folded)) or None if folded else None


@dataclass(slots=True)
class _Memo:
    """Per-call caches of the pure key functions: they hold names, so they die with the call."""

    phonetic: Callable[[str], str | None] = field(default_factory=lambda: cache(_phonetic))
    place: Callable[[str], str] = field(default_factory=lambda: cache(place_key))


def _key_row(unique_id: int, row: Mapping[str, str], memo: _Memo) -> dict[str, object]:
    gender = sex(row.get("gender", ""))
    name = parse_name(
        row.get("full_name", ""),
        row.get("given_name", ""),
        row.get("patronymic", ""),
        row.get("family_name", ""),
        gender,
    )
    born = birth_parts(row.get("birth_date", ""))
    return {
        "unique_id": unique_id,
        "given": name.given or None,
        "given_phonetic": memo.phonetic(name.given),
        "given_initial": name.given_initial or None,
        "patronymic": name.patronymic or None,
        "family": name.family or None,
        "family_phonetic": memo.phonetic(name.family),
        "family_initial": name.family_initial or None,
        "birth_year": born.year,
        "birth_month": born.month,
        "birth_day": born.day,
        "place": memo.place(row.get("place", "")) or None,
        "sex": gender,
        "document": document_key(row.get("document_id", "")) or None,
    }


def prepare(rows: Iterable[Mapping[str, str]]) -> pd.DataFrame:
    """The key table for ``rows``, whose ``unique_id`` is each row's position (from 0).

    Raises:
        BadDate: a row's ``birth_date`` is malformed (callers check dates first, to name
            the file and line).
    """
    memo = _Memo()
    with memoised():
        records = [_key_row(i, row, memo) for i, row in enumerate(rows)]
    table = pd.DataFrame.from_records(records, columns=list(KEY_COLUMNS))
    for column in ("birth_year", "birth_month", "birth_day"):
        table[column] = table[column].astype("Int64")
    return table
