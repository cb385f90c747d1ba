"""Pairs to persons: clustering that will not join two people through a vague third record.

Splink's clustering takes connected components of the pairs at or above the threshold. On
lists of the North Caucasus that chains namesakes: "Рамзан Исмаилов, Шали" from a hotline
(no birth date) matches the Рамзан Исмаилов born 1981 and the one born 1999 with the same
high probability, and connected components makes the two men one person. We instead merge
pairs in descending order of probability, as single-linkage clustering does, but refuse a
merge that would put into one person records that contradict each other on what a person
cannot have two of (:func:`compatible`): birth years more than a year apart, two months of
birth in one year, two sexes, two different fathers' names, or two different places unless a
whole birth date is shared. A shared document number (or one a typing slip apart) outweighs
all of these but sex: it is the one fact two namesakes from one village do not share, and a
birth date is what clerks most often get wrong. The vague record joins whichever man it
matched best; the other keeps his own cluster, and the pair stays on the review page.

Deterministic: ties in probability are broken by the records' ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import jellyfish
import pandas as pd

from refugium.linkage.prepare import loose

__all__ = [
    "DOCUMENT_MIN_LENGTH",
    "FATHER_SIMILARITY",
    "PLACE_SIMILARITY",
    "YEAR_SPREAD",
    "cluster",
    "compatible",
]

YEAR_SPREAD: Final = 1
"""Birth years in one person may differ by this much (years derived from a stated age)."""
PLACE_SIMILARITY: Final = 0.85
"""Places at least this similar (Jaro–Winkler on :func:`loose` keys) are one place."""
FATHER_SIMILARITY: Final = 0.9
"""Fathers' names at least this similar (Jaro–Winkler on :func:`loose` keys) are one name."""
DOCUMENT_MIN_LENGTH: Final = 6
"""Document numbers this long or longer are one number despite one typing slip."""


@dataclass(slots=True)
class _Facts:
    """What a cluster's records say about the one person they are taken to be."""

    members: list[int]
    years: set[int] = field(default_factory=set)
    dates: set[tuple[int, int, int | None]] = field(default_factory=set)
    """(year, month, day) of the records that give at least a month."""
    sexes: set[str] = field(default_factory=set)
    fathers: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)
    documents: set[str] = field(default_factory=set)


def compatible(a: _Facts, b: _Facts) -> bool:
    """Whether one person could have all the facts of both clusters."""
    if len(a.sexes | b.sexes) > 1:
        return False
    if _same_document(a, b):
        return True  # one document number outweighs a mistyped birth date, father or place
    if not all(_same_year(x, y) for x in a.years for y in b.years):
        return False
    if not all(_same_month(x, y) for x in a.dates for y in b.dates):
        return False
    if not all(_same_father(x, y) for x in a.fathers for y in b.fathers):
        return False
    return _same_place(a, b) or _same_whole_date(a, b)


def _same_document(a: _Facts, b: _Facts) -> bool:
    """Both clusters hold one document number, or two that differ by one slip (a digit
    mistyped or two swapped) in a number long enough that two people's numbers are unlikely to
    be that close."""
    return any(
        x == y
        or (
            min(len(x), len(y)) >= DOCUMENT_MIN_LENGTH
            and jellyfish.damerau_levenshtein_distance(x, y) <= 1
        )
        for x in a.documents
        for y in b.documents
    )


def _same_whole_date(a: _Facts, b: _Facts) -> bool:
    """Both clusters hold one whole birth date: strong enough to outweigh other places."""
    return any(x[2] is not None and x in b.dates for x in a.dates)


def _same_place(a: _Facts, b: _Facts) -> bool:
    """Places that could be one: none given on a side, or two spellings of one name."""
    if not a.places or not b.places:
        return True
    return any(
        x in y or y in x or jellyfish.jaro_winkler_similarity(x, y) >= PLACE_SIMILARITY
        for x in (loose(p) for p in a.places)
        for y in (loose(p) for p in b.places)
    )


def _same_year(x: int, y: int) -> bool:
    """Birth years that could be one person's: at most :data:`YEAR_SPREAD` apart (an age
    turned into a year), or two neighbouring digits swapped (1956 / 1965). One wrong digit is
    not allowed: within one century most pairs of years differ in one or two digits."""
    if abs(x - y) <= YEAR_SPREAD:
        return True
    a, b = f"{x:04d}", f"{y:04d}"
    differ = [i for i in range(len(a)) if a[i] != b[i]]
    return (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and a[differ[0]] == b[differ[1]]
        and a[differ[1]] == b[differ[0]]
    )


def _same_month(x: tuple[int, int, int | None], y: tuple[int, int, int | None]) -> bool:
    """Two birth dates that give a month could be one person's: the same year and month, or
    a whole date with day and month swapped (12.03 written as 03.12)."""
    if x[:2] == y[:2] or x[0] != y[0]:
        return True  # different years are YEAR_SPREAD's business
    return x[2] is not None and (x[0], x[2], x[1]) == y


def _same_father(x: str, y: str) -> bool:
    """Two spellings of one father's name: close once confusable sounds are merged
    (Хаважиевич / Chawaschiewitsch), or one inside the other (a palochka typed as L)."""
    x, y = loose(x), loose(y)
    return x in y or y in x or jellyfish.jaro_winkler_similarity(x, y) >= FATHER_SIMILARITY


def _facts(keys: pd.DataFrame) -> list[_Facts]:
    facts = []
    columns = (keys[c].astype("object") for c in ("birth_year", "birth_month", "birth_day"))
    years, months, days = columns
    for unique_id, year, month, day, sex, father, place, document in zip(
        keys["unique_id"],
        years,
        months,
        days,
        keys["sex"],
        keys["patronymic"],
        keys["place"],
        keys["document"],
        strict=True,
    ):
        fact = _Facts([int(unique_id)])
        if not pd.isna(year):
            fact.years.add(int(year))
            if not pd.isna(month):
                fact.dates.add((int(year), int(month), None if pd.isna(day) else int(day)))
        if isinstance(sex, str):
            fact.sexes.add(sex)
        if isinstance(father, str):
            fact.fathers.add(father)
        if isinstance(place, str):
            fact.places.add(place)
        if isinstance(document, str):
            fact.documents.add(document)
        facts.append(fact)
    return facts


def cluster(keys: pd.DataFrame, pairs: pd.DataFrame, threshold: float) -> pd.Series:
    """Cluster numbers (1, 2, … in order of each cluster's first record) by ``unique_id``.

    ``keys`` is the table from :func:`refugium.linkage.prepare.prepare` (``unique_id`` equal
    to the row position); ``pairs`` the scored pairs (``unique_id_l``, ``unique_id_r``,
    ``match_probability``).
    """
    facts = _facts(keys)
    owner = list(range(len(facts)))

    def find(x: int) -> int:
        while owner[x] != x:
            owner[x] = owner[owner[x]]
            x = owner[x]
        return x

    chosen = pairs.loc[
        pairs.match_probability >= threshold, ["unique_id_l", "unique_id_r", "match_probability"]
    ].sort_values(
        ["match_probability", "unique_id_l", "unique_id_r"], ascending=[False, True, True]
    )
    for left, right in zip(chosen.unique_id_l, chosen.unique_id_r, strict=True):
        a, b = find(int(left)), find(int(right))
        if a == b or not compatible(facts[a], facts[b]):
            continue
        if len(facts[a].members) < len(facts[b].members):
            a, b = b, a
        owner[b] = a
        merged, absorbed = facts[a], facts[b]
        merged.members += absorbed.members
        merged.years |= absorbed.years
        merged.dates |= absorbed.dates
        merged.sexes |= absorbed.sexes
        merged.fathers |= absorbed.fathers
        merged.places |= absorbed.places
        merged.documents |= absorbed.documents
    roots = [find(i) for i in range(len(facts))]
    number: dict[int, int] = {}
    labels = [number.setdefault(root, len(number) + 1) for root in roots]
    return pd.Series(labels, index=range(len(facts)))
