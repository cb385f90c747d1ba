"""The latent-class model (Manrique-Vallier 2016): seeded, diagnosed, and right about known N.

The statistician's check is a coverage study: populations of known size drawn from
latent-class models with heterogeneity and list dependence (``simulate.py``), and the share
of 95% intervals that hold the truth. The full study (≥ 50 replicates per scenario) is
``benchmarks/estimation_coverage.py``; here a seeded handful with shorter chains, bounded so
that a broken sampler fails (one that forgot the people on no list would put its median near
the observed count, a quarter below the truth, and cover almost never).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from refugium.estimation import lcmcr
from refugium.estimation.table import CaptureTable, read_table
from tests.estimation.simulate import SCENARIOS, LatentClass, missing_share, simulate

DATA = Path("../shared/data/mse")
# Shorter chains than the defaults, so the whole file runs in about a minute on 2 cores.
QUICK = {"iterations": 4_000, "burn_in": 2_000, "chains": 2}


@pytest.fixture(scope="module")
def five_lists() -> CaptureTable:
    return SCENARIOS["5x2000"].draw(np.random.default_rng(11))


# --- the sampler ------------------------------------------------------------------------------


def test_same_seed_same_draws(five_lists: CaptureTable) -> None:
    first = lcmcr.sample(five_lists, seed=3, iterations=500, burn_in=100, chains=2)
    second = lcmcr.sample(five_lists, seed=3, iterations=500, burn_in=100, chains=2)
    assert first.n.shape == (2, 50)
    np.testing.assert_array_equal(first.n, second.n)
    assert first.rhat == second.rhat
    assert first.ess == second.ess
    assert first.seed == 3


def test_other_seed_other_draws_and_chains_differ(five_lists: CaptureTable) -> None:
    first = lcmcr.sample(five_lists, seed=3, iterations=500, burn_in=100, chains=2)
    other = lcmcr.sample(five_lists, seed=4, iterations=500, burn_in=100, chains=2)
    assert not np.array_equal(first.n, other.n)
    assert not np.array_equal(first.n[0], first.n[1])


def test_no_seed_reports_the_one_it_used(five_lists: CaptureTable) -> None:
    run = lcmcr.sample(five_lists, iterations=200, burn_in=0, chains=1)
    again = lcmcr.sample(five_lists, seed=run.seed, iterations=200, burn_in=0, chains=1)
    np.testing.assert_array_equal(run.n, again.n)


def test_draws_are_whole_numbers_at_least_the_observed(five_lists: CaptureTable) -> None:
    run = lcmcr.sample(five_lists, seed=1, iterations=1_000, burn_in=200, chains=2)
    assert run.n.dtype == np.int64
    assert (run.n >= five_lists.observed).all()
    assert run.occupied.min() >= 1
    assert run.occupied.max() <= lcmcr.CLASSES


def test_too_few_draws_are_refused(five_lists: CaptureTable) -> None:
    with pytest.raises(ValueError, match="draws per chain"):
        lcmcr.sample(five_lists, iterations=30, thinning=10)
    with pytest.raises(ValueError, match="chain"):
        lcmcr.sample(five_lists, chains=0)


# --- diagnostics on hand examples -------------------------------------------------------------


def test_independent_draws_rhat_one_and_ess_the_number_of_draws() -> None:
    draws = np.random.default_rng(0).normal(size=(4, 1_000))
    assert lcmcr.rhat(draws) == pytest.approx(1.0, abs=0.01)
    assert lcmcr.ess(draws) == pytest.approx(4_000, rel=0.15)


def test_a_chain_stuck_elsewhere_gives_a_large_rhat() -> None:
    draws = np.random.default_rng(1).normal(size=(4, 1_000))
    draws[2] += 3.0
    assert lcmcr.rhat(draws) > 1.3
    assert lcmcr.ess(draws) < 400


def test_a_chain_with_another_spread_is_caught_by_the_folded_rhat() -> None:
    draws = np.random.default_rng(2).normal(size=(4, 1_000))
    draws[0] *= 4.0  # same centre, four times the spread: only the tails tell
    assert lcmcr.rhat(draws) > 1.05


def test_autocorrelated_draws_count_for_less() -> None:
    # AR(1) with φ = 0.9: ESS ≈ draws × (1 − φ) / (1 + φ) ≈ 4000 / 19 ≈ 211.
    rng = np.random.default_rng(3)
    phi, draws = 0.9, np.empty((4, 1_000))
    draws[:, 0] = rng.normal(size=4) / math.sqrt(1 - phi**2)
    for t in range(1, 1_000):
        draws[:, t] = phi * draws[:, t - 1] + rng.normal(size=4)
    assert lcmcr.ess(draws) == pytest.approx(4_000 * (1 - phi) / (1 + phi), rel=0.3)
    assert lcmcr.rhat(draws) < 1.02


def test_constant_draws_have_converged_trivially() -> None:
    draws = np.full((4, 100), 537)
    assert lcmcr.rhat(draws) == 1.0
    assert lcmcr.ess(draws) == 400


# --- the estimate -----------------------------------------------------------------------------


def test_estimate_keeps_its_interval_model_and_details(five_lists: CaptureTable) -> None:
    result = lcmcr.estimate(five_lists, seed=5, **QUICK)
    assert result.method == "lcmcr"
    assert result.kind == "posterior median"
    assert five_lists.observed < result.lower <= result.estimate <= result.upper
    assert result.observed == five_lists.observed
    assert result.model == "latent classes, K* = 10, α ~ Gamma(0.25, 0.25)"
    details = result.details
    assert details["seed"] == 5
    assert details["settings"]["iterations"] == 4_000
    assert details["settings"]["chains"] == 2
    assert details["draws"] == 2 * 4_000 // lcmcr.THINNING
    assert {"rhat", "ess", "mean", "iterations_per_second"} <= details.keys()
    json.dumps(result.as_json())  # JSON-serialisable, no NumPy scalars
    assert result.curve is not None
    assert result.curve.label == "posterior"
    assert result.curve.height.max() == 1.0
    assert result.curve.n.min() <= result.estimate <= result.curve.n.max()


def test_short_chains_warn_that_they_have_not_converged(five_lists: CaptureTable) -> None:
    result = lcmcr.estimate(five_lists, seed=1, iterations=50, burn_in=0, thinning=1)
    text = " ".join(result.warnings)
    assert "R-hat" in text or "effective draws" in text
    assert "more iterations" in text


def test_lists_that_barely_overlap_warn_of_a_long_tail() -> None:
    # Three lists of about 200 people with a handful in common: the data cannot bound N.
    table = CaptureTable.from_patterns(
        ("a", "b", "c"),
        [((1, 0, 0), 200), ((0, 1, 0), 190), ((0, 0, 1), 210), ((1, 1, 0), 1), ((0, 1, 1), 1)],
    )
    result = lcmcr.estimate(table, seed=2, **QUICK)
    assert any("long upper tail" in warning for warning in result.warnings)


def test_seeds_agree_within_two_percent_on_the_median() -> None:
    table = SCENARIOS["4x10000"].draw(np.random.default_rng(7))
    medians = [
        lcmcr.estimate(table, seed=seed, iterations=6_000, burn_in=3_000).estimate
        for seed in (1, 2, 3)
    ]
    assert max(medians) / min(medians) - 1 < 0.02, medians


def test_coverage_of_the_95_percent_interval_on_simulated_populations() -> None:
    """15 populations (3, 4 and 5 lists, N = 2,000): the truth inside the interval in at
    least 12 (P(fewer) ≈ 0.5% for a calibrated 95% interval), every median within 12% of the
    truth and the mean absolute error under 5%. A sampler that ignored the people on no list
    (a quarter of each population) would fail all three."""
    root = np.random.SeedSequence(2026)
    covered, errors = 0, []
    for key, sequence in zip(("3x2000", "4x2000", "5x2000"), root.spawn(3), strict=True):
        scenario = SCENARIOS[key]
        for seed, child in enumerate(sequence.spawn(5)):
            table = scenario.draw(np.random.default_rng(child))
            result = lcmcr.estimate(table, seed=seed, **QUICK)
            covered += result.lower <= scenario.n <= result.upper
            errors.append((result.estimate - scenario.n) / scenario.n)
    assert covered >= 12, (covered, errors)
    assert max(abs(e) for e in errors) < 0.12, errors
    assert np.mean(np.abs(errors)) < 0.05, errors


def test_one_class_is_the_independence_model() -> None:
    """With K* = 1 the model is Mt (lists independent, everyone alike), whose maximum-likelihood
    N̂ on the Allegheny County table is 3,738.5 (Rcapture ``closedp.t``, analysis.md §2.3); the
    posterior under flat priors and p(N) ∝ 1/N must sit on it."""
    table = read_table(DATA / "rcapture_lesbian_allegheny_4lists.csv")[None]
    result = lcmcr.estimate(table, seed=1, classes=1, **QUICK)
    assert result.estimate == pytest.approx(3_738.5, rel=0.02)
    assert result.lower < 3_738.5 < result.upper
    assert result.model == "latent classes, K* = 1, α ~ Gamma(0.25, 0.25)"


@pytest.mark.parametrize(
    "name", ["dga_madigan_york_5lists.csv", "rcapture_hiv_rome_4lists.csv"], ids=["M&Y", "HIV"]
)
def test_real_tables_give_a_finite_median_above_the_observed(name: str) -> None:
    table = read_table(DATA / name)[None]
    result = lcmcr.estimate(table, seed=1, **QUICK)
    assert math.isfinite(result.estimate)
    assert result.estimate > table.observed
    assert math.isfinite(result.upper)


# --- the simulation helpers -------------------------------------------------------------------


def test_simulate_draws_exactly_n_people_and_drops_the_unseen() -> None:
    classes = (LatentClass(0.4, (0.6, 0.5, 0.2)), LatentClass(0.6, (0.2, 0.2, 0.4)))
    shares = []
    for seed in range(20):
        table = simulate(np.random.default_rng(seed), 5_000, 3, classes)
        assert table.counts[0] == 0
        assert table.observed <= 5_000
        shares.append(1 - table.observed / 5_000)
    assert np.mean(shares) == pytest.approx(missing_share(classes), abs=0.01)
    with pytest.raises(ValueError, match="3 capture probabilities"):
        simulate(np.random.default_rng(0), 10, 3, (LatentClass(1.0, (0.5, 0.5)),))


def test_scenarios_cover_three_to_five_lists_and_several_sizes() -> None:
    assert {s.k for s in SCENARIOS.values()} == {3, 4, 5}
    assert {s.n for s in SCENARIOS.values()} == {500, 2_000, 10_000}
    for scenario in SCENARIOS.values():
        assert 0.15 < missing_share(scenario.classes) < 0.35
