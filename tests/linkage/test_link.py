"""refugium's linkage on the synthetic set against the truth, beside a plain Splink model."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from refugium.cli import DEFAULT_LINK_THRESHOLD
from refugium.linkage import model
from refugium.linkage.clusters import cluster
from refugium.linkage.inputs import Record
from refugium.linkage.model import DEFAULT_THRESHOLD, link
from refugium.linkage.prepare import prepare
from tests.cli_runner import REPO
from tests.linkage.plain import plain_clusters
from tests.linkage.synthetic import generate, pairwise_scores

F1_FLOOR = 0.97
"""The issue's target. Measured 0.9715 (precision 0.977, recall 0.966) at the default
threshold (0.7) with seed 7 and 3,000 persons; seeds 1 and 2 gave 0.978 and 0.971. The same
code and seed give the same clusters, so only a change of model or library moves it."""
MARGIN_OVER_PLAIN = 0.10
"""Measured on the same records at 0.7: plain Splink F1 0.14, plain Splink on
ICAO-transliterated names 0.28 (they cannot match across scripts, schemes and word orders)."""


@pytest.fixture(scope="module")
def synthetic():
    test_set = generate(persons=3000, seed=7)
    records = [Record(s, row["id"], row) for s, rows in test_set.sources.items() for row in rows]
    return test_set, records


@pytest.fixture(scope="module")
def linked(synthetic):
    _test_set, records = synthetic
    keys = prepare(record.fields for record in records)
    return keys, link(keys, DEFAULT_THRESHOLD)


def scores(test_set, records, labels):
    predicted = {(r.source, r.id): labels[i] for i, r in enumerate(records)}
    return pairwise_scores(predicted, test_set.truth)


def test_f1_on_the_synthetic_set_and_clearly_above_a_plain_model(synthetic, linked):
    test_set, records = synthetic
    _keys, result = linked
    ours = scores(test_set, records, result.clusters)
    rows = [r.fields for r in records]
    plain = scores(test_set, records, plain_clusters(rows, DEFAULT_THRESHOLD))
    latin = scores(test_set, records, plain_clusters(rows, DEFAULT_THRESHOLD, latin=True))
    print(f"refugium {ours}\nplain    {plain}\nlatin    {latin}")
    assert ours["f1"] >= F1_FLOOR
    assert ours["f1"] >= max(plain["f1"], latin["f1"]) + MARGIN_OVER_PLAIN


def test_constrained_clustering_beats_connected_components(synthetic, linked):
    """The reason clusters.py exists: connected components chains namesakes."""
    test_set, records = synthetic
    keys, result = linked
    scored = result.linker.inference.predict(threshold_match_probability=0.01)
    components = result.linker.clustering.cluster_pairwise_predictions_at_threshold(
        scored, threshold_match_probability=DEFAULT_THRESHOLD
    ).as_pandas_dataframe()
    chained = components.set_index("unique_id")["cluster_id"].sort_index()
    ours = scores(test_set, records, cluster(keys, result.pairs, DEFAULT_THRESHOLD))
    theirs = scores(test_set, records, chained)
    assert ours["precision"] > theirs["precision"] + 0.03


def test_clustering_refuses_contradictions(synthetic, linked):
    keys, result = linked
    members: dict[int, list[int]] = {}
    for unique_id, label in result.clusters.items():
        members.setdefault(label, []).append(unique_id)
    for ids in members.values():
        years = {int(y) for y in keys.birth_year.iloc[ids].dropna()}
        sexes = set(keys.sex.iloc[ids].dropna())
        for x in years:
            for y in years:  # a year apart, or two neighbouring digits swapped (1956 / 1965)
                assert abs(x - y) <= 1 or sorted(str(x)) == sorted(str(y)), (x, y)
        assert len(sexes) <= 1


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command, run where the user's lists are (so a spill to ./.tmp would show)."""
    return subprocess.run(
        [sys.executable, "-m", "refugium.cli", *args],
        capture_output=True, text=True, cwd=cwd, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )  # fmt: skip


def test_the_cli_default_threshold_is_the_models():
    assert DEFAULT_LINK_THRESHOLD == DEFAULT_THRESHOLD


def test_duckdb_never_spills_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An in-memory DuckDB spills to ./.tmp by default: plaintext names on disk."""
    monkeypatch.chdir(tmp_path)
    connection = model._connection()
    assert connection.execute("SELECT current_setting('temp_directory')").fetchone() == ("",)
    connection.execute("SET memory_limit = '30MB'")
    with pytest.raises(duckdb.OutOfMemoryException):
        connection.execute(
            "SELECT md5(range::VARCHAR) AS h, count(*) FROM range(3000000) GROUP BY h ORDER BY h"
        ).fetchall()
    assert os.listdir(tmp_path) == []


def test_link_command_end_to_end(tmp_path: Path):
    test_set = generate(persons=400, seed=11)
    inputs = test_set.write_csvs(tmp_path / "in")
    out, report = tmp_path / "clusters.csv", tmp_path / "review.html"
    before = set(os.listdir(tmp_path))
    result = run_cli(
        "link", *map(str, inputs), "--out", str(out), "--report", str(report), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "link: [" in result.stderr
    assert "persons at threshold 0.7" in result.stderr
    assert set(os.listdir(tmp_path)) - before == {"clusters.csv", "review.html"}
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["source", "id", "cluster"]
    expected = [(s, r["id"]) for s, source_rows in test_set.sources.items() for r in source_rows]
    assert [(s, i) for s, i, _ in rows[1:]] == expected
    labels = {(s, i): c for s, i, c in rows[1:]}
    assert pairwise_scores(labels, test_set.truth)["f1"] > 0.9
    page = report.read_text(encoding="utf-8")
    assert "Borderline pairs" in page
    assert "vegaEmbed" in page
    assert "<th>read as</th>" in page
    assert re.search(r"<td>same key</td><td>\+\d+\.\d</td>", page)  # each level's weight
    # Nothing fetched: a CDN script would tell a third party that someone reviews these names.
    assert re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?https?:""", page) is None


def test_link_command_refuses_bad_input_and_thresholds(tmp_path: Path):
    bad = tmp_path / "list.csv"
    bad.write_text("id,full_name\n1,A\n1,B\n", encoding="utf-8")
    result = run_cli("link", str(bad), "--out", str(tmp_path / "out.csv"), cwd=tmp_path)
    assert result.returncode == 2
    assert "list.csv: line 3: id '1' is also on line 2" in result.stderr
    assert not (tmp_path / "out.csv").exists()
    result = run_cli("link", str(bad), "--out", "x.csv", "--threshold", "1.5", cwd=tmp_path)
    assert result.returncode == 2
    assert "between 0 and 1" in result.stderr


def test_the_same_lists_give_the_same_clusters():
    """Reruns must not reshuffle persons: counts built on clusters.csv would drift."""
    rows = [r for rows in generate(persons=400, seed=5).sources.values() for r in rows]
    first = link(prepare(rows)).clusters
    second = link(prepare(rows)).clusters
    assert first.equals(second)


def test_lists_without_patronymics_or_dates_still_link():
    """Training must not depend on columns a list may lack (FEBRL has no patronymics)."""
    test_set = generate(persons=600, seed=9)
    rows, keys_of = [], []
    for source, source_rows in test_set.sources.items():
        for row in source_rows:
            rows.append({**row, "patronymic": "", "birth_date": ""})
            keys_of.append((source, row["id"]))
    labels = link(prepare(rows)).clusters
    predicted = {key: labels[i] for i, key in enumerate(keys_of)}
    assert pairwise_scores(predicted, test_set.truth)["f1"] > 0.5


def test_records_with_nothing_in_common_are_refused_clearly():
    rows = [{"full_name": name} for name in ("Хасуев", "Дудаев", "Басаев", "Умаров")]
    with pytest.raises(ValueError, match="too little in common"):
        link(prepare(rows))


def test_link_command_out_of_memory_is_a_clear_error(tmp_path: Path):
    """Never a traceback, never a spill: the user is told to link smaller lists."""
    inputs = generate(persons=200, seed=4).write_csvs(tmp_path / "in")
    script = (
        "import duckdb, sys\n"
        "from refugium.linkage import model\n"
        "real = model._connection\n"
        "def tight():\n"
        "    connection = real()\n"
        "    connection.execute(\"SET memory_limit = '2MB'\")\n"
        "    return connection\n"
        "model._connection = tight\n"
        "from refugium.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "link", *map(str, inputs), "--out", "out.csv"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "out of memory" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["in"]


def test_scoring_in_chunks_gives_the_same_clusters(monkeypatch: pytest.MonkeyPatch):
    """Large lists are scored in chunks to fit in memory; the answer must not change."""
    rows = [r for rows in generate(persons=400, seed=6).sources.values() for r in rows]
    keys = prepare(rows)
    whole = link(keys).clusters
    monkeypatch.setattr(model, "PREDICT_CHUNK_RECORDS", 400)
    assert link(keys).clusters.equals(whole)
