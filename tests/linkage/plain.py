"""The baseline: a plain Splink model as its documentation would build it, with no normalisation.

Same Splink, same DuckDB, same data and threshold as refugium's model; what it lacks is
everything refugium adds: no transliteration or folding (names are only lowercased), no
splitting of full names beyond "first word given, last word family", no name forms, no
partial-date levels, and Splink's own connected-components clustering. The gap between the two
on the synthetic set is what the normalisation and the clustering are worth.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import duckdb
import iuliia  # type: ignore[import-untyped]
import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from refugium.linkage.model import DUCKDB_CONFIG


def _row(unique_id: int, row: Mapping[str, str], latin: bool) -> dict[str, object]:
    def text(column: str) -> str:
        value = row.get(column, "")
        return (iuliia.ICAO_DOC_9303.translate(value) if latin else value).lower()

    words = text("full_name").split()
    first = text("given_name") or (words[0] if words else "")
    last = text("family_name") or (words[-1] if len(words) > 1 else "")
    return {
        "unique_id": unique_id,
        "first_name": first or None,
        "surname": last or None,
        "birth_date": row.get("birth_date") or None,
        "place": text("place") or None,
        "gender": text("gender") or None,
    }


def plain_clusters(
    rows: Sequence[Mapping[str, str]], threshold: float, *, latin: bool = False
) -> pd.Series:
    """Cluster ids indexed by row position, from the plain model.

    ``latin`` first transliterates every Cyrillic value with iuliia's ICAO schema (the one
    step a careful user would add), so that the comparison isolates what refugium adds beyond
    transliteration.
    """
    table = pd.DataFrame([_row(i, row, latin) for i, row in enumerate(rows)])
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.ExactMatch("birth_date"),
            cl.ExactMatch("place"),
            cl.ExactMatch("gender"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "birth_date"),
            block_on("first_name", "birth_date"),
        ],
    )
    connection = duckdb.connect(":memory:", config=dict(DUCKDB_CONFIG))
    linker = Linker(DuckDBAPI(connection).register(table), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "birth_date")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    for rule in (block_on("surname"), block_on("birth_date")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, record_sample_proportion=1.0
        )
    scored = linker.inference.predict(threshold_match_probability=0.01)
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        scored, threshold_match_probability=threshold
    ).as_pandas_dataframe()
    return clustered.set_index("unique_id")["cluster_id"].sort_index()
