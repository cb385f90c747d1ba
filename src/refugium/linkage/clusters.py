"""Pairs to persons: clustering that will not join two people through a vague third record.

Splink's clustering takes connected components of the pairs at or above the threshold. On
lists of the North Caucasus that chains namesakes: "Рамзан Исмаилов, Шали" from a hotline
(no birth date) matches the Рамзан Исмаилов born 1981 and the one born 1999 with the same
high probability, and connected components makes the two men one person. We instead merge
pairs in descending order of probability, as single-linkage clustering does, but refuse a
merge that would put into one person records that contradict each other on what a person
cannot have two of (:func:`compatible`): birth years more than a year apart, two sexes, two
different fathers' names. The vague record joins whichever man it matched best; the other
keeps his own cluster, and the pair stays on the review page.

Deterministic: ties in probability are broken by the records' ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import jellyfish
import pandas as pd

__all__ = ["FATHER_SIMILARITY", "YEAR_SPREAD", "cluster", "compatible"]

YEAR_SPREAD: Final = 1
"""Birth years in one person may differ by this much (years derived from a stated age)."""
FATHER_SIMILARITY: Final = 0.9
"""Fathers' names at least this similar (Jaro–Winkler, folded) are typing variants of one."""


@dataclass(slots=True)
class _Facts:
    """What a cluster's records say about the one person they are taken to be."""

    members: list[int]
    years: set[int] = field(default_factory=set)
    sexes: set[str] = field(default_factory=set)
    fathers: set[str] = field(default_factory=set)


def compatible(a: _Facts, b: _Facts) -> bool:
    """Whether one person could have all the facts of both clusters."""
    if len(a.sexes | b.sexes) > 1:
        return False
    years = a.years | b.years
    if years and max(years) - min(years) > YEAR_SPREAD:
        return False
    return all(
        x == y or jellyfish.jaro_winkler_similarity(x, y) >= FATHER_SIMILARITY
        for x in a.fathers
        for y in b.fathers
    )


def _facts(keys: pd.DataFrame) -> list[_Facts]:
    facts = []
    years = keys["birth_year"].astype("object")
    for unique_id, year, sex, father in zip(
        keys["unique_id"], years, keys["sex"], keys["patronymic"], strict=True
    ):
        fact = _Facts([int(unique_id)])
        if not pd.isna(year):
            fact.years.add(int(year))
        if isinstance(sex, str):
            fact.sexes.add(sex)
        if isinstance(father, str):
            fact.fathers.add(father)
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
        merged.sexes |= absorbed.sexes
        merged.fathers |= absorbed.fathers
    roots = [find(i) for i in range(len(facts))]
    number: dict[int, int] = {}
    labels = [number.setdefault(root, len(number) + 1) for root in roots]
    return pd.Series(labels, index=range(len(facts)))
