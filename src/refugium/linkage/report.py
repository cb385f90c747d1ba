"""The review page of a linkage run: what the model learnt, and the pairs a person must judge.

One self-contained HTML file (``refugium link --report``): Splink's match-weight and m/u charts
drawn by the Vega libraries that ship inside the Splink wheel, inlined, so the page opens on an
offline machine and fetches nothing (a page that loaded a CDN script would tell a third party
that someone is reviewing a list of names). Then the borderline pairs: those whose match
probability lies within :data:`BORDERLINE` of certainty, closest to the threshold first, each
with both records as written, the name as the model read it (in Cyrillic, so that a reviewer
reads both in one script), and the level and weight every comparison reached.

The page holds names as written in the inputs: it is as sensitive as they are.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from typing import Any, Final

import pandas as pd
from splink.internals.html_utils import load_chart_libraries

from refugium.linkage.inputs import Record
from refugium.linkage.model import COMPARISONS, Linkage
from refugium.linkage.parse import parse_name
from refugium.linkage.prepare import COLUMNS, sex

__all__ = ["BORDERLINE", "MAX_PAIRS", "borderline_pairs", "render"]

BORDERLINE: Final = (0.05, 0.995)
"""Pairs with a match probability in this range are shown for review."""
MAX_PAIRS: Final = 100
"""Each shown pair is scored again with every level (about 0.1 s each)."""

_STYLE: Final = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1a1a1a; }
h1, h2 { line-height: 1.2; } table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid #bbb; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #eee; } .warning { background: #fff3cd; border: 1px solid #c9a227;
padding: .5rem 1rem; } .pair { margin-bottom: 1.5rem; } .p { font-weight: bold; }
.levels td { font-size: 13px; }
"""


def _json_for_script(value: Any) -> str:
    """JSON that cannot close the script element it is written into."""
    text = json.dumps(value, default=float)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def borderline_pairs(result: Linkage, limit: int = MAX_PAIRS) -> pd.DataFrame:
    """Scored pairs in :data:`BORDERLINE`, nearest the threshold first (at most ``limit``)."""
    low, high = BORDERLINE
    pairs = result.pairs
    chosen = pairs[(pairs.match_probability >= low) & (pairs.match_probability <= high)]
    distance = (chosen.match_weight - _weight(result.threshold)).abs()
    return chosen.assign(_distance=distance).sort_values("_distance").head(limit)


def _weight(probability: float) -> float:
    return math.log2(probability / (1.0 - probability))


def _record_table(left: Record, right: Record) -> str:
    rows = []
    for column in ("source", "id", *COLUMNS[1:]):
        if column == "source":
            a, b = left.source, right.source
        elif column == "id":
            a, b = left.id, right.id
        else:
            a, b = left.fields.get(column, ""), right.fields.get(column, "")
        if a or b:
            rows.append(
                f"<tr><th>{column}</th><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>"
            )
    a, b = _read_as(left), _read_as(right)
    rows.append(f"<tr><th>read as</th><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def _read_as(record: Record) -> str:
    """The name as the model split and keyed it, in Cyrillic: one script for the reviewer."""
    fields = record.fields
    return parse_name(
        fields.get("full_name", ""),
        fields.get("given_name", ""),
        fields.get("patronymic", ""),
        fields.get("family_name", ""),
        sex(fields.get("gender", "")),
    ).cyrillic()


def _levels(result: Linkage, left: int, right: int) -> pd.Series:
    """Every comparison's level and weight for one pair, scored again by Splink (the scored
    pairs keep only the total, to fit a million records in memory)."""

    def record(unique_id: int) -> dict[str, object]:
        row = result.keys.iloc[unique_id].to_dict()
        return {str(k): (None if v is None or pd.isna(v) else v) for k, v in row.items()}

    scored = result.linker.inference.score_pair(record(left), record(right))
    frame: pd.DataFrame = scored.as_pandas_dataframe()  # type: ignore[no-untyped-call]
    scored.drop_table_from_database_and_remove_from_cache()
    return frame.iloc[0]


def _levels_table(pair: pd.Series) -> str:
    cells = []
    for comparison in COMPARISONS:
        name = comparison["output_column_name"]
        level = int(pair.get(f"gamma_{name}", -1))
        labels = [lvl["label_for_charts"] for lvl in comparison["comparison_levels"]]
        # Splink numbers levels from the last (ELSE = 0) upwards; the null level is -1.
        label = "missing" if level < 0 else labels[len(labels) - 1 - level]
        # Splink 5 gives each comparison's match weight and its term-frequency adjustment.
        parts = [pair.get(f"mw_{name}"), pair.get(f"mw_tf_adj_{name}")]
        known = [float(w) for w in parts if w is not None and not pd.isna(w)]
        shown = f"{sum(known):+.1f}" if known and level >= 0 else ""
        cells.append(
            f"<tr><th>{html.escape(name)}</th><td>{html.escape(label)}</td><td>{shown}</td></tr>"
        )
    return (
        '<table class="levels"><tr><th>field</th><th>level</th><th>weight</th></tr>'
        + "".join(cells)
        + "</table>"
    )


def _chart(number: int, spec: dict[str, Any]) -> str:
    return (
        f'<div id="chart{number}"></div><script>vegaEmbed("#chart{number}", '
        f"{_json_for_script(spec)}, {{actions: false}});</script>"
    )


def render(result: Linkage, records: Sequence[Record], sources: dict[str, int]) -> str:
    """The whole page as text; ``records[i]`` is the record whose ``unique_id`` is ``i``."""
    libraries: dict[str, str] = load_chart_libraries()  # type: ignore[no-untyped-call]
    scripts = "".join(
        f"<script>{libraries[name]}</script>" for name in ("vega", "vega-lite", "vega-embed")
    )
    visualisations = result.linker.visualisations
    clusters = result.clusters
    sizes = clusters.value_counts()
    linked = int((result.pairs.match_probability >= result.threshold).sum())
    settings = result.linker._settings_obj  # λ is not public in Splink 5
    summary = [
        ("records", f"{len(records):,}"),
        *((f"records from {name}", f"{count:,}") for name, count in sources.items()),
        ("pairs scored (p ≥ 0.01)", f"{len(result.pairs):,}"),
        ("pairs at or above the threshold", f"{linked:,}"),
        ("threshold (match probability)", f"{result.threshold}"),
        ("persons (clusters)", f"{len(sizes):,}"),
        ("persons with more than one record", f"{int((sizes > 1).sum()):,}"),
        ("λ, estimated chance two random records match",
         f"{settings._probability_two_random_records_match:.3g}"),
        ("seconds", f"{result.seconds:.1f}"),
    ]  # fmt: skip
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>refugium link: review</title>",
        f"<style>{_STYLE}</style>{scripts}</head><body>",
        "<h1>Record linkage: review</h1>",
        '<p class="warning">This page shows names and dates of birth as the lists gave them.'
        " Keep it where the lists are kept, and delete it when the review is done.</p>",
        "<h2>Summary</h2><table>",
        *(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in summary),
        "</table>",
        "<h2>What the model learnt</h2>",
        "<p>Each bar is the weight of evidence one level of one comparison adds (positive:"
        " more likely the same person). Levels are tried top to bottom; the first that holds"
        " counts.</p>",
        _chart(1, visualisations.match_weights_chart().chart_dict),
        _chart(2, visualisations.m_u_parameters_chart().chart_dict),
        "<h2>Borderline pairs</h2>",
        f"<p>Pairs with a match probability between {BORDERLINE[0]} and {BORDERLINE[1]},"
        " closest to the threshold first. Pairs at or above the threshold are in one cluster"
        " in the output.</p>",
    ]
    for _, pair in borderline_pairs(result).iterrows():
        left = records[int(pair.unique_id_l)]
        right = records[int(pair.unique_id_r)]
        verdict = "linked" if pair.match_probability >= result.threshold else "not linked"
        parts += [
            '<div class="pair">',
            f'<p><span class="p">p = {pair.match_probability:.3f}</span>'
            f" (weight {pair.match_weight:+.1f}; {verdict})</p>",
            _record_table(left, right),
            _levels_table(_levels(result, int(pair.unique_id_l), int(pair.unique_id_r))),
            "</div>",
        ]
    parts.append("</body></html>")
    return "\n".join(parts)
