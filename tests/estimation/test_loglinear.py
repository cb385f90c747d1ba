"""Log-linear models against the frozen Rcapture and statsmodels numbers of the shared MSE data.

The reference values are in ``../shared/data/mse/README.md`` and ``shared/research/analysis.md``
§§1.4, 2.3, 2.4 (Rcapture 1.4-4 and statsmodels 0.15.0 runs). Everything is compared to
1e-4 relative. Rcapture prints N̂ and interval ends to one decimal, so 12,308 and 10,266 are
12,308.0 and 10,266.0 rounded (this code gives 12,308.03 and 10,265.99).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refugium.estimation import loglinear
from refugium.estimation.loglinear import Fit, estimate, fit, parse_model, profile_interval, search
from refugium.estimation.table import BadTable, CaptureTable, read_table

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mse"
REL = 1e-4


def table(name: str) -> CaptureTable:
    return read_table(DATA / name)[None]


@pytest.fixture(scope="module")
def hiv() -> CaptureTable:
    return table("rcapture_hiv_rome_4lists.csv")


@pytest.fixture(scope="module")
def lesbian() -> CaptureTable:
    return table("rcapture_lesbian_allegheny_4lists.csv")


def near(value: float, reference: float) -> bool:
    """Within 1e-4 relative of the reference."""
    return value == pytest.approx(reference, rel=REL)


# ---------------------------------------------------------------- reference fits

# (file, model name, N̂, deviance, df, BIC, SE); None where the reference gives no value.
REFERENCE = [
    ("rcapture_hiv_rome_4lists.csv", "Mt", 11124.6, 13.026, 10, 117.800, 904.8),
    ("rcapture_hiv_rome_4lists.csv", "[12,3,4]", 12318.5, 7.614, 9, 119.935, 1188.7),
    ("rcapture_lesbian_allegheny_4lists.csv", "Mt", 3738.5, 174.809, 10, 305.609, None),
    ("rcapture_lesbian_allegheny_4lists.csv", "Mt + Darroch", 6963.7, 98.134, 9, 236.623, None),
    (
        "rcapture_lesbian_allegheny_4lists.csv",
        "[12,13,14] + Darroch",
        7030.7,
        7.240,
        6,
        168.797,
        687.2,
    ),
    (
        "rcapture_lesbian_allegheny_4lists.csv",
        "[13,14,2] + Darroch",
        7479.0,
        15.747,
        7,
        169.614,
        None,
    ),
    (
        "rcapture_lesbian_allegheny_4lists.csv",
        "[14,2,3] + Darroch",
        7423.0,
        23.865,
        8,
        170.043,
        None,
    ),
]


@pytest.mark.parametrize(
    ("name", "model", "n_hat", "deviance", "df", "bic", "se"),
    REFERENCE,
    ids=[f"{r[0].split('_')[1]}-{r[1]}" for r in REFERENCE],
)
def test_reference_fit(
    name: str,
    model: str,
    n_hat: float,
    deviance: float,
    df: int,
    bic: float,
    se: float | None,
) -> None:
    data = table(name)
    terms, heterogeneity = parse_model(data.k, model)
    result = fit(data, terms, heterogeneity)
    assert result.model == model
    assert result.converged
    assert result.identifiable
    assert result.warnings == ()
    assert near(result.n_hat, n_hat)
    assert near(result.deviance, deviance)
    assert result.df == df
    assert near(result.bic, bic)
    assert result.n_hat == pytest.approx(data.observed + result.n0, rel=1e-12)
    if se is not None:
        assert near(result.se, se)


def test_criteria_are_counted_as_rcapture_counts_them(lesbian: CaptureTable) -> None:
    result = fit(lesbian, [(0, 1), (0, 2), (0, 3)], "darroch")
    assert result.parameters == 9  # intercept, 4 main effects, 3 interactions, Darroch's h
    assert result.df == 15 - 9
    assert result.bic == pytest.approx(-2 * result.loglik + math.log(2185) * 9, rel=1e-12)
    assert result.aic == pytest.approx(-2 * result.loglik + 2 * 9, rel=1e-12)


def test_names_use_list_positions_and_round_trip() -> None:
    assert loglinear.model_name(4, [(0, 1), (0, 2), (0, 3)], "darroch") == "[12,13,14] + Darroch"
    assert loglinear.model_name(4, [(0, 2), (0, 3)], "none") == "[13,14,2]"
    assert loglinear.model_name(4, [(0, 3)], "poisson") == "[14,2,3] + Poisson"
    assert loglinear.model_name(4, [(1, 0), (0, 1, 2)], "none") == "[123,4]"
    assert loglinear.model_name(4, [], "darroch") == "Mt + Darroch"
    assert loglinear.model_name(11, [(0, 9)], "none") == "[1:10,2,3,4,5,6,7,8,9,11]"
    assert parse_model(4, "Mth Darroch") == ((), "darroch")
    assert parse_model(4, "[12,13,14] + Darroch") == (((0, 1), (0, 2), (0, 3)), "darroch")
    assert parse_model(4, "[123, 4] Poisson2") == (((0, 1, 2),), "poisson")
    for k, terms, family in [(4, ((0, 1), (2, 3)), "none"), (11, ((0, 9), (2, 10)), "poisson")]:
        assert parse_model(k, loglinear.model_name(k, terms, family)) == (terms, family)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("[12,3]", "list 4 is in no term"),
        ("[15,2,3,4]", "there is no list 5"),
        ("[12,3,4] + Chao", "not Darroch or Poisson"),
        ("Mh", "write it as Rcapture does"),
        ("Mth", "needs a heterogeneity"),
    ],
)
def test_unknown_model_names_are_refused(hiv: CaptureTable, name: str, message: str) -> None:
    with pytest.raises(BadTable, match=message):
        estimate(hiv, model=name)


# ---------------------------------------------------------------- the trap


def test_an_interaction_always_brings_its_main_effects(hiv: CaptureTable) -> None:
    """c1:c2 without c2 gives 2,614.0 in an R or statsmodels formula; here it cannot happen."""
    result = fit(hiv, [(0, 1)])
    assert result.model == "[12,3,4]"
    assert near(result.n_hat, 12318.5)
    assert not near(result.n_hat, 2614.0)
    # The trap itself, reproduced with statsmodels: main effects 1, 3, 4 and c1:c2, no c2.
    patterns = hiv.patterns().astype(np.float64)
    trap = np.column_stack(
        [
            np.ones(15),
            patterns[:, 0],
            patterns[:, 2],
            patterns[:, 3],
            patterns[:, 0] * patterns[:, 1],
        ]
    )
    wrong = sm.GLM(hiv.observed_counts(), trap, family=sm.families.Poisson()).fit()
    assert near(hiv.observed + math.exp(wrong.params[0]), 2614.0)
    assert near(wrong.deviance, 1208.200)


# ---------------------------------------------------------------- against statsmodels


def design(data: CaptureTable, columns: list[tuple[int, ...]], h: str) -> np.ndarray:
    """An independent design matrix: intercept, then one product column per listed term."""
    patterns = data.patterns().astype(np.float64)
    built = [np.ones(len(patterns))]
    built += [np.prod(patterns[:, list(term)], axis=1) for term in columns]
    captures = patterns.sum(axis=1)
    if h == "darroch":
        built.append(captures**2 / 2)
    elif h == "poisson":
        built.append(2.0**captures - 1)
    return np.column_stack(built)


@pytest.mark.parametrize(
    ("name", "terms", "h", "columns"),
    [
        ("rcapture_hiv_rome_4lists.csv", [], "none", [(0,), (1,), (2,), (3,)]),
        ("rcapture_hiv_rome_4lists.csv", [(0, 1)], "poisson", [(0,), (1,), (2,), (3,), (0, 1)]),
        (
            "rcapture_lesbian_allegheny_4lists.csv",
            [(0, 1, 2)],
            "none",
            [(0,), (1,), (2,), (3,), (0, 1), (0, 2), (1, 2), (0, 1, 2)],
        ),
        (
            "rcapture_lesbian_allegheny_4lists.csv",
            [(0, 1), (0, 2), (0, 3)],
            "darroch",
            [(0,), (1,), (2,), (3,), (0, 1), (0, 2), (0, 3)],
        ),
        (
            "dga_madigan_york_5lists.csv",
            [(0, 1), (0, 2), (3, 4)],
            "poisson",
            [(0,), (1,), (2,), (3,), (4,), (0, 1), (0, 2), (3, 4)],
        ),
        (
            "dga_madigan_york_3lists.csv",
            [(0, 1), (1, 2)],
            "none",
            [(0,), (1,), (2,), (0, 1), (1, 2)],
        ),
    ],
)
def test_newton_fit_matches_statsmodels(
    name: str, terms: list[tuple[int, ...]], h: str, columns: list[tuple[int, ...]]
) -> None:
    data = table(name)
    ours = fit(data, terms, h)  # type: ignore[arg-type]
    reference = sm.GLM(
        data.observed_counts().astype(np.float64),
        design(data, columns, h),
        family=sm.families.Poisson(),
    ).fit(tol=1e-14, maxiter=200)
    assert ours.n0 == pytest.approx(math.exp(reference.params[0]), rel=1e-8)
    assert ours.deviance == pytest.approx(reference.deviance, rel=1e-8, abs=1e-10)
    assert ours.loglik == pytest.approx(reference.llf, rel=1e-10)
    assert ours.parameters == len(reference.params)
    assert ours.df == int(reference.df_resid)
    intercept_se = math.sqrt(reference.cov_params()[0, 0])
    n0 = ours.n0
    assert ours.se == pytest.approx(math.sqrt(n0 + n0**2 * intercept_se**2), rel=1e-6)


# ---------------------------------------------------------------- search


def test_candidate_sets_are_rcaptures() -> None:
    """closedpMS.t fits every hierarchical model with terms up to maxorder = k - 1."""
    assert len(loglinear.hierarchical_models(3, 2)) == 8
    assert len(loglinear.hierarchical_models(4, 2)) == 64
    assert len(loglinear.hierarchical_models(4, 3)) == 113
    assert len(loglinear.hierarchical_models(5, 3)) == 6212
    assert loglinear.hierarchical_models(4, 3)[0] == ()


def test_lesbian_darroch_ranking_is_rcaptures(lesbian: CaptureTable) -> None:
    ranked = search(lesbian, heterogeneity="darroch")
    # 113 candidates less the 16 with every pairwise term, to which Darroch's h is collinear.
    assert len(ranked) == 97
    top = [(f.model, f.n_hat, f.bic) for f in ranked[:3]]
    expected = [
        ("[12,13,14] + Darroch", 7030.7, 168.797),
        ("[13,14,2] + Darroch", 7479.0, 169.614),
        ("[14,2,3] + Darroch", 7423.0, 170.043),
    ]
    for (model, n_hat, bic), (ref_model, ref_n, ref_bic) in zip(top, expected, strict=True):
        assert model == ref_model
        assert near(n_hat, ref_n)
        assert near(bic, ref_bic)
    assert [f.bic for f in ranked] == sorted(f.bic for f in ranked)


def test_default_search_considers_every_family_and_picks_darroch(lesbian: CaptureTable) -> None:
    ranked = search(lesbian)
    assert {f.heterogeneity for f in ranked} == {"none", "darroch", "poisson"}
    assert ranked[0].model == "[12,13,14] + Darroch"
    assert search(lesbian, criterion="aic")[0].aic == min(f.aic for f in ranked)


def test_max_order_two_leaves_out_three_way_terms(hiv: CaptureTable) -> None:
    ranked = search(hiv, heterogeneity="none", max_order=2)
    assert all(len(term) == 2 for f in ranked for term in f.terms)
    assert len(ranked) == 64


def test_search_skips_models_that_cannot_be_identified(hiv: CaptureTable) -> None:
    ranked = search(hiv)
    assert all(f.identifiable and math.isfinite(f.bic) for f in ranked)
    names = {f.model for f in ranked}
    assert "[12,13,14,23,24,34] + Darroch" not in names  # h is a sum of those columns
    assert "[123,124,134,234] + Poisson" not in names  # 16 parameters, 15 cells


def test_stepwise_search_beyond_five_lists_is_deterministic() -> None:
    rng = np.random.default_rng(6)
    captured = rng.random((3000, 6)) < np.array([0.3, 0.25, 0.2, 0.35, 0.3, 0.25])
    captured[:600, 1] |= captured[:600, 0]  # lists 1 and 2 share a source for some people
    rows = [(tuple(int(v) for v in row), 1) for row in captured if row.any()]
    data = CaptureTable.from_patterns([f"L{j}" for j in range(6)], rows)
    first = search(data, heterogeneity="none")
    second = search(data, heterogeneity="none")
    assert [f.model for f in first] == [f.model for f in second]
    assert (0, 1) in first[0].terms
    assert len(first) < len(loglinear.hierarchical_models(6, 2))


# ---------------------------------------------------------------- profile likelihood


def test_hiv_profile_interval_is_rcaptures(hiv: CaptureTable) -> None:
    """closedpCI.t(HIV, mX = ~ . + c1:c2): 12,308 (10,266-14,992.3), printed to 0.1."""
    n_hat, lower, upper, curve = profile_interval(hiv, fit(hiv, [(0, 1)]))
    assert near(n_hat, 12308.0)
    assert near(lower, 10266.0)
    assert near(upper, 14992.3)
    assert curve.label == "profile likelihood"
    assert curve.height.max() == pytest.approx(1.0, abs=1e-3)
    assert curve.n.min() < lower < upper < curve.n.max()
    peak = curve.n[np.argmax(curve.height)]
    assert abs(peak - n_hat) < (curve.n[1] - curve.n[0])


def test_estimate_reports_the_multinomial_estimate_and_details(hiv: CaptureTable) -> None:
    result = estimate(hiv, model="[12,3,4]")
    assert result.method == "loglinear"
    assert result.kind == "mle"
    assert result.model == "[12,3,4]"
    assert result.observed == 1896
    assert near(result.estimate, 12308.0)
    assert near(result.lower, 10266.0)
    assert near(result.upper, 14992.3)
    details = result.details
    assert near(details["poisson_estimate"], 12318.5)
    assert near(details["poisson_se"], 1188.7)
    assert details["criterion"] == "bic"
    assert details["selected_by"] == "user"
    assert len(details["ranking"]) == 10
    assert details["ranking"][0]["model"] == "Mt"
    json.dumps(result.as_json())  # serialisable, with no NaN
    assert result.curve is not None


def test_estimate_selects_by_bic_by_default(lesbian: CaptureTable) -> None:
    result = estimate(lesbian)
    assert result.model == "[12,13,14] + Darroch"
    assert result.lower < result.estimate < result.upper
    assert near(result.details["poisson_estimate"], 7030.7)
    assert near(result.details["poisson_se"], 687.2)
    assert result.details["ranking"][1]["model"] == "[13,14,2] + Darroch"


# ---------------------------------------------------------------- warnings


def test_empty_margin_is_fitted_at_the_boundary_with_a_warning() -> None:
    data = CaptureTable.from_patterns(
        "ABC",
        [((1, 0, 0), 40), ((0, 1, 0), 35), ((0, 0, 1), 30), ((1, 0, 1), 12), ((0, 1, 1), 9)],
    )
    result = fit(data, [(0, 1)])
    assert result.converged
    assert any("nobody is on all of 'A', 'B'" in w for w in result.warnings)
    # On the cells left, [12,3] is Mt: people on both A and B are fitted as zero.
    assert result.n_hat == pytest.approx(fit(data).n_hat, rel=0.5)
    assert math.isfinite(result.n_hat)


def test_empty_list_is_named() -> None:
    data = CaptureTable.from_patterns("ABC", [((1, 0, 0), 40), ((0, 1, 0), 35), ((1, 1, 0), 10)])
    result = fit(data)
    assert any("list 'C' is empty" in w for w in result.warnings)


def test_saturated_and_all_list_models_are_flagged(hiv: CaptureTable) -> None:
    three_way = [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)]
    saturated = fit(table("rcapture_lesbian_allegheny_4lists.csv"), three_way)
    assert saturated.df == 0
    assert any("fits them exactly" in w for w in saturated.warnings)
    everything = fit(hiv, [(0, 1, 2, 3)])
    assert not everything.identifiable
    assert math.isnan(everything.n_hat)
    assert "not identifiable" in everything.warnings[0]
    assert "interaction of all lists" in everything.warnings[0]
    with pytest.raises(BadTable, match="not identifiable"):
        estimate(hiv, model="[1234]")
    collinear = fit(hiv, [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)], "darroch")
    assert not collinear.identifiable


def test_huge_estimate_and_no_overlap_are_flagged(hiv: CaptureTable) -> None:
    darroch = fit(hiv, [], "darroch")
    assert darroch.n_hat > 10 * hiv.observed
    assert any("very little overlap" in w for w in darroch.warnings)
    apart = CaptureTable.from_patterns("AB", [((1, 0), 60), ((0, 1), 55)])
    result = fit(apart)
    assert not result.converged
    assert any("did not converge" in w for w in result.warnings)
    with pytest.raises(BadTable, match="no finite estimate"):
        estimate(apart)


def test_open_interval_is_flagged(monkeypatch: pytest.MonkeyPatch, hiv: CaptureTable) -> None:
    monkeypatch.setattr(loglinear, "_upper", lambda *args: math.inf)
    result = estimate(hiv, model="[12,3,4]")
    assert result.upper == math.inf
    assert any("open at the top" in w for w in result.warnings)
    assert result.as_json()["upper"] is None


class _FlatProfile:
    """A profile that levels off above the cut-off: the data cannot bound N from above."""

    n = 100.0

    def __call__(self, total: float) -> float:
        return -1.0 + 1.0 / total


def test_a_profile_that_never_falls_far_enough_gives_an_open_interval() -> None:
    assert loglinear._upper(_FlatProfile(), 200.0, 0.0, 1.92) == math.inf  # type: ignore[arg-type]


def test_empty_margins_that_leave_too_few_patterns_are_not_identifiable(
    hiv: CaptureTable,
) -> None:
    """HIV has nobody on lists 1, 3 and 4 together; with every three-way term, 13 cells are
    left for 14 parameters."""
    result = fit(hiv, [(0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)])
    assert not result.identifiable
    assert "empty margins" in result.warnings[0]
    assert "[123,124,134,234]" not in {f.model for f in search(hiv, heterogeneity="none")}


# ---------------------------------------------------------------- properties


three_lists = st.lists(st.integers(1, 60), min_size=7, max_size=7)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    counts=three_lists,
    factor=st.integers(2, 9),
    model=st.sampled_from(loglinear.hierarchical_models(3, 2)),
    h=st.sampled_from(["none", "darroch", "poisson"]),
)
def test_scaling_the_counts_scales_the_estimate(
    counts: list[int], factor: int, model: tuple[tuple[int, ...], ...], h: str
) -> None:
    data = CaptureTable(("A", "B", "C"), np.array([0, *counts], dtype=np.int64))
    once: Fit = fit(data, model, h)  # type: ignore[arg-type]
    scaled: Fit = fit(data.scaled(factor), model, h)  # type: ignore[arg-type]
    assert once.identifiable == scaled.identifiable
    if once.identifiable and once.converged:
        assert scaled.n_hat == pytest.approx(factor * once.n_hat, rel=1e-6)
        assert scaled.deviance == pytest.approx(factor * once.deviance, rel=1e-6, abs=1e-6)


def test_scaling_the_counts_scales_the_profile_estimate(hiv: CaptureTable) -> None:
    once = profile_interval(hiv, fit(hiv, [(0, 1)]))[0]
    thrice = profile_interval(hiv.scaled(3), fit(hiv.scaled(3), [(0, 1)]))[0]
    assert thrice == pytest.approx(3 * once, rel=2e-3)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_independent_list_does_not_move_the_estimate_beyond_its_interval(seed: int) -> None:
    """Each person is on each list with a fixed probability: independence (Mt) holds.

    The model is fixed at Mt, the model the simulation obeys: with selection by BIC a chance
    interaction can be picked up (seed 3 selects [12,3,4] on four lists), which moves the
    estimate for reasons of model choice, not of the fourth list.
    """
    rng = np.random.default_rng(seed)
    people = 3000
    captured = rng.random((people, 4)) < np.array([0.25, 0.2, 0.3, 0.15])
    before = estimate(_from_rows(captured[:, :3]), model="Mt")
    after = estimate(_from_rows(captured), model="Mt")
    assert before.lower <= after.estimate <= before.upper
    assert after.lower <= before.estimate <= after.upper
    assert after.upper - after.lower < before.upper - before.lower  # a list adds information


def _from_rows(captured: np.ndarray) -> CaptureTable:
    k = captured.shape[1]
    masks = captured.astype(np.int64) @ (1 << np.arange(k))
    counts = np.bincount(masks, minlength=2**k).astype(np.int64)
    counts[0] = 0
    return CaptureTable(tuple(f"L{j + 1}" for j in range(k)), counts)
