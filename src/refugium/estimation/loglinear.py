"""Log-linear models for capture-recapture: the classic frequentist estimate and its interval.

Several incomplete lists of the same people overlap; how much they overlap says how many
people no list holds. A log-linear model (Fienberg 1972) describes the counts of the
``2**k - 1`` observable patterns of list membership with main effects (how big each list is),
interactions (lists that share sources, so that being on one makes being on the other more or
less likely) and optionally a heterogeneity term (some people are simply easier to document).
The model is fitted as a Poisson GLM to the observed cells; its intercept is the log of the
expected count of the one cell nobody can see, the people on no list, so
``N̂ = n + exp(intercept)``.

Everything here follows what Rcapture (Baillargeon & Rivest 2007) reports, re-implemented from
the published descriptions only (Rcapture is GPL; its code was not read):

- **Models** are hierarchical: a model is named by its *generating class*, the maximal
  interaction terms, and every subset of a term is in the model. All main effects are always
  present, so the trap of writing ``c1:c2`` without ``c2`` (which silently drops a main effect
  and turns 12,318.5 into 2,614.0 on the HIV table) cannot be built.
- **Names** use Rcapture's bracket notation with list *positions* 1..k (the first column of the
  table is 1): ``[12,13,14]`` is lists 1-2, 1-3 and 1-4 interacting, ``[13,14,2]`` adds list 2
  on its own, and independence is ``Mt``. From ten lists on, positions may have two digits,
  so the positions inside a term are joined by colons (``[1:10,2:3,4,...]``). Heterogeneity
  is appended: ``[12,13,14] + Darroch`` adds the covariate ``h = c**2 / 2``, ``+ Poisson``
  adds ``h = 2**c - 1`` (Rcapture's default Poisson2), where ``c`` is the number of lists a
  pattern is on.
- **Criteria** are Rcapture's: ``AIC = -2 loglik + 2 p`` and ``BIC = -2 loglik + ln(n) p`` with
  the full Poisson log-likelihood, ``p`` the number of parameters including the intercept and
  ``n`` the number of people observed.
- **The interval** is Rcapture's multinomial profile likelihood (Cormack 1992): for each
  candidate N the model is refitted to the complete table with ``N - n`` people in the unseen
  cell; the 95% interval holds every N whose likelihood ratio to the best N stays within the
  χ²₁ quantile 3.8415. The point estimate reported is the N at the top of that profile, as
  Rcapture's ``closedpCI.t`` reports it; the Poisson N̂ and its standard error are kept in the
  details.

Thousands of models are fitted in a model search, so the Poisson fit is a Newton-Raphson
iteration written in NumPy and run on many models at once (checked against statsmodels in the
tests). Counts of zero are treated exactly: when a term's marginal count is zero its parameter
is at minus infinity, the cells it covers are fitted as zero and the fit is done on the rest;
the researcher is told.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from scipy import optimize, special, stats  # type: ignore[import-untyped]  # no scipy-stubs

from refugium.estimation.result import Curve, Estimate, json_number
from refugium.estimation.table import BadTable, CaptureTable

__all__ = [
    "Fit",
    "estimate",
    "fit",
    "model_name",
    "parse_model",
    "profile_interval",
    "search",
]

Heterogeneity = Literal["none", "darroch", "poisson"]
HeterogeneityChoice = Literal["none", "darroch", "poisson", "all"]
Criterion = Literal["bic", "aic"]
Term = tuple[int, ...]
FloatArray = npt.NDArray[np.float64]

HETEROGENEITIES: Final[tuple[Heterogeneity, ...]] = ("none", "darroch", "poisson")
HETEROGENEITY_NAMES: Final[dict[Heterogeneity, str]] = {
    "none": "",
    "darroch": "Darroch",
    "poisson": "Poisson",
}
ENUMERATE_UP_TO: Final = 5
"""Up to this many lists every hierarchical model is fitted; beyond, a stepwise search."""
HUGE_RATIO: Final = 10.0
"""Warn when N̂ is more than this many times the observed count."""
TOP_MODELS: Final = 10
"""Models listed in an estimate's details."""
MAX_ITERATIONS: Final = 100
STEP_TOLERANCE: Final = 1e-10
VANISHING: Final = 1e-8
"""A fitted count this small (in people) means a parameter ran off to infinity."""
UNBOUNDED: Final = 1e6
"""A Poisson N̂ beyond this many times n is taken as unbounded when searching the profile."""
BATCH: Final = 2048
"""At most this many models are fitted together."""
BATCH_FLOATS: Final = 2**24
"""And their design matrices hold at most this many numbers (128 MB), for many lists."""


@dataclass(frozen=True)
class Fit:
    """One log-linear model fitted to one table.

    ``terms`` is the generating class with 0-based list indices (interactions only: main
    effects are always in); ``model`` its name in Rcapture's notation with 1-based positions.
    ``n_hat = observed + n0`` is the Poisson estimate, ``se`` its standard error. ``parameters``
    counts the intercept, main effects, interactions and heterogeneity covariate; ``df`` is the
    number of observed cells minus that. ``identifiable`` is False when the model has more
    parameters than the observed cells can determine; such a fit carries no estimate.
    """

    model: str
    terms: tuple[Term, ...]
    heterogeneity: Heterogeneity
    n_hat: float
    n0: float
    deviance: float
    df: int
    loglik: float
    aic: float
    bic: float
    parameters: int
    converged: bool
    warnings: tuple[str, ...]
    se: float = math.nan
    identifiable: bool = True


# ---------------------------------------------------------------- models and their names


def generating_class(k: int, terms: Iterable[Sequence[int]]) -> tuple[Term, ...]:
    """The maximal interaction terms of ``terms`` (0-based, sorted); main effects dropped."""
    found: set[Term] = set()
    for term in terms:
        members = tuple(sorted({int(j) for j in term}))
        if len(members) != len(tuple(term)):
            raise BadTable(f"term {tuple(term)} names a list twice")
        bad = [j for j in members if not 0 <= j < k]
        if bad:
            raise BadTable(f"term {tuple(term)}: list index {bad[0]} is not in 0..{k - 1}")
        if len(members) >= 2:
            found.add(members)
    masks = {sum(1 << j for j in term): term for term in found}
    maximal = [t for m, t in masks.items() if not any(o != m and o & m == m for o in masks)]
    return tuple(sorted(maximal))


def closure(terms: Iterable[Term]) -> tuple[int, ...]:
    """Bit masks of every interaction of order ≥ 2 implied by a generating class, sorted."""
    masks: set[int] = set()
    for term in terms:
        for order in range(2, len(term) + 1):
            for subset in combinations(term, order):
                masks.add(sum(1 << j for j in subset))
    return tuple(sorted(masks, key=lambda m: (m.bit_count(), m)))


def model_name(k: int, terms: Iterable[Sequence[int]], heterogeneity: Heterogeneity) -> str:
    """Rcapture's bracket name: ``[12,13,14]``, ``[13,14,2]``, ``Mt``, ``Mt + Darroch``."""
    base = _bracket(k, generating_class(k, terms))
    suffix = HETEROGENEITY_NAMES[heterogeneity]
    return f"{base} + {suffix}" if suffix else base


@functools.lru_cache(maxsize=65536)
def _bracket(k: int, generators: tuple[Term, ...]) -> str:
    """The bracket part of a name: generators and the lists in none of them, sorted."""
    if not generators:
        return "Mt"
    covered = {j for term in generators for j in term}
    parts = sorted([*generators, *((j,) for j in range(k) if j not in covered)])
    separator = ":" if k >= 10 else ""
    return "[" + ",".join(separator.join(str(j + 1) for j in term) for term in parts) + "]"


_NAME = re.compile(r"^\s*(?P<base>Mth?|\[[^\]]*\])\s*(?:\+?\s*(?P<h>[A-Za-z]+2?))?\s*$")


def parse_model(k: int, name: str) -> tuple[tuple[Term, ...], Heterogeneity]:
    """The generating class and heterogeneity of a model name (the inverse of model_name).

    Accepts ``Mt``, ``Mth Darroch``, ``Mt + Poisson``, ``[12,3,4]``, ``[12,13,14] + Darroch``.
    """
    match = _NAME.match(name)
    if match is None:
        raise BadTable(
            f"model {name!r}: write it as Rcapture does, e.g. 'Mt', '[12,3,4]' or "
            "'[12,13,14] + Darroch' (list positions 1..k)"
        )
    heterogeneity = _parse_heterogeneity(name, match.group("h"))
    base = match.group("base")
    if base == "Mth" and heterogeneity == "none":
        raise BadTable(f"model {name!r}: Mth needs a heterogeneity, e.g. 'Mth Darroch'")
    if base.startswith("M"):
        return (), heterogeneity
    terms = [_parse_term(k, name, part) for part in base[1:-1].split(",")]
    covered = [j for term in terms for j in term]
    missing = [j + 1 for j in range(k) if j not in covered]
    if missing:
        raise BadTable(
            f"model {name!r}: list {missing[0]} is in no term; Rcapture's names list every "
            f"list, e.g. add ',{missing[0]}'"
        )
    return generating_class(k, terms), heterogeneity


def _parse_heterogeneity(name: str, word: str | None) -> Heterogeneity:
    if word is None:
        return "none"
    for heterogeneity, label in HETEROGENEITY_NAMES.items():
        if label and word.lower() in (label.lower(), label.lower() + "2"):
            return heterogeneity
    raise BadTable(f"model {name!r}: heterogeneity {word!r} is not Darroch or Poisson")


def _parse_term(k: int, name: str, text: str) -> Term:
    text = text.strip()
    digits = text.split(":") if k >= 10 else list(text)
    if not text or not all(d.isdigit() for d in digits):
        raise BadTable(f"model {name!r}: term {text!r} is not a list of list positions")
    positions = [int(d) for d in digits]
    bad = [p for p in positions if not 1 <= p <= k]
    if bad:
        raise BadTable(f"model {name!r}: there is no list {bad[0]} (positions are 1..{k})")
    if len(set(positions)) != len(positions):
        raise BadTable(f"model {name!r}: term {text!r} names a list twice")
    return tuple(sorted(p - 1 for p in positions))


# ---------------------------------------------------------------- design matrices


def _cell_masks(k: int, complete: bool) -> npt.NDArray[np.int64]:
    return np.arange(0 if complete else 1, 2**k, dtype=np.int64)


def _heterogeneity_column(k: int, heterogeneity: Heterogeneity, complete: bool) -> FloatArray:
    captures = np.array([int(m).bit_count() for m in _cell_masks(k, complete)], dtype=np.float64)
    if heterogeneity == "darroch":
        return captures**2 / 2.0
    return 2.0**captures - 1.0


def _columns(k: int, interactions: Sequence[int]) -> list[int]:
    """Term masks of a model's columns: 0 (the intercept), main effects, interactions.

    Column ``m`` is 1 in the cells of everyone on all the lists of ``m``; a heterogeneity
    covariate, if any, follows as the last column.
    """
    return [0, *(1 << j for j in range(k)), *interactions]


BANK_UP_TO: Final = 8
"""Up to this many lists every possible column is computed once and models pick from it."""


@functools.lru_cache(maxsize=2 * BANK_UP_TO)
def _bank(k: int, complete: bool) -> FloatArray:
    """Every column a model on k lists can have: one per term mask, then Darroch, Poisson."""
    cells = _cell_masks(k, complete)
    masks = np.arange(2**k)
    terms = ((cells[:, None] & masks[None, :]) == masks[None, :]).astype(np.float64)
    bank = np.column_stack(
        [
            terms,
            _heterogeneity_column(k, "darroch", complete),
            _heterogeneity_column(k, "poisson", complete),
        ]
    )
    bank.flags.writeable = False
    return bank


def _design(
    k: int, interactions: Sequence[int], heterogeneity: Heterogeneity, complete: bool = False
) -> FloatArray:
    """The design matrix of a model over the observed cells (or all cells if ``complete``)."""
    masks = _columns(k, interactions)
    if heterogeneity != "none":
        masks.append(2**k + HETEROGENEITIES.index(heterogeneity) - 1)
    if k <= BANK_UP_TO:
        picked: FloatArray = _bank(k, complete)[:, masks]
        return picked
    cells = _cell_masks(k, complete)
    terms = np.array(masks[: len(masks) - (heterogeneity != "none")], dtype=np.int64)
    x: FloatArray = ((cells[:, None] & terms[None, :]) == terms[None, :]).astype(np.float64)
    if heterogeneity != "none":
        x = np.column_stack([x, _heterogeneity_column(k, heterogeneity, complete)])
    return x


# ---------------------------------------------------------------- the Poisson fit


@dataclass(frozen=True)
class _Batch:
    """Poisson fits of many models at once; arrays are (models, ...)."""

    beta: FloatArray
    mu: FloatArray
    converged: npt.NDArray[np.bool_]


def _linear(x: FloatArray, beta: FloatArray) -> FloatArray:
    """``x @ beta`` for every model: (models, cells)."""
    result: FloatArray = np.matmul(x, beta[:, :, None])[:, :, 0]
    return result


def _dropped(x: FloatArray, cells: FloatArray) -> FloatArray:
    """1 on the diagonal for columns with no cell left in the fit, so they stay at zero."""
    models, _, p = x.shape
    padding = (np.abs(x) * cells[:, :, None]).sum(axis=1) == 0
    ridge = np.zeros((models, p, p))
    ridge[:, np.arange(p), np.arange(p)] = padding
    return ridge


def _information(x: FloatArray, mu: FloatArray, ridge: FloatArray) -> FloatArray:
    """Fisher information ``X' diag(mu) X`` of every model (plus the dropped columns' ridge)."""
    result: FloatArray = np.matmul(np.transpose(x, (0, 2, 1)) * mu[:, None, :], x) + ridge
    return result


def _newton(
    x: FloatArray,
    y: FloatArray,
    cells: FloatArray,
    start: FloatArray | None = None,
) -> _Batch:
    """Maximise the Poisson log-likelihood of every model in the batch by Newton-Raphson.

    ``x`` is (models, cells, parameters); columns with no cell in the fit (parameters sent to
    minus infinity by an empty margin) stay at zero. ``cells`` is 1 for the cells in each
    model's fit and 0 for cells fitted as exactly zero. For the log link Newton's method is
    IRLS; a step that would lower the likelihood is halved, so every model climbs.
    """
    ridge = _dropped(x, cells)
    beta = _start(x, y, cells, ridge) if start is None else start.copy()
    converged = np.zeros(x.shape[0], dtype=bool)
    active = np.arange(x.shape[0])
    for _ in range(MAX_ITERATIONS):
        xa, ca, ba = x[active], cells[active], beta[active]
        mu = np.exp(np.minimum(_linear(xa, ba), 700.0)) * ca
        score = np.matmul(np.transpose(xa, (0, 2, 1)), ((y - mu) * ca)[:, :, None])
        step = _solve(_information(xa, mu, ridge[active]), score)
        new = _halve(xa, y, ca, ba, step)
        broken = ~np.isfinite(new).all(axis=1)
        new[broken] = ba[broken]
        beta[active] = new
        change = np.abs(new - ba).max(axis=1)
        done = change <= STEP_TOLERANCE * (1.0 + np.abs(new).max(axis=1))
        converged[active[done & ~broken]] = True
        active = active[~(done | broken)]
        if active.size == 0:
            break
    mu_all = np.exp(np.minimum(_linear(x, beta), 700.0)) * cells
    vanishing = ((mu_all < VANISHING) & (cells > 0)).any(axis=1)
    return _Batch(beta, mu_all, converged & ~vanishing)


def _solve(a: FloatArray, b: FloatArray) -> FloatArray:
    """Newton steps ``a⁻¹ b`` per model; a least-squares step where ``a`` is singular.

    A Hessian turns singular when fitted counts underflow to zero as a parameter runs off to
    infinity; the pseudo-inverse then steps along the directions that are still determined.
    """
    try:
        return np.asarray(np.linalg.solve(a, b)[:, :, 0], dtype=np.float64)
    except np.linalg.LinAlgError:
        steps = [np.linalg.lstsq(a[m], b[m, :, 0], rcond=None)[0] for m in range(a.shape[0])]
        return np.asarray(np.stack(steps), dtype=np.float64)


def _start(x: FloatArray, y: FloatArray, cells: FloatArray, ridge: FloatArray) -> FloatArray:
    """One weighted least-squares step from ``mu = y + 0.1``, as R's glm starts."""
    mu = (y + 0.1) * cells
    z = np.log(y + 0.1)
    xtw = np.transpose(x, (0, 2, 1)) * mu[:, None, :]
    rhs = np.matmul(xtw, np.broadcast_to(z[None, :, None], (x.shape[0], z.size, 1)))
    return _solve(np.matmul(xtw, x) + ridge, rhs)


def _loglik_kernel(x: FloatArray, y: FloatArray, cells: FloatArray, beta: FloatArray) -> FloatArray:
    eta = _linear(x, beta)
    value: FloatArray = ((y * eta - np.exp(np.minimum(eta, 700.0))) * cells).sum(axis=1)
    return value


def _halve(
    x: FloatArray, y: FloatArray, cells: FloatArray, beta: FloatArray, step: FloatArray
) -> FloatArray:
    """Newton steps, halved for models where the full step would lower the likelihood."""
    before = _loglik_kernel(x, y, cells, beta)
    scale = np.ones(beta.shape[0])
    for _ in range(30):
        after = _loglik_kernel(x, y, cells, beta + scale[:, None] * step)
        worse = ~(after >= before - 1e-12 * np.abs(before))
        if not worse.any():
            break
        scale[worse] /= 2.0
    result: FloatArray = beta + scale[:, None] * step
    return result


# ---------------------------------------------------------------- from a fit to a Fit


@dataclass(frozen=True)
class _Spec:
    """A model to fit: generating class, its implied interactions (bit masks), heterogeneity."""

    generators: tuple[Term, ...]
    interactions: tuple[int, ...]
    heterogeneity: Heterogeneity


def _name(k: int, spec: _Spec) -> str:
    suffix = HETEROGENEITY_NAMES[spec.heterogeneity]
    base = _bracket(k, spec.generators)
    return f"{base} + {suffix}" if suffix else base


def _spec(k: int, terms: Iterable[Sequence[int]], heterogeneity: Heterogeneity) -> _Spec:
    if heterogeneity not in HETEROGENEITIES:
        raise BadTable(f"heterogeneity {heterogeneity!r}: choose none, darroch or poisson")
    generators = generating_class(k, terms)
    return _Spec(generators, closure(generators), heterogeneity)


def _margins(table: CaptureTable) -> npt.NDArray[np.int64]:
    """For every mask m, how many people are on all the lists in m (a superset sum)."""
    margins = table.counts.copy()
    cells = np.arange(2**table.k)
    for j in range(table.k):
        without = cells[(cells >> j & 1) == 0]
        margins[without] += margins[without | (1 << j)]
    return margins


def _describe(table: CaptureTable, mask: int) -> str:
    names = [table.lists[j] for j in range(table.k) if mask >> j & 1]
    if len(names) == 1:
        return f"list {names[0]!r} is empty"
    return "nobody is on all of " + ", ".join(repr(n) for n in names)


def _prepare(
    table: CaptureTable,
    spec: _Spec,
    complete: bool,
    margins: npt.NDArray[np.int64] | None = None,
) -> tuple[FloatArray, FloatArray, list[str]]:
    """Design, cell mask and warnings of one model, with empty margins fitted as zeros."""
    x = _design(table.k, spec.interactions, spec.heterogeneity, complete)
    cells = _cell_masks(table.k, complete)
    keep = np.ones(cells.size)
    margins = _margins(table) if margins is None else margins
    zero = [m for m in _columns(table.k, spec.interactions)[1:] if margins[m] == 0]
    warnings = []
    for mask in zero:
        keep[(cells & mask) == mask] = 0.0
        if not any(other != mask and (mask & other) == other for other in zero):
            warnings.append(
                f"{_describe(table, mask)}: that term's parameter is at minus infinity (the "
                "fit is at a boundary) and every pattern including it is fitted as zero"
            )
    return x, keep, warnings


def _free(x: FloatArray, keep: FloatArray) -> bool:
    """Whether the parameters left after an empty margin are determined by the cells left."""
    used = x[keep > 0]
    used = used[:, np.abs(used).sum(axis=0) > 0]
    return bool(int(np.linalg.matrix_rank(used)) == used.shape[1])


@dataclass(frozen=True)
class _Stats:
    """Rcapture's statistics of a batch of fits, one entry per model."""

    n0: FloatArray
    deviance: FloatArray
    loglik: FloatArray
    se: FloatArray


def _statistics(y: FloatArray, x: FloatArray, keep: FloatArray, batch: _Batch) -> _Stats:
    """Deviance, full Poisson log-likelihood and the SE of N̂ for every model of a batch.

    The SE is that of the Poisson N̂ = n + n0 with n0 = exp(intercept): the delta method on
    the intercept plus n0's own Poisson variance, ``n0 + n0² var(intercept)``, which
    reproduces Rcapture's standard errors (1,188.7 for the HIV model [12,3,4]).
    """
    mu = batch.mu
    n0 = np.exp(batch.beta[:, 0])
    safe_mu = np.where(y > 0, np.maximum(mu, 1e-300), 1.0)
    y_log_y = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0).sum()
    y_log_mu = (np.where(y > 0, y, 0.0) * np.log(safe_mu)).sum(axis=1)
    deviance = 2.0 * (y_log_y - y_log_mu - y.sum() + mu.sum(axis=1))
    loglik = y_log_mu - mu.sum(axis=1) - special.gammaln(y + 1.0).sum()
    variance = _intercept_variance(_information(x, mu, _dropped(x, keep)))
    se = np.sqrt(np.maximum(n0 + n0**2 * variance, 0.0))
    return _Stats(n0, np.maximum(deviance, 0.0), loglik, se)


def _intercept_variance(information: FloatArray) -> FloatArray:
    """The intercept's variance per model; NaN where the information is singular."""
    try:
        return np.asarray(np.linalg.inv(information)[:, 0, 0], dtype=np.float64)
    except np.linalg.LinAlgError:
        variance = np.full(information.shape[0], np.nan)
        for m, matrix in enumerate(information):
            with contextlib.suppress(np.linalg.LinAlgError):
                variance[m] = np.linalg.inv(matrix)[0, 0]
        return variance


def _result(
    table: CaptureTable,
    spec: _Spec,
    stats_: _Stats,
    row: int,
    converged: bool,
    warnings: list[str],
    parameters: int,
) -> Fit:
    """One model's :class:`Fit` with Rcapture's criteria."""
    n = table.observed
    n0 = float(stats_.n0[row])
    loglik = float(stats_.loglik[row])
    df = 2**table.k - 1 - parameters
    return Fit(
        model=_name(table.k, spec),
        terms=spec.generators,
        heterogeneity=spec.heterogeneity,
        n_hat=n + n0,
        n0=n0,
        deviance=float(stats_.deviance[row]),
        df=df,
        loglik=loglik,
        aic=-2.0 * loglik + 2.0 * parameters,
        bic=-2.0 * loglik + math.log(n) * parameters,
        parameters=parameters,
        converged=converged,
        warnings=(*warnings, *_fit_warnings(table, parameters, df, converged, n + n0)),
        se=float(stats_.se[row]),
    )


def _fit_warnings(
    table: CaptureTable, parameters: int, df: int, converged: bool, n_hat: float
) -> list[str]:
    warnings = []
    if df == 0:
        warnings.append(
            f"the model has {parameters} parameters for {2**table.k - 1} observed patterns: it "
            "fits them exactly, so nothing in the data checks it"
        )
    if not converged:
        warnings.append(
            "the fit did not converge: some parameter drifts towards infinity, usually because "
            "a pattern the model needs is empty; treat this estimate as unreliable"
        )
    if n_hat > HUGE_RATIO * table.observed:
        warnings.append(
            f"the estimate is {n_hat / table.observed:,.0f} times the {table.observed:,} people "
            "observed: it rests on very little overlap between the lists"
        )
    return warnings


def _unidentifiable(table: CaptureTable, spec: _Spec, parameters: int, empty: bool) -> Fit:
    """A model whose parameters the observed cells cannot determine: no estimate, one warning."""
    size = 2**table.k - 1
    if (1 << table.k) - 1 in spec.interactions:
        reason = (
            "it includes the interaction of all lists, which is exactly what the people on no "
            "list would reveal"
        )
    elif empty:
        reason = (
            "once the patterns of its empty margins are fitted as zero, the patterns left "
            "cannot tell its remaining parameters apart"
        )
    else:
        reason = (
            f"its {parameters} parameters cannot all be told apart from {size} observed "
            "patterns (some are combinations of others)"
        )
    return Fit(
        model=_name(table.k, spec),
        terms=spec.generators,
        heterogeneity=spec.heterogeneity,
        n_hat=math.nan,
        n0=math.nan,
        deviance=math.nan,
        df=size - parameters,
        loglik=math.nan,
        aic=math.nan,
        bic=math.nan,
        parameters=parameters,
        converged=False,
        warnings=(f"the number of people on no list is not identifiable in this model: {reason}",),
        identifiable=False,
    )


def fit(
    table: CaptureTable,
    terms: Iterable[tuple[int, ...]] = (),
    heterogeneity: Heterogeneity = "none",
) -> Fit:
    """Fit one hierarchical model; ``terms`` are interactions with 0-based list indices.

    Main effects are always in, and every subset of a term too: ``[(0, 1)]`` is the model
    ``[12,3,4]`` of four lists (Mt plus the interaction of lists 1 and 2).
    """
    return _fit_specs(table, [_spec(table.k, terms, heterogeneity)])[0]


def _fit_specs(table: CaptureTable, specs: Sequence[_Spec]) -> list[Fit]:
    """Fit many models, in batches of models with the same number of parameters."""
    margins = _margins(table)
    y = table.observed_counts().astype(np.float64)
    results: list[Fit | None] = [None] * len(specs)
    by_width: dict[int, list[int]] = {}
    for i, spec in enumerate(specs):
        width = 1 + table.k + len(spec.interactions) + (spec.heterogeneity != "none")
        by_width.setdefault(width, []).append(i)
    for width, members in sorted(by_width.items()):
        size = max(1, min(BATCH, BATCH_FLOATS // (y.size * width)))
        for start in range(0, len(members), size):
            chunk = members[start : start + size]
            prepared = {i: _prepare(table, specs[i], False, margins) for i in chunk}
            ranks = _ranks(table.k, [specs[i] for i in chunk], [prepared[i][0] for i in chunk])
            good = []
            for i, rank in zip(chunk, ranks, strict=True):
                x, keep, _ = prepared[i]
                if rank < width:
                    results[i] = _unidentifiable(table, specs[i], width, empty=False)
                elif not (keep.all() or _free(x, keep)):
                    results[i] = _unidentifiable(table, specs[i], width, empty=True)
                else:
                    good.append(i)
            if good:
                _fit_batch(table, specs, prepared, good, y, results)
    return [r for r in results if r is not None]


def _ranks(k: int, specs: Sequence[_Spec], designs: Sequence[FloatArray]) -> list[int]:
    """The rank of each design over the observed cells.

    Without a heterogeneity covariate no rank needs computing: the columns are distinct
    products of list indicators, and on the observed cells the only linear relation among
    all 2**k of them, ``Σ (-1)**|S| x_S = Π (1 - x_j) = 0``, involves the k-way product; so a
    model without the k-way term has full rank. With a covariate the rank is computed.
    """
    everyone = (1 << k) - 1
    ranks = [
        d.shape[1] if s.heterogeneity == "none" and everyone not in s.interactions else -1
        for s, d in zip(specs, designs, strict=True)
    ]
    unknown = [i for i, rank in enumerate(ranks) if rank < 0]
    if unknown:
        computed = np.linalg.matrix_rank(np.stack([designs[i] for i in unknown]))
        for i, rank in zip(unknown, computed, strict=True):
            ranks[i] = int(rank)
    return ranks


def _fit_batch(
    table: CaptureTable,
    specs: Sequence[_Spec],
    prepared: Mapping[int, tuple[FloatArray, FloatArray, list[str]]],
    chunk: list[int],
    y: FloatArray,
    results: list[Fit | None],
) -> None:
    x = np.stack([prepared[i][0] for i in chunk])
    keep = np.stack([prepared[i][1] for i in chunk])
    batch = _newton(x, y, keep)
    stats_ = _statistics(y, x, keep, batch)
    for row, i in enumerate(chunk):
        results[i] = _result(
            table,
            specs[i],
            stats_,
            row,
            bool(batch.converged[row]),
            prepared[i][2],
            x.shape[2],
        )


# ---------------------------------------------------------------- model search


def search(
    table: CaptureTable,
    *,
    criterion: Criterion = "bic",
    heterogeneity: HeterogeneityChoice = "all",
    max_order: int = 3,
) -> list[Fit]:
    """Fit the candidate models and rank them by the criterion, best first.

    The candidates are the hierarchical models with all main effects and interactions of
    order at most ``min(max_order, k - 1)`` (the k-way interaction is never identifiable).
    Rcapture's ``closedpMS.t`` fits every hierarchical model up to its ``maxorder``, whose
    default is ``k - 1``; the default ``max_order=3`` is therefore Rcapture's set for 3 and 4
    lists (8 and 113 models per heterogeneity family). For 5 lists it keeps the issue's
    "up to all three-way interactions" (6,212 models; Rcapture's default would add the
    four-way terms, 6,893 models, ``max_order=4``). On the lesbian table the top three by BIC
    with Darroch heterogeneity are Rcapture's ([12,13,14], [13,14,2], [14,2,3]) whether the
    three-way terms are candidates or not.

    For k ≤ 5 lists every candidate is fitted. For more lists an exhaustive search is out of
    reach, so a deterministic stepwise search over the two-way interactions is used instead
    (``max_order`` ≥ 2 then only allows it): start from independence; at each step fit every
    model that adds one absent pair or drops one present pair, and move to the best of them
    if it improves the criterion; stop when none does. The result lists every model fitted
    on the way. Ties are broken by fewer parameters, then by name.

    ``heterogeneity="all"`` (the default) fits every candidate three times, without
    heterogeneity, with Darroch's and with the Poisson covariate, and ranks them together; on
    the lesbian table this selects ``[12,13,14] + Darroch`` by BIC, the model Rcapture's
    ``closedpMS.t(h = "Darroch")`` selects. Models whose parameters the observed cells cannot
    determine (e.g. Darroch's covariate with every pairwise interaction, to which it is
    collinear, or more parameters than cells) are left out; models whose fit did not
    converge are ranked after all others.
    """
    if criterion not in ("bic", "aic"):
        raise BadTable(f"criterion {criterion!r}: choose bic or aic")
    families = _families(heterogeneity)
    if max_order < 1:
        raise BadTable(f"max_order {max_order}: interactions have order 1 (none) or more")
    order = min(max_order, table.k - 1)
    if table.k <= ENUMERATE_UP_TO or order < 2:
        models = _hierarchical(table.k, order)
        specs = [_Spec(g, implied, h) for h in families for g, implied in models]
        fits = _fit_specs(table, specs)
    else:
        fits = [f for h in families for f in _stepwise(table, h, criterion)]
    return _rank([f for f in fits if f.identifiable], criterion)


def _families(heterogeneity: str) -> tuple[Heterogeneity, ...]:
    if heterogeneity == "all":
        return HETEROGENEITIES
    for family in HETEROGENEITIES:
        if heterogeneity == family:
            return (family,)
    raise BadTable(f"heterogeneity {heterogeneity!r}: choose none, darroch, poisson or all")


def _rank(fits: Iterable[Fit], criterion: Criterion) -> list[Fit]:
    return sorted(fits, key=lambda f: _key(f, criterion))


def _key(f: Fit, criterion: Criterion) -> tuple[bool, float, int, str]:
    return (not f.converged, f.bic if criterion == "bic" else f.aic, f.parameters, f.model)


def hierarchical_models(k: int, max_order: int) -> list[tuple[Term, ...]]:
    """Every generating class of a hierarchical model on k lists with terms up to max_order.

    Main effects are implied; a term of order r may be present only when all its subterms of
    order r - 1 are (that is what makes the model hierarchical). Independence comes first.
    """
    return [generators for generators, _ in _hierarchical(k, max_order)]


@functools.lru_cache(maxsize=32)
def _hierarchical(k: int, max_order: int) -> tuple[tuple[tuple[Term, ...], tuple[int, ...]], ...]:
    """Generating class and implied interaction masks of every hierarchical model.

    The models are grown term by term in order of size, so the terms chosen so far are
    always the model's full set of interactions; a term is a generator when no chosen term
    one order higher contains it.
    """
    candidates = [c for r in range(2, max_order + 1) for c in combinations(range(k), r)]
    masks = [sum(1 << j for j in c) for c in candidates]
    index = {m: i for i, m in enumerate(masks)}
    below = [
        [index[m & ~(1 << j)] for j in c] if len(c) > 2 else []
        for c, m in zip(candidates, masks, strict=True)
    ]
    found: list[tuple[tuple[Term, ...], tuple[int, ...]]] = []
    chosen: list[int] = []
    present = [False] * len(candidates)

    def model() -> tuple[tuple[Term, ...], tuple[int, ...]]:
        covered = {b for i in chosen for b in below[i]}
        generators = tuple(sorted(candidates[i] for i in chosen if i not in covered))
        return generators, tuple(masks[i] for i in chosen)

    def grow(i: int) -> None:
        if i == len(candidates):
            found.append(model())
            return
        grow(i + 1)
        if all(present[b] for b in below[i]):
            chosen.append(i)
            present[i] = True
            grow(i + 1)
            present[i] = False
            chosen.pop()

    grow(0)
    return tuple(found)


def _stepwise(table: CaptureTable, heterogeneity: Heterogeneity, criterion: Criterion) -> list[Fit]:
    """Forward-backward search over two-way terms by the criterion (for k > 5 lists)."""
    pairs = list(combinations(range(table.k), 2))
    seen: dict[frozenset[Term], Fit] = {}
    current: frozenset[Term] = frozenset()
    seen[current] = _fit_specs(table, [_spec(table.k, current, heterogeneity)])[0]
    while True:
        moves = [current | {p} for p in pairs if p not in current]
        moves += [current - {p} for p in sorted(current)]
        new = [m for m in moves if m not in seen]
        specs = [_spec(table.k, sorted(m), heterogeneity) for m in new]
        for move, result in zip(new, _fit_specs(table, specs), strict=True):
            seen[move] = result
        usable = [m for m in moves if seen[m].identifiable]
        if not usable:
            break
        best = min(usable, key=lambda m: _key(seen[m], criterion))
        if not seen[current].identifiable or _key(seen[best], criterion) < _key(
            seen[current], criterion
        ):
            current = best
        else:
            break
    return list(seen.values())


# ---------------------------------------------------------------- profile likelihood


class _Profile:
    """The multinomial log-likelihood of N, maximised over the model (Cormack 1992)."""

    def __init__(self, table: CaptureTable, spec: _Spec) -> None:
        self.n = float(table.observed)
        self.x, self.keep, _ = _prepare(table, spec, complete=True)
        self.y = table.counts.astype(np.float64)
        self.steps = np.arange(table.observed, dtype=np.float64)
        self.beta: FloatArray | None = None  # a warm start: the last converged fit

    def __call__(self, total: float) -> float:
        """log L(N) up to a constant, written so that nothing cancels when N is large.

        With ``rest`` the fitted count of the observed cells (the unseen cell's is N - rest):
        ``log N!/(N-n)! + Σ y log(μ/N) + (N-n) log(μ₀/N)`` equals
        ``Σ_{i<n} log(1 - i/N) + Σ y log μ + (N-n) log(1 - rest/N)``.
        """
        y = self.y.copy()
        y[0] = total - self.n
        batch = _newton(self.x[None], y, self.keep[None], self.beta)
        if not batch.converged[0] and self.beta is not None:
            batch = _newton(self.x[None], y, self.keep[None])
        self.beta = batch.beta if batch.converged[0] else None
        mu = batch.mu[0]
        seen = self.y > 0
        rest = float(mu[1:].sum())
        falling = float(np.log1p(-self.steps / total).sum())
        return (
            falling
            + float(np.sum(self.y[seen] * np.log(mu[seen])))
            + (total - self.n) * math.log1p(-min(rest / total, 1.0 - 1e-16))
        )


def profile_interval(
    table: CaptureTable, fit_: Fit, level: float = 0.95
) -> tuple[float, float, float, Curve]:
    """The multinomial N̂ and profile-likelihood interval of a model, and the profile curve.

    Returns ``(n_hat, lower, upper, curve)``: ``n_hat`` maximises the profile, the interval
    holds every N with ``2 (max - profile(N)) <= χ²₁(level)``, found by root finding.
    ``upper`` is infinite when the profile never falls that far (the interval is open at the
    top); ``lower`` is the observed count when even N = n is within it. The curve is the
    relative likelihood (peak 1) over the interval and a margin on both sides.
    """
    if not 0.0 < level < 1.0:
        raise BadTable(f"level {level}: a confidence level is between 0 and 1")
    if not fit_.identifiable:
        raise BadTable(f"model {fit_.model}: N is not identifiable, so it has no interval")
    profile = _Profile(table, _spec(table.k, fit_.terms, fit_.heterogeneity))
    n = profile.n
    cut = float(stats.chi2.ppf(level, 1)) / 2.0
    top, best = _maximise(profile, fit_.model, fit_.n_hat)
    lower = n
    if best - profile(n) > cut:
        lower = float(optimize.brentq(lambda v: best - profile(v) - cut, n, top, xtol=1e-9 * top))
    upper = _upper(profile, top, best, cut)
    return top, lower, upper, _curve(profile, n, top, best, lower, upper)


def _maximise(profile: _Profile, model: str, poisson: float) -> tuple[float, float]:
    """The N at the top of the profile, searched from near the Poisson estimate outwards."""
    n = profile.n
    guess = poisson if math.isfinite(poisson) and poisson < UNBOUNDED * n else 2.0 * n
    high = n + 20.0 * (guess - n) + 10.0
    for _ in range(4):
        found = optimize.minimize_scalar(
            lambda v: -profile(v),
            bounds=(n, high),
            method="bounded",
            options={"xatol": 1e-7 * guess},
        )
        top = float(found.x)
        if top < n + 0.999 * (high - n):
            return top, profile(top)
        high = n + 100.0 * (high - n)
    raise BadTable(
        f"model {model}: the likelihood keeps rising as N grows (the lists barely overlap), so "
        "this model gives no finite estimate; try another model or more overlapping lists"
    )


def _upper(profile: _Profile, top: float, best: float, cut: float) -> float:
    """Where the profile falls ``cut`` below its top, right of it; infinite if it never does.

    The search doubles the distance from the top (up to 2**29 times the distance from n)
    until the profile has fallen far enough, then finds the crossing by root finding.
    """
    low, width = top, max(top - profile.n, 1.0)
    for doubling in range(30):
        high = top + width * 2.0**doubling
        if best - profile(high) > cut:
            return float(
                optimize.brentq(lambda v: best - profile(v) - cut, low, high, xtol=1e-9 * top)
            )
        low = high
    return math.inf


def _curve(
    profile: _Profile, n: float, top: float, best: float, lower: float, upper: float
) -> Curve:
    """The relative profile likelihood on 201 points over the interval and a quarter more."""
    reach = (upper if math.isfinite(upper) else top + 4.0 * (top - lower) + 10.0) - lower
    grid = np.linspace(max(n, lower - 0.25 * reach), lower + 1.25 * reach, 201)
    heights = np.array([math.exp(min(profile(float(v)) - best, 0.0)) for v in grid])
    return Curve(grid, heights, "profile likelihood")


# ---------------------------------------------------------------- the estimate


def estimate(
    table: CaptureTable,
    *,
    criterion: Criterion = "bic",
    heterogeneity: HeterogeneityChoice = "all",
    model: str | None = None,
) -> Estimate:
    """Select a model (or take ``model``, a bracket name), and estimate N with its interval.

    ``estimate`` is the multinomial profile-likelihood N̂, the centre of the reported interval,
    as Rcapture's ``closedpCI.t`` reports it; the Poisson N̂ (``n + exp(intercept)``) and its
    standard error are in ``details``, with the ten best models of the search.
    """
    ranked = search(table, criterion=criterion, heterogeneity=heterogeneity)
    if model is not None:
        terms, family = parse_model(table.k, model)
        selected = fit(table, terms, family)
        if not selected.identifiable:
            raise BadTable(f"model {model!r}: {selected.warnings[0]}")
    elif ranked:
        selected = ranked[0]
    else:
        raise BadTable("no log-linear model can be fitted to this table")
    top, lower, upper, curve = profile_interval(table, selected)
    warnings = list(selected.warnings)
    if not math.isfinite(upper):
        warnings.append(
            "the 95% interval is open at the top: the data rule out no total, however "
            "large, above the lower bound"
        )
    return Estimate(
        method="loglinear",
        estimate=top,
        kind="mle",
        lower=lower,
        upper=upper,
        observed=table.observed,
        model=selected.model,
        warnings=tuple(warnings),
        details=_details(table.k, criterion, heterogeneity, model, ranked, selected),
        curve=curve,
    )


def _summary(f: Fit) -> dict[str, object]:
    return {
        "model": f.model,
        "n_hat": json_number(f.n_hat),
        "deviance": json_number(f.deviance),
        "df": f.df,
        "aic": json_number(f.aic),
        "bic": json_number(f.bic),
    }


def _details(
    k: int,
    criterion: Criterion,
    heterogeneity: str,
    forced: str | None,
    ranked: Sequence[Fit],
    selected: Fit,
) -> dict[str, object]:
    return {
        "criterion": criterion,
        "heterogeneity": heterogeneity,
        "selected_by": "user" if forced is not None else criterion,
        "models_compared": len(ranked),
        "search": (
            f"every hierarchical model with interactions up to order {min(3, k - 1)}"
            if k <= ENUMERATE_UP_TO
            else "stepwise over two-way interactions, from independence"
        ),
        "ranking": [_summary(f) for f in ranked[:TOP_MODELS]],
        "selected": _summary(selected),
        "poisson_estimate": json_number(selected.n_hat),
        "poisson_se": json_number(selected.se),
        "interval": "multinomial profile likelihood, 95%",
    }
