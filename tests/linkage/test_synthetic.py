"""The synthetic linkage test set: reproducible, complete, hard where it should be, scored right."""

from __future__ import annotations

import csv
import itertools
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.linkage.synthetic import COLUMNS, TestSet, generate, pairwise_scores

SOURCES = ("ngo_list", "press", "un_list", "hotline")
GENDERS = {"", "male", "female", "m", "f", "М", "Ж"}


@pytest.fixture(scope="module")
def test_set() -> TestSet:
    return generate(persons=3000, seed=7)


def _rows_by_person(test_set: TestSet, source: str) -> dict[int, list[dict[str, str]]]:
    by_person: dict[int, list[dict[str, str]]] = defaultdict(list)
    for row in test_set.sources[source]:
        by_person[test_set.truth[(source, row["id"])]].append(row)
    return by_person


def test_same_seed_gives_same_rows() -> None:
    first, second = generate(persons=400, seed=3), generate(persons=400, seed=3)
    assert first.sources == second.sources
    assert first.truth == second.truth


def test_another_seed_gives_other_rows() -> None:
    assert generate(persons=400, seed=3).sources != generate(persons=400, seed=4).sources


def test_more_sources_keep_the_first_ones() -> None:
    four, six = generate(persons=300, sources=4), generate(persons=300, sources=6)
    assert list(six.sources) == [*SOURCES, "source5", "source6"]
    assert all(six.sources[name] == four.sources[name] for name in SOURCES)
    assert six.sources["source5"][0]["id"].startswith("S5-")


def test_every_row_is_complete_and_known(test_set: TestSet) -> None:
    assert list(test_set.sources) == list(SOURCES)
    keys = set()
    for source, rows in test_set.sources.items():
        ids = [row["id"] for row in rows]
        assert len(ids) == len(set(ids)), source
        for row in rows:
            assert tuple(row) == COLUMNS
            assert all(isinstance(value, str) for value in row.values())
            assert row["gender"] in GENDERS
            assert row["full_name"] or (row["given_name"] and row["family_name"])
        keys.update((source, row_id) for row_id in ids)
    assert keys == set(test_set.truth)


def test_persons_appear_in_several_sources(test_set: TestSet) -> None:
    sources_per_person = Counter(person for _source, person in set(
        (source, person) for (source, _id), person in test_set.truth.items()
    ))  # fmt: skip
    spread = Counter(sources_per_person.values())
    assert set(spread) == {1, 2, 3, 4}
    assert spread[4] > 0.2 * len(sources_per_person)


def test_ids_are_shuffled(test_set: TestSet) -> None:
    persons = [test_set.truth[("ngo_list", row["id"])] for row in test_set.sources["ngo_list"]]
    assert persons != sorted(persons)


def test_within_source_duplicates_exist(test_set: TestSet) -> None:
    for source in SOURCES:
        by_person = _rows_by_person(test_set, source)
        twice = sum(1 for rows in by_person.values() if len(rows) > 1)
        assert 0.01 * len(test_set.sources[source]) < twice < 0.04 * len(test_set.sources[source])


def test_brothers_are_hard_negatives(test_set: TestSet) -> None:
    """Different persons with the same family name and patronymic (siblings) are common."""
    by_family = defaultdict(set)
    for row in test_set.sources["ngo_list"]:
        if row["patronymic"]:
            person = test_set.truth[("ngo_list", row["id"])]
            by_family[(row["family_name"], row["patronymic"])].add(person)
    pairs = sum(len(persons) * (len(persons) - 1) // 2 for persons in by_family.values())
    assert pairs >= 200


def test_namesakes_are_hard_negatives(test_set: TestSet) -> None:
    """Different persons with identical given and family name, as written by the NGO."""
    by_name = defaultdict(set)
    for row in test_set.sources["ngo_list"]:
        person = test_set.truth[("ngo_list", row["id"])]
        by_name[(row["given_name"], row["family_name"])].add(person)
    assert sum(1 for persons in by_name.values() if len(persons) > 1) >= 50


def test_family_names_are_skewed(test_set: TestSet) -> None:
    """A few clan names cover many persons, so term-frequency weighting matters."""
    counts = Counter(row["family_name"] for row in test_set.sources["ngo_list"])
    top, *_ = counts.most_common(1)
    median = sorted(counts.values())[len(counts) // 2]
    assert top[1] > 0.02 * len(test_set.sources["ngo_list"])
    assert top[1] > 10 * median


def test_spellings_vary_between_sources(test_set: TestSet) -> None:
    """The press and the UN list spell the same person differently for many persons."""
    press = _rows_by_person(test_set, "press")
    un = _rows_by_person(test_set, "un_list")
    both = press.keys() & un.keys()
    differ = 0
    for person in both:
        un_words = set(un[person][0]["full_name"].casefold().split())
        if not set(press[person][0]["full_name"].casefold().split()) <= un_words:
            differ += 1
    assert 0.2 * len(both) < differ < 0.9 * len(both)


def test_sources_keep_their_habits(test_set: TestSet) -> None:
    ngo, press = test_set.sources["ngo_list"], test_set.sources["press"]
    un, hotline = test_set.sources["un_list"], test_set.sources["hotline"]
    assert all(not row["full_name"] and row["family_name"] for row in ngo)
    assert any(ch in "IlL1" for row in ngo for ch in row["given_name"] + row["patronymic"])
    assert all(row["full_name"].isascii() or "’" in row["full_name"] for row in un)
    assert all(row["full_name"].split()[0].isupper() for row in un)
    assert all(not row["given_name"] for row in press + un)
    assert any("ow" in row["full_name"] for row in press)  # German-style spelling
    assert any(row["family_name"].endswith(".") for row in hotline)  # initials
    assert any(row["given_name"] in {"Зелим", "Мага", "Саша"} for row in hotline)
    assert any(not row["full_name"].isascii() for row in hotline)
    assert any(row["full_name"].isascii() and row["full_name"] for row in hotline)
    dates = [row["birth_date"] for row in un]
    assert all(len(d) in (7, 10) for d in dates)


def test_csvs_round_trip(test_set: TestSet, tmp_path: Path) -> None:
    paths = test_set.write_csvs(tmp_path / "out")
    assert [path.name for path in paths] == [f"{name}.csv" for name in SOURCES]
    for path, (_name, rows) in zip(paths, test_set.sources.items(), strict=True):
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            assert tuple(reader.fieldnames or ()) == COLUMNS
            assert list(reader) == rows


# --- Scores -------------------------------------------------------------------------------------

TRUTH = {("a", "1"): 1, ("a", "2"): 1, ("b", "1"): 1, ("b", "2"): 2, ("b", "3"): 2, ("c", "1"): 3}


def test_perfect_clustering_scores_one() -> None:
    scores = pairwise_scores({key: f"p{person}" for key, person in TRUTH.items()}, TRUTH)
    assert scores == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "true_pairs": 4,
        "predicted_pairs": 4,
        "tp": 4,
    }


def test_singletons_recall_nothing() -> None:
    scores = pairwise_scores({key: key for key in TRUTH}, TRUTH)
    assert scores["recall"] == 0.0
    assert scores["f1"] == 0.0
    assert scores["predicted_pairs"] == 0
    assert pairwise_scores({}, TRUTH) == scores  # missing records are singletons


def test_one_cluster_is_imprecise() -> None:
    scores = pairwise_scores(dict.fromkeys(TRUTH, "all"), TRUTH)
    assert scores["recall"] == 1.0
    assert scores["predicted_pairs"] == 15
    assert scores["precision"] == pytest.approx(4 / 15)


def test_unknown_predicted_record_is_refused() -> None:
    with pytest.raises(ValueError, match="not in the truth"):
        pairwise_scores({("z", "9"): 1}, TRUTH)


def test_counting_equals_enumeration() -> None:
    """On a small set, counted scores equal the scores over enumerated pairs."""
    small = generate(persons=150, seed=11)
    # A flawed clustering: merges neighbouring persons, splits the hotline off.
    predicted = {
        key: (person // 3, key[0] == "hotline" and person % 2)
        for key, person in small.truth.items()
    }
    clusters: dict[object, list[tuple[str, str]]] = defaultdict(list)
    for key, label in predicted.items():
        clusters[label].append(key)
    predicted_pairs = {
        frozenset(pair) for keys in clusters.values() for pair in itertools.combinations(keys, 2)
    }
    true_pairs = small.true_pairs()
    tp = len(predicted_pairs & true_pairs)
    scores = pairwise_scores(predicted, small.truth)
    assert scores["tp"] == tp
    assert scores["predicted_pairs"] == len(predicted_pairs)
    assert scores["true_pairs"] == len(true_pairs)
    assert scores["precision"] == pytest.approx(tp / len(predicted_pairs))
    assert scores["recall"] == pytest.approx(tp / len(true_pairs))
    assert 0.0 < scores["f1"] < 1.0
