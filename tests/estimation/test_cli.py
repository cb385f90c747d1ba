"""``refugium estimate`` as a user's script runs it: the JSON contract, strata, plots, errors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from tests.cli_runner import refugium

MSE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mse"
CONTRACT = {"method", "estimate", "lower", "upper", "observed", "model", "warnings"}


def estimate(tmp_path: Path, *args: str):
    return refugium(tmp_path / "no-data", "estimate", *args)


def as_json(tmp_path: Path, *args: str) -> list[dict]:
    done = estimate(tmp_path, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_method_gives_the_contracts_object(tmp_path: Path) -> None:
    results = as_json(
        tmp_path, str(MSE / "dga_madigan_york_3lists.csv"), "--seed", "1", "--iterations", "2000"
    )
    assert [r["method"] for r in results] == ["loglinear", "lcmcr", "dga"]
    for result in results:
        assert set(result) >= CONTRACT
        assert result["observed"] == 626
        assert result["stratum"] is None
        assert result["lower"] <= result["estimate"] <= result["upper"]
        assert 626 < result["estimate"] < 1000
        assert result["model"]
    assert [r["kind"] for r in results] == ["mle", "posterior median", "posterior median"]
    assert results[1]["details"]["seed"] == 1


def test_one_seed_repeats_the_sampler_exactly(tmp_path: Path) -> None:
    args = (str(MSE / "dga_madigan_york_3lists.csv"), "--method", "lcmcr", "--seed", "7")
    first = as_json(tmp_path, *args, "--iterations", "1000")
    again = as_json(tmp_path, *args, "--iterations", "1000")
    other = as_json(tmp_path, *args[:-1], "8", "--iterations", "1000")
    strip = [{k: v for k, v in r.items() if k != "details"} for r in first]
    assert strip == [{k: v for k, v in r.items() if k != "details"} for r in again]
    assert first[0]["details"]["seed"] == 7
    assert other[0]["details"]["seed"] == 8


def test_each_stratum_then_all_pooled(tmp_path: Path) -> None:
    results = as_json(
        tmp_path,
        str(MSE / "conting_spina_bifida_3lists_by_ethnicity.csv"),
        "--strata",
        "eth",
        "--method",
        "dga",
    )
    assert [(r["stratum"], r["observed"]) for r in results] == [
        ("caucasian", 583),
        ("afro-american", 36),
        ("other", 2),
        (None, 621),
    ]
    # conting's reversible-jump run on these strata gave 727.1 (681-780) for the total.
    assert 681 <= results[-1]["estimate"] <= 780
    assert any("more than one list" in w for w in results[2]["warnings"])


def test_human_output_and_plot(tmp_path: Path) -> None:
    plot = tmp_path / "curves.png"
    done = estimate(
        tmp_path, str(MSE / "rcapture_hiv_rome_4lists.csv"), "--method", "loglinear",
        "--plot", str(plot),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "loglinear" in done.stdout
    assert "1,896" in done.stdout
    assert "(MLE)" in done.stdout
    assert "never report it without its interval" in done.stdout
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png"]


def test_a_plot_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    done = estimate(
        tmp_path, str(MSE / "dga_madigan_york_3lists.csv"), "--method", "dga",
        "--plot", str(tmp_path / "missing" / "curves.png"),
    )  # fmt: skip
    assert done.returncode == 2
    assert "cannot write the plot" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_tables_are_refused_with_the_line(tmp_path: Path) -> None:
    table = tmp_path / "lists.csv"
    table.write_text("a,b,count\n1,0,5\n0,1,x\n", encoding="utf-8")
    done = estimate(tmp_path, str(table))
    assert done.returncode == 2
    assert "line 3: count 'x' is not a whole number" in done.stderr
    assert done.stdout == ""
    missing = estimate(tmp_path, str(tmp_path / "nothing.csv"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr


def test_a_method_that_cannot_run_is_an_error_alone_and_a_note_among_others(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(6)
    path = tmp_path / "six.csv"
    rows = [
        ",".join(map(str, (*pattern, int(rng.integers(5, 40)))))
        for pattern in itertools.product((0, 1), repeat=6)
        if any(pattern)
    ]
    path.write_text("a,b,c,d,e,f,count\n" + "\n".join(rows) + "\n", encoding="utf-8")
    alone = estimate(tmp_path, str(path), "--method", "dga")
    assert alone.returncode == 2
    assert "at most 5 lists" in alone.stderr
    results = as_json(tmp_path, str(path), "--seed", "2", "--iterations", "500")
    dga = next(r for r in results if r["method"] == "dga")
    assert dga["estimate"] is None
    assert dga["lower"] is None
    assert dga["warnings"][0].startswith("not estimated: 6 lists")
    assert all(r["estimate"] is not None for r in results if r["method"] != "dga")


def test_linked_records_from_refugium_link(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    lines = ["source,id,cluster"]
    for person in range(400):
        on = [s for s, p in (("ngo", 0.5), ("press", 0.4), ("un", 0.3)) if rng.random() < p]
        lines += [f"{source},{source}-{person},{person}" for source in on]
    path = tmp_path / "clusters.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (result,) = as_json(tmp_path, str(path), "--method", "loglinear")
    assert result["observed"] == len({line.split(",")[2] for line in lines[1:]})
    assert result["lower"] <= 400 <= result["upper"]


@pytest.mark.parametrize("bad", ["-1", "x"])
def test_a_seed_is_a_whole_number_from_zero(tmp_path: Path, bad: str) -> None:
    done = estimate(tmp_path, str(MSE / "dga_madigan_york_3lists.csv"), "--seed", bad)
    assert done.returncode == 2
    assert "--seed" in done.stderr


def test_too_few_iterations_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    args = (str(MSE / "dga_madigan_york_3lists.csv"), "--method", "lcmcr", "--iterations", "10")
    done = estimate(tmp_path, *args)
    assert done.returncode == 2
    assert "at least 4 are needed" in done.stderr
    assert "internal error" not in done.stderr
