"""The Fellegi–Sunter model: which records are the same person, with what probability.

Splink (MIT; UK Ministry of Justice) does the statistics on an in-memory DuckDB. What is ours
is declared here as data: the comparisons (one Splink settings dictionary whose levels are SQL
conditions on the keys of :mod:`refugium.linkage.prepare`), the blocking rules, and the
training plan. Linking across sources and deduplicating within one are the same job on the
union of all records (Splink's ``dedupe_only`` over one table), so a person entered twice in
one list and once in another ends in one cluster.

Training, in the order Splink's authors recommend:

1. λ, the probability that two random records match, from deterministic rules whose recall is
   stated (:data:`DETERMINISTIC_RULES`, :data:`DETERMINISTIC_RECALL`);
2. u (how often fields agree by chance) from random pairs;
3. m (how often they agree for a true match) by expectation maximisation, in three sessions
   whose blocking rules cover each other's blind spots (:data:`EM_SESSIONS`); a session that
   cannot run on these lists is skipped, and a λ that is not a probability (no deterministic
   matches, or EM on a few dozen records) is replaced by one match per record.

EM is capped at :data:`EM_MAX_PAIRS` blocked pairs (Splink's ``max_pairs``): on a million
records a blocking rule on two common keys yields hundreds of millions of pairs, and a few
million, drawn by Splink's hash filter on both sides, hold thousands of true pairs, more than
enough to estimate a dozen m values. To draw them, Splink first counts the blocked pairs on a
sample of the records, ``record_sample_proportion`` (default 1 %). On a few thousand records 1 %
is a few dozen, and the count, scaled up by 1/p², is noise; we count on every record up to
:data:`EM_COUNT_RECORDS` and on a proportion that keeps that many beyond it, which keeps the
estimate within a few per cent at a cost of one blocking pass.

Nothing is written to disk: the DuckDB database is ``:memory:`` with ``temp_directory`` set
to empty, which makes DuckDB fail with "out of memory" rather than spill (by default an
in-memory DuckDB spills to ``.tmp`` in the working directory: plaintext names on disk).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.exceptions import EMTrainingException, SplinkException

from refugium.errors import OutOfMemory
from refugium.linkage.clusters import cluster

__all__ = [
    "BLOCKING_RULES",
    "COMPARISONS",
    "DEFAULT_THRESHOLD",
    "DETERMINISTIC_RECALL",
    "DETERMINISTIC_RULES",
    "DUCKDB_CONFIG",
    "EM_COUNT_RECORDS",
    "EM_MAX_PAIRS",
    "EM_SESSIONS",
    "PREDICT_CHUNK_RECORDS",
    "Linkage",
    "Progress",
    "link",
    "settings",
]

DEFAULT_THRESHOLD: Final = 0.7
"""Match probability at or above which a pair is the same person (``--threshold``).

Not 0.5, the point where a calibrated model says "more likely than not": this one is
overconfident below 0.9 (names, places and families are not independent, as Fellegi–Sunter
assumes, and λ comes out about four times too high), and on the synthetic set pairs scored
0.5–0.7 were the same person about one time in five, 0.8–0.9 two in five, 0.9 and above 95
in 100. The clustering refuses most of the wrong merges in the middle range, so the threshold
was chosen on the clusters: at 0.7 F1 was best or level on all three seeds measured (0.972,
0.978, 0.971; at 0.5: 0.972, 0.976, 0.969; at 0.9: 0.969, 0.973, 0.965). A false merge undercounts
victims and a false split overcounts them; both matter, and the borderline pairs on either
side go to review."""

DUCKDB_CONFIG: Final[dict[str, str | bool]] = {
    "temp_directory": "",  # never spill: spilled pages hold names in plaintext
    "autoinstall_known_extensions": False,  # no network, no extension files written
}

EM_MAX_PAIRS: Final = 5_000_000
EM_COUNT_RECORDS: Final = 200_000
PREDICT_CHUNK_RECORDS: Final = 150_000
"""Beyond this many records, pairs are scored in chunks (left and right halves, thirds…):
scoring all blocked pairs of a million records at once does not fit in 24 GiB, and only the
pairs at p ≥ 0.01 are kept from each chunk."""

Progress = Callable[[str], None]
"""Told each stage as it starts ("estimating u from random pairs"), for long runs."""


def _level(sql: str, label: str, *, null: bool = False, tf: str | None = None) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
    return level


def _missing(column: str) -> dict[str, Any]:
    """The null level: either record lacks ``column``, so the comparison says nothing."""
    return _level(f"{column}_l IS NULL OR {column}_r IS NULL", "missing", null=True)


_DIFFERENT: Final[dict[str, Any]] = {"sql_condition": "ELSE", "label_for_charts": "different"}


def _same_or_close(column: str, description: str, same: str) -> dict[str, Any]:
    """Missing, the same key (term-frequency adjusted), Jaro–Winkler ≥ 0.9, different."""
    c = column
    return {
        "output_column_name": c,
        "comparison_description": description,
        "comparison_levels": [
            _missing(c),
            _level(f"{c}_l = {c}_r", same, tf=c),
            _level(f"jaro_winkler_similarity({c}_l, {c}_r) >= 0.9", "Jaro-Winkler >= 0.9"),
            dict(_DIFFERENT),
        ],
    }


def _name(column: str, other: str, description: str) -> dict[str, Any]:
    """Levels for a folded name part: the same key, then ever looser agreement.

    Jaro–Winkler on the folded keys catches typing errors; the phonetic key (Metaphone of the
    loose key) catches the vowel variants and German spellings the fold keeps apart; the
    initial level is what "Зелим Х." can offer; the last level catches a given name typed in
    the family-name column and the reverse, which the splitting of full names cannot see.
    Term frequencies adjust the exact level: two records sharing a clan's name (Магомадов)
    say less than two sharing a rare one.
    """
    c = column
    return {
        "output_column_name": c,
        "comparison_description": description,
        "comparison_levels": [
            _missing(f"{c}_initial"),
            _level(f"{c}_l = {c}_r", "same key", tf=c),
            _level(f"jaro_winkler_similarity({c}_l, {c}_r) >= 0.92", "Jaro-Winkler >= 0.92"),
            _level(f"{c}_phonetic_l = {c}_phonetic_r", "same phonetic key"),
            _level(f"jaro_winkler_similarity({c}_l, {c}_r) >= 0.80", "Jaro-Winkler >= 0.80"),
            _level(
                f"({c}_l IS NULL OR {c}_r IS NULL) AND {c}_initial_l = {c}_initial_r",
                "initial agrees",
            ),
            {
                **_level(
                    f"jaro_winkler_similarity({c}_l, {other}_r) >= 0.92"
                    f" OR jaro_winkler_similarity({other}_l, {c}_r) >= 0.92",
                    "written in the other name's place",
                ),
                # Fixed: lists without swaps teach EM m = 0, which Splink 5 then refuses.
                "m_probability": 0.002,
                "fix_m_probability": True,
            },
            dict(_DIFFERENT),
        ],
    }


_BIRTH: Final[dict[str, Any]] = {
    "output_column_name": "birth",
    "comparison_description": "Birth date, compared by what both records give",
    "comparison_levels": [
        _missing("birth_year"),
        _level(
            "birth_year_l = birth_year_r AND birth_month_l = birth_month_r"
            " AND birth_day_l = birth_day_r",
            "same day",
        ),
        _level(
            "birth_year_l = birth_year_r AND birth_month_l = birth_day_r"
            " AND birth_day_l = birth_month_r",
            "day and month swapped",
        ),
        _level(
            "birth_year_l = birth_year_r AND birth_month_l = birth_month_r",
            "same month (day differs or not given)",
        ),
        _level(
            "birth_year_l = birth_year_r AND (birth_month_l IS NULL OR birth_month_r IS NULL)",
            "same year, one gives only the year",
        ),
        _level("birth_year_l = birth_year_r", "same year, month differs"),
        _level("abs(birth_year_l - birth_year_r) = 1", "a year apart (age-derived years)"),
        dict(_DIFFERENT),
    ],
}

_PLACE: Final = _same_or_close(
    "place", "Place, folded, without words such as 'village'", "same place"
)

_SEX: Final[dict[str, Any]] = {
    "output_column_name": "sex",
    "comparison_description": "Sex as recorded (m, f)",
    "comparison_levels": [
        _missing("sex"),
        _level("sex_l = sex_r", "same"),
        # Fixed, not learnt: EM on clean lists learns m = 0, a weight of minus infinity that
        # one clerk's slip would turn into two people. One record in 200 is taken to be wrong.
        {**_DIFFERENT, "m_probability": 0.005, "fix_m_probability": True},
    ],
}

_PATRONYMIC: Final = _same_or_close(
    "patronymic", "Father's name, from the patronymic", "same father's name"
)

_DOCUMENT: Final[dict[str, Any]] = {
    "output_column_name": "document",
    "comparison_description": "Document number (passport, identity card), letters and digits",
    "comparison_levels": [
        _missing("document"),
        _level("document_l = document_r", "same number", tf="document"),
        _level("damerau_levenshtein(document_l, document_r) <= 1", "one typing slip apart"),
        _level("damerau_levenshtein(document_l, document_r) <= 2", "two slips apart"),
        dict(_DIFFERENT),
    ],
}

COMPARISONS: Final = (
    _name("given", "family", "Given name: folded, short forms mapped to the full name"),
    _name("family", "given", "Family name: folded, masculine form"),
    _PATRONYMIC,
    _BIRTH,
    _PLACE,
    _SEX,
    _DOCUMENT,
)

BLOCKING_RULES: Final[tuple[BlockingRuleCreator | str, ...]] = (
    block_on("family_phonetic", "given_phonetic"),
    block_on("family", "given_initial"),
    # With phonetic keys (which merge Магомадов, Магомедов, Магамадов…), an initial stands in
    # for a missing name only: pairing all of them by initial grows with the list's square.
    "l.family_phonetic = r.family_phonetic AND l.given_initial = r.given_initial"
    " AND (l.given IS NULL OR r.given IS NULL)",
    "l.given_phonetic = r.given_phonetic AND l.family_initial = r.family_initial"
    " AND (l.family IS NULL OR r.family IS NULL)",
    block_on("given", "birth_year"),
    block_on("family", "birth_year"),
    block_on("given", "patronymic"),
    block_on("family_phonetic", "birth_year", "birth_month"),
    block_on("birth_year", "birth_month", "birth_day", "place"),
    # Given and family names swapped between columns ("Хасуев" typed as the given name).
    "l.given_phonetic = r.family_phonetic AND l.family_phonetic = r.given_phonetic",
    block_on("document"),
)
"""Pairs are scored only if one rule holds. Each pairs records that share two keys, so a
misspelt family name is still caught through the given name and the birth year, and a short
entry ("Зелим Х.", "К. Иванов") through one name and the other's initial. Records whose names
were swapped between columns meet by the two names crossed, or by their whole birth date and
place."""

DETERMINISTIC_RULES: Final = (
    block_on("family", "given", "birth_year", "birth_month", "birth_day"),
    block_on("family", "given", "patronymic", "birth_year"),
)
DETERMINISTIC_RECALL: Final = 0.6
"""Share of true matches the rules above are taken to find: many records lack full dates."""

EM_SESSIONS: Final = (
    block_on("family", "given"),
    block_on("birth_year", "birth_month", "birth_day"),
    block_on("birth_year", "patronymic"),
)
"""The first session learns birth date, place, patronymic and sex; the others the names, from
records that share a whole birth date or a birth year and a father's name. A session whose
rule pairs no records (lists without patronymics, or without full dates) is skipped; one is
enough to learn every comparison but the names, and the names need one of the others."""


def settings() -> dict[str, Any]:
    """The Splink settings dictionary (a fresh copy: Splink stores trained values in it)."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": [dict(c) for c in COMPARISONS],
        "blocking_rules_to_generate_predictions": list(BLOCKING_RULES),
        # Only ids, weight and probability per scored pair: at a million records the keys
        # and levels Splink would copy into every pair did not fit in 24 GiB. The review
        # page scores its few pairs again with every level shown (Linker.score_pair).
        "retain_intermediate_calculation_columns": False,
        "retain_matching_columns": False,
    }


@dataclass(slots=True, repr=False)
class Linkage:
    """A trained model, its scored pairs and the clusters at the threshold."""

    linker: Linker
    keys: pd.DataFrame
    """The key table the model was trained on (row ``i`` is ``unique_id`` ``i``)."""
    pairs: pd.DataFrame
    """Scored pairs: ``unique_id_l``, ``unique_id_r``, ``match_probability``, ``match_weight``."""
    clusters: pd.Series
    """Cluster number (1, 2, … in order of first record) indexed by ``unique_id``."""
    threshold: float
    seconds: float


def _connection() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(":memory:", config=dict(DUCKDB_CONFIG))
    # stdout belongs to the caller (and the CSV it may be writing); progress goes to stderr.
    connection.execute("SET enable_progress_bar = false")
    return connection


def _check_prior(linker: Linker, records: int) -> None:
    """Replace a λ that is not a probability by about one match per record.

    The deterministic rules give 0 when no two records agree on name and birth date, and an
    EM session on a few dozen records can give NaN; Splink would then write NaN into the SQL
    that scores the pairs. EM refines the replacement when it can.
    """
    settings_object = linker._settings_obj
    prior = settings_object._probability_two_random_records_match
    if not 0.0 < prior < 1.0:  # also true for NaN
        settings_object._probability_two_random_records_match = 1.0 / records


def _pairs(db: DuckDBAPI, table: str) -> pd.DataFrame:
    """The scored pairs as pandas, in narrow types."""
    query = (
        "SELECT unique_id_l, unique_id_r, match_probability,"  # noqa: S608  # the name is Splink's
        f" CAST(match_weight AS FLOAT) AS match_weight FROM {table}"
    )
    frame: pd.DataFrame = db.duckdb_con.sql(query).df()
    return frame


def _train_m(linker: Linker, records: int, tell: Progress) -> None:
    """EM sessions in turn, skipping those whose blocking rule pairs no records.

    Raises:
        ValueError: no session could run: the records share too little to learn from.
    """
    proportion = min(1.0, EM_COUNT_RECORDS / records)
    trained = 0
    for number, rule in enumerate(EM_SESSIONS, start=1):
        tell(f"estimating m by expectation maximisation ({number}/{len(EM_SESSIONS)})")
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule,
                estimate_without_term_frequencies=True,
                max_pairs=EM_MAX_PAIRS,
                record_sample_proportion=proportion,
                populate_probability_two_random_records_match_from_trained_values=True,
            )
        except EMTrainingException:
            tell(f"skipped session {number}: no two records share its keys")
            continue
        except (ValueError, SplinkException) as exc:
            if _out_of_memory(exc):
                raise
            # Splink 5 refuses an m that EM drove to zero (a level seen only among
            # non-matches); the other sessions still train that comparison.
            tell(f"skipped session {number}: {type(exc).__name__}")
            continue
        finally:
            # Each session hands its λ on to the next; on a few dozen records it can be NaN.
            _check_prior(linker, records)
        trained += 1
    if not trained:
        raise ValueError(
            "too little in common to learn from: no two records share a family and given"
            " name, a birth date, or a birth year and a father's name"
        )


def _out_of_memory(exc: BaseException) -> bool:
    """Whether DuckDB ran out of memory somewhere under ``exc`` (Splink wraps its errors)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (duckdb.OutOfMemoryException, MemoryError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def link(
    keys: pd.DataFrame,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Progress | None = None,
    *,
    seed: int = 1,
) -> Linkage:
    """Train the model on ``keys`` (from :func:`refugium.linkage.prepare.prepare`) and cluster.

    ``seed`` fixes the random pairs that u is estimated from: the same keys and seed give the
    same clusters.

    Raises:
        ValueError: ``threshold`` outside (0, 1), fewer than two records, or records with too
            little in common to train on.
        refugium.errors.OutOfMemory: the work did not fit in memory (nothing is spilled).
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be a probability between 0 and 1")
    if len(keys) < 2:
        raise ValueError("linkage needs at least two records")
    try:
        return _link(keys, threshold, progress or (lambda _stage: None), seed)
    except (SplinkException, duckdb.Error, MemoryError) as exc:
        if _out_of_memory(exc):
            raise OutOfMemory(
                "out of memory: the candidate pairs do not fit in this machine's memory, and"
                " linkage never spills names to disk; link fewer or smaller lists at a time"
            ) from None
        raise


def _link(keys: pd.DataFrame, threshold: float, tell: Progress, seed: int) -> Linkage:
    started = time.perf_counter()
    db = DuckDBAPI(_connection())
    linker = Linker(db.register(keys), settings(), log_level=logging.ERROR)
    training = linker.training
    tell("estimating how often two records match (deterministic rules)")
    training.estimate_probability_two_random_records_match(
        list(DETERMINISTIC_RULES), recall=DETERMINISTIC_RECALL
    )
    _check_prior(linker, len(keys))
    tell("estimating u from random pairs")
    training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed)
    _train_m(linker, len(keys), tell)
    chunks = max(1, math.ceil(len(keys) / PREDICT_CHUNK_RECORDS))
    tell(f"scoring candidate pairs ({chunks * chunks} chunk{'s' if chunks > 1 else ''})")
    scored = linker.inference.predict(
        threshold_match_probability=0.01,
        num_chunks_left=chunks if chunks > 1 else None,
        num_chunks_right=chunks if chunks > 1 else None,
    )
    pairs = _pairs(db, scored.physical_name)
    tell("clustering")
    return Linkage(
        linker=linker,
        keys=keys,
        pairs=pairs,
        clusters=cluster(keys, pairs, threshold),
        threshold=threshold,
        seconds=time.perf_counter() - started,
    )
