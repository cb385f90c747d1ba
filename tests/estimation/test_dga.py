"""dga (Madigan & York model averaging): the graphs, the two dga reference runs, the options."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from refugium.estimation import dga
from refugium.estimation.table import BadTable, CaptureTable, read_table

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mse"
REFERENCE_GRID = np.arange(1, 301)  # Nmissing = 1:300, as in the R runs
SPINA_PRIOR = dga.NegativeBinomial(a=13.14, b=55.17)


def _table(name: str) -> CaptureTable:
    return read_table(DATA / name)[None]


@pytest.fixture(scope="module")
def three() -> CaptureTable:
    return _table("dga_madigan_york_3lists.csv")


@pytest.fixture(scope="module")
def five() -> CaptureTable:
    return _table("dga_madigan_york_5lists.csv")


def _summary(post: dga.Posterior) -> tuple[float, ...]:
    return (post.mean, post.median, post.lower, post.upper, post.mode)


# ----------------------------------------------------------------------------- graphs


@pytest.mark.parametrize(("p", "count"), [(2, 2), (3, 8), (4, 61), (5, 822)])
def test_decomposable_graph_counts(p: int, count: int) -> None:
    assert len(dga.decomposable_graphs(p)) == count


@pytest.mark.parametrize("p", [2, 3, 4, 5])
def test_every_graph_is_a_junction_tree_of_its_cliques(p: int) -> None:
    for graph in dga.decomposable_graphs(p):
        # each list is counted once: in the cliques holding it minus the separators holding it
        for vertex in range(p):
            held = sum(vertex in c for c in graph.cliques) - sum(
                vertex in s for s in graph.separators
            )
            assert held == 1, graph
        # the cliques cover exactly the edges
        covered = {(i, j) for c in graph.cliques for i in c for j in c if i < j}
        assert covered == set(graph.edges), graph


def test_known_graphs_have_the_right_cliques_and_separators() -> None:
    by_edges = {g.edges: g for g in dga.decomposable_graphs(4)}
    path = by_edges[((0, 1), (1, 2), (2, 3))]
    assert path.cliques == ((0, 1), (1, 2), (2, 3))
    assert path.separators == ((1,), (2,))
    assert path.label() == "{1,2}{2,3}{3,4}"
    assert path.label(["a", "b", "c", "d"]) == "{a,b}{b,c}{c,d}"
    assert ((0, 1), (0, 3), (1, 2), (2, 3)) not in by_edges  # the 4-cycle has no chord
    chorded = by_edges[((0, 1), (0, 2), (0, 3), (1, 2), (2, 3))]
    assert chorded.cliques == ((0, 1, 2), (0, 2, 3))
    assert chorded.separators == ((0, 2),)
    star = next(g for g in dga.decomposable_graphs(5) if g.edges == ((0, 1), (0, 2), (0, 3)))
    assert star.cliques == ((0, 1), (0, 2), (0, 3), (4,))
    assert star.separators == ((0,), (0,))
    empty = dga.decomposable_graphs(3)[0]
    assert (empty.edges, empty.separators, empty.label()) == ((), (), "{1}{2}{3}")


# ----------------------------------------------------------------------------- references


def test_three_list_reference(three: CaptureTable) -> None:
    """dga 2.0.2 bma.cr(Y3, 1:300, 1, graphs3, NB log prior a = 13.14, b = 55.17)."""
    post = dga.posterior(three, delta=1, prior=SPINA_PRIOR, missing=REFERENCE_GRID)
    assert len(post.graphs) == 8
    assert _summary(post) == pytest.approx((733.5, 731, 682, 797, 728), rel=1e-3)
    assert post.probabilities.sum() == pytest.approx(1)
    assert post.graph_probabilities.sum() == pytest.approx(1)


def test_five_list_reference(five: CaptureTable) -> None:
    """dga 2.0.2 bma.cr(Y5, 1:300, 0.5, graphs5), default prior ∝ 1/N."""
    post = dga.posterior(five, delta=0.5, missing=REFERENCE_GRID)
    assert len(post.graphs) == 822
    assert _summary(post) == pytest.approx((617.8, 616, 588, 655, 614), rel=1e-3)


def test_five_lists_take_well_under_a_second(five: CaptureTable) -> None:
    dga.decomposable_graphs(5)  # enumerated once per process
    start = time.perf_counter()
    dga.posterior(five, delta=0.5, missing=REFERENCE_GRID)
    assert time.perf_counter() - start < 1.0


# ----------------------------------------------------------------------------- options


def test_a_prior_given_as_an_array_equals_the_named_prior(
    three: CaptureTable, five: CaptureTable
) -> None:
    n3 = (three.observed + REFERENCE_GRID).astype(np.float64)
    named = dga.posterior(three, delta=1, prior=SPINA_PRIOR, missing=REFERENCE_GRID)
    given = dga.posterior(three, delta=1, prior=SPINA_PRIOR.log_prior(n3), missing=REFERENCE_GRID)
    np.testing.assert_allclose(given.probabilities, named.probabilities, rtol=1e-12)
    n5 = (five.observed + REFERENCE_GRID).astype(np.float64)
    inverse = dga.posterior(five, delta=0.5, missing=REFERENCE_GRID)
    as_array = dga.posterior(five, delta=0.5, prior=-np.log(n5), missing=REFERENCE_GRID)
    np.testing.assert_allclose(as_array.probabilities, inverse.probabilities, rtol=1e-12)
    np.testing.assert_allclose(
        as_array.graph_probabilities, inverse.graph_probabilities, rtol=1e-12, atol=1e-300
    )
    uniform = dga.posterior(five, delta=0.5, prior="uniform", missing=REFERENCE_GRID)
    flat = dga.posterior(five, delta=0.5, prior=np.zeros(300), missing=REFERENCE_GRID)
    np.testing.assert_allclose(flat.probabilities, uniform.probabilities, rtol=1e-12)
    assert uniform.mean > inverse.mean  # 1/N pulls towards small N


def test_a_log_prior_of_minus_infinity_rules_those_n_out(five: CaptureTable) -> None:
    log_prior = -np.log((five.observed + REFERENCE_GRID).astype(np.float64))
    log_prior[150:] = -np.inf
    cut = dga.posterior(five, delta=0.5, prior=log_prior, missing=REFERENCE_GRID)
    short = dga.posterior(five, delta=0.5, missing=REFERENCE_GRID[:150])
    assert (cut.probabilities[150:] == 0).all()
    np.testing.assert_allclose(cut.probabilities[:150], short.probabilities, rtol=1e-12)
    np.testing.assert_allclose(cut.graph_probabilities, short.graph_probabilities, atol=1e-15)


def test_a_prior_array_of_the_wrong_length_is_refused(five: CaptureTable) -> None:
    with pytest.raises(ValueError, match="one value per grid point"):
        dga.posterior(five, prior=np.zeros(10), missing=REFERENCE_GRID)


def test_delta_changes_the_posterior(five: CaptureTable) -> None:
    small = dga.posterior(five, delta=0.5, missing=REFERENCE_GRID)
    large = dga.posterior(five, delta=4, missing=REFERENCE_GRID)
    # more prior weight per cell favours denser graphs and fills the zero cells: N shrinks
    assert large.median < small.median - 20
    assert not np.allclose(large.graph_probabilities, small.graph_probabilities, atol=1e-3)
    default = dga.posterior(five, missing=REFERENCE_GRID)
    assert default.delta == 2.0**-5
    assert default.median != small.median


def test_six_lists_are_refused() -> None:
    counts = np.ones(2**6, dtype=np.int64)
    counts[0] = 0
    table = CaptureTable(tuple(f"L{i}" for i in range(1, 7)), counts)
    with pytest.raises(BadTable, match="at most 5 lists"):
        dga.estimate(table)


def test_a_posterior_running_off_the_grid_is_warned_about(five: CaptureTable) -> None:
    assert dga.estimate(five, delta=0.5, missing=REFERENCE_GRID).warnings == ()
    short = dga.estimate(five, delta=0.5, missing=np.arange(0, 60))
    assert len(short.warnings) == 1
    assert "runs off the grid" in short.warnings[0]
    late = dga.estimate(five, delta=0.5, missing=np.arange(70, 300))
    assert "cuts the posterior off below" in " ".join(late.warnings)


def test_the_default_grid_grows_until_the_posterior_fits_on_it() -> None:
    hiv = _table("rcapture_hiv_rome_4lists.csv")  # N near 11,000: six times the observed
    short = dga.posterior(hiv, missing=dga.default_missing(hiv.observed))
    assert short.tail_share()[1] > dga.TRUNCATION_SHARE
    grown = dga.estimate(hiv)
    assert grown.warnings == ()
    assert grown.details["missing_grid"]["to"] > dga.default_missing(hiv.observed)[-1]
    assert grown.estimate > short.median


def test_scaling_the_counts_by_three_roughly_triples_the_median(five: CaptureTable) -> None:
    one = dga.estimate(five)
    tripled = dga.estimate(five.scaled(3))
    assert tripled.estimate / one.estimate == pytest.approx(3, rel=0.05)
    assert tripled.warnings == ()


def test_pruning_improbable_graphs_on_long_grids_changes_nothing(
    five: CaptureTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = five.scaled(8)  # a grid of 21,481 points, where most graphs are hopeless
    pruned = dga.posterior(big, delta=0.5)
    assert 0 < np.count_nonzero(pruned.graph_probabilities) < 822
    monkeypatch.setattr(dga, "PRUNE_FROM", 10**9)
    full = dga.posterior(big, delta=0.5)
    np.testing.assert_allclose(pruned.probabilities, full.probabilities, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(pruned.graph_probabilities, full.graph_probabilities, atol=1e-9)
    assert _summary(pruned) == pytest.approx(_summary(full), rel=1e-12)


def test_a_dominant_saturated_model_is_warned_about(five: CaptureTable) -> None:
    assert dga.estimate(five).warnings == ()
    # at twenty times the counts the empty cells become strong evidence of high-order
    # interactions, the complete graph wins, and N rests on the prior
    result = dga.estimate(five.scaled(20))
    assert any("saturated model" in warning for warning in result.warnings)
    assert result.model.endswith("most probable graph {1,2,3,4,5} (p = 1.00)")


def test_quantiles_follow_the_smallest_n_rule(five: CaptureTable) -> None:
    post = dga.posterior(five, delta=0.5, missing=REFERENCE_GRID)
    cumulative = np.cumsum(post.probabilities)
    for level in (0.1, 0.5, 0.9):
        n = post.quantile(level)
        index = int(np.flatnonzero(post.n == n)[0])
        assert cumulative[index] >= level
        assert index == 0 or cumulative[index - 1] < level
    assert (post.lower, post.median, post.upper) == (
        post.quantile(0.025),
        post.quantile(0.5),
        post.quantile(0.975),
    )


# ----------------------------------------------------------------------------- estimate


def test_estimate_carries_interval_model_details_and_curve(three: CaptureTable) -> None:
    result = dga.estimate(three, delta=1, prior=SPINA_PRIOR, missing=REFERENCE_GRID)
    assert (result.method, result.kind, result.observed) == ("dga", "posterior median", 626)
    assert (result.estimate, result.lower, result.upper) == (731, 682, 797)
    assert result.model.startswith("model average; most probable graph {1,2}{3} (p = 0.3")
    details = json.loads(json.dumps(result.as_json()))["details"]
    assert details["delta"] == 1
    assert details["prior"] == "negative binomial (a = 13.14, b = 55.17)"
    assert details["missing_grid"] == {"from": 1, "to": 300, "points": 300}
    assert details["mean"] == pytest.approx(733.5, rel=1e-3)
    assert details["mode"] == 728
    top = details["top_graphs"]
    assert len(top) == 5
    assert top[0]["graph"] == "{1,2}{3}"
    assert top[0]["lists"] == "{L1,L2}{L3}"
    assert [g["probability"] for g in top] == sorted((g["probability"] for g in top), reverse=True)
    assert result.curve is not None
    assert result.curve.label == "posterior"
    assert result.curve.height.max() == 1
    assert result.curve.n[0] == 627


def test_default_grid_reaches_five_times_the_observed(five: CaptureTable) -> None:
    post = dga.posterior(five)
    assert post.n[0] == five.observed
    assert post.n[-1] == five.observed + 5 * five.observed
