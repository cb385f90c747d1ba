"""Clustering: a vague record joins its best match, never two people who contradict."""

from __future__ import annotations

import pandas as pd

from refugium.linkage.clusters import cluster


def keys(*people: tuple):
    """(year, month, day, sex, father[, place[, document]]) per record."""
    rows = [
        {"unique_id": i, "birth_year": y, "birth_month": m, "birth_day": d, "sex": s,
         "patronymic": p, "place": rest[0] if rest else None,
         "document": rest[1] if len(rest) > 1 else None}
        for i, (y, m, d, s, p, *rest) in enumerate(people)
    ]  # fmt: skip
    table = pd.DataFrame(rows)
    for column in ("birth_year", "birth_month", "birth_day"):
        table[column] = table[column].astype("Int64")
    return table


def pairs(*scored: tuple[int, int, float]) -> pd.DataFrame:
    return pd.DataFrame(scored, columns=["unique_id_l", "unique_id_r", "match_probability"])


def test_a_vague_record_joins_its_best_match_and_does_not_chain_namesakes():
    table = keys((1981, None, None, "m", None), (1999, None, None, "m", None),
                 (None, None, None, None, None))  # fmt: skip
    labels = cluster(table, pairs((0, 2, 0.95), (1, 2, 0.97)), 0.5)
    assert labels[1] == labels[2] != labels[0]


def test_conflicts_that_refuse_a_merge():
    cases = [
        ((1981, 3, 12, "m", "ahmed"), (1983, 3, 12, "m", "ahmed"), False),  # years
        ((1981, 3, 12, "m", "ahmed"), (1982, 3, 12, "m", "ahmed"), True),  # an age
        ((1956, None, None, None, None), (1965, None, None, None, None), True),  # swap
        ((1981, 3, None, None, None), (1981, 4, None, None, None), False),  # months
        ((1981, 3, 12, None, None), (1981, 12, 3, None, None), True),  # 12.03 / 03.12
        ((1981, None, None, "m", None), (1981, None, None, "f", None), False),  # sexes
        ((None, None, None, None, "ahmed"), (None, None, None, None, "umar"), False),
        ((None, None, None, None, "havazhi"), (None, None, None, None, "chavashi"), True),
        ((None, None, None, None, "alavdi"), (None, None, None, None, "lalavdi"), True),
        ((None, None, None, None, None, "shali"), (None, None, None, None, None, "argun"), False),
        ((None, None, None, None, None, "sunzha"), (None, None, None, None, None, "sunia"), True),
        ((None, None, None, None, None, "shali"), (None, None, None, None, None, None), True),
        ((1981, 3, 12, None, None, "shali"), (1981, 3, 12, None, None, "grozni"), True),  # date
        ((1981, 3, None, None, None, "shali"), (1981, 3, None, None, None, "grozni"), False),
    ]
    for left, right, joined in cases:
        labels = cluster(keys(left, right), pairs((0, 1, 0.99)), 0.5)
        assert bool(labels[0] == labels[1]) is joined, (left, right)


def test_one_document_number_outweighs_a_mistyped_date_but_not_a_sex():
    namesake = (1981, None, None, "m", None, "shali")
    cases = [
        ((*namesake, "4506123456"), (1999, None, None, "m", None, "argun", "4506123456"), True),
        ((*namesake, "4506123456"), (1999, None, None, "m", None, "shali", "4506124356"), True),
        ((*namesake, "4506123456"), (1999, None, None, "m", None, "shali", "4506123499"), False),
        ((*namesake, "12345"), (1999, None, None, "m", None, "shali", "12354"), False),  # short
        ((*namesake, "4506123456"), (1981, None, None, "f", None, "shali", "4506123456"), False),
        ((*namesake, "4506123456"), (1999, None, None, "m", None, "shali", None), False),
    ]
    for left, right, joined in cases:
        labels = cluster(keys(left, right), pairs((0, 1, 0.99)), 0.5)
        assert bool(labels[0] == labels[1]) is joined, (left, right)


def test_below_the_threshold_nothing_joins_and_numbers_follow_first_records():
    table = keys(*[(None, None, None, None, None)] * 4)
    labels = cluster(table, pairs((2, 3, 0.7), (0, 1, 0.4)), 0.5)
    assert list(labels) == [1, 2, 3, 3]
