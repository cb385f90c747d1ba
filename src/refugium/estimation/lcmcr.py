"""The Bayesian latent-class model of Manrique-Vallier (2016), the method of HRDAG's LCMCR.

Why this model: people differ in how likely they are to be recorded (a victim from a town with
an active NGO turns up on several lists, one from a remote village on none), and lists depend
on each other (two lists that copy from the same registry). Both break the independence that
simple capture-recapture needs. A mixture of latent classes, inside each of which the lists are
independent, can represent both, and a Dirichlet-process prior on the mixture lets the data say
how many classes they support. Written from the paper (Manrique-Vallier, D. 2016, "Bayesian
population size estimation using Dirichlet process mixtures", *Biometrics* 72(3):1246–1254);
LCMCR itself is GPL and none of its code is used here.

The model (the paper's NPLCM), for ``N`` people and ``J`` lists, ``x_ij = 1`` when person ``i``
is on list ``j``::

    z_i | π         ~ Categorical(π_1 … π_K*)                 latent class of person i
    x_ij | z_i = k  ~ Bernoulli(λ_jk), independently over j    list j records class k with λ_jk
    λ_jk            ~ Beta(1, 1)
    π_k = V_k ∏_{l<k} (1 − V_l),  V_k ~ Beta(1, α) (k < K*),  V_K* = 1   truncated stick-breaking
    α               ~ Gamma(a, b)                              (shape a, rate b; 0.25, 0.25)
    p(N)            ∝ 1 / N

Only the ``n`` people with some ``x_ij = 1`` are seen; the ``n0 = N − n`` others all have the
all-zero pattern, whose probability is ``q0 = Σ_k π_k ∏_j (1 − λ_jk)``.

The Gibbs sampler with data augmentation; each sweep draws, in turn:

1. the classes of the observed people: for each observed pattern ``c`` with ``n_c`` people,
   their class counts ``m_c· ~ Multinomial(n_c, p(k | c))`` with
   ``p(k | c) ∝ π_k ∏_j λ_jk^{x_cj} (1 − λ_jk)^{1 − x_cj}``;
2. the number missing, with their classes integrated out: under the ``1/N`` prior,
   ``n0 | n, θ ~ NegativeBinomial(n, 1 − q0)`` (failures before the ``n``-th success);
3. the classes of the missing: ``m_0· ~ Multinomial(n0, p(k | 0))``;
4. ``λ_jk ~ Beta(1 + Σ_c m_ck x_cj, 1 + Σ_c m_ck (1 − x_cj))``, the all-zero row included;
5. ``V_k ~ Beta(1 + m_·k, α + Σ_{l>k} m_·l)`` for ``k < K*``, hence ``π``;
6. ``α ~ Gamma(a + K* − 1, b − Σ_{k<K*} log(1 − V_k))``.

Steps 2 and 3 together draw ``(n0, classes of the missing)`` from their joint conditional, so
the sweep is a valid blocked Gibbs sampler. Everything is held as counts per pattern × class,
so a sweep costs ``O(2^J · K*)`` whatever ``N`` is: 5 lists and a million people cost the same.

Several chains start from independent draws of the prior, each with its own child of one
``numpy.random.SeedSequence``: the same seed gives the same draws. Convergence is checked on
``N`` with the rank-normalised split R-hat and the bulk effective sample size of Vehtari,
Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization, folding, and localization: an
improved R-hat for assessing convergence of MCMC", *Bayesian Analysis* 16(2):667–718.

Defaults (:data:`ITERATIONS`, :data:`BURN_IN`, :data:`THINNING`, :data:`CHAINS`): 4 chains,
each of 5,000 burn-in sweeps then 20,000 sweeps recorded one in 10: 8,000 draws of ``N`` from
100,000 sweeps. Why so many: successive values of ``N`` are strongly correlated (the number
missing and the capture probabilities of the hard-to-record classes move each other only a
little per sweep), and a chain can start in a mode it takes thousands of sweeps to leave (on
the Rome HIV table one chain in eight sat near N ≈ 3,400 for 6,000 sweeps before joining the
others near 11,000). With 10,000 recorded sweeps the 5-list Madigan & York table ends close to
the limits (R-hat 1.009–1.014, 360–510 effective draws over seeds); 20,000 clear them on
tables of a few hundred to a few thousand people. Larger populations mix more slowly per sweep
and will often warn: the warning says to rerun with more iterations, and that is the remedy.
LCMCR's own defaults are one chain of 10,000 burn-in sweeps and 10,000 more thinned by 10.
A sweep costs about 0.1 ms on 3 to 5 lists (about 10,000 sweeps a second on one core of the
project's 2-core machine, whatever N), so the defaults take about 10 seconds; chains run one
after the other on one core.

How well it does on populations of known size is measured by
``benchmarks/estimation_coverage.py`` (its docstring has the figures): 284 of 300 intervals hold
the truth over 3, 4 and 5 lists, with over-coverage on 3 lists and medians about 4% low on the
5-list scenario with a large hard-to-record class.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import special, stats  # type: ignore[import-untyped]  # no scipy-stubs

from refugium.estimation.result import Curve, Estimate
from refugium.estimation.table import CaptureTable

__all__ = [
    "ALPHA_PRIOR",
    "BURN_IN",
    "CHAINS",
    "CLASSES",
    "ESS_MIN",
    "ITERATIONS",
    "RHAT_MAX",
    "TAIL_FACTOR",
    "THINNING",
    "Samples",
    "Settings",
    "ess",
    "estimate",
    "rhat",
    "sample",
]

ITERATIONS: Final = 20_000
"""Sweeps per chain kept after burn-in (before thinning)."""
BURN_IN: Final = 5_000
"""Sweeps per chain discarded at the start."""
THINNING: Final = 10
"""One sweep in this many is recorded: successive values of N are strongly correlated."""
CHAINS: Final = 4
CLASSES: Final = 10
"""K*, the truncation of the stick-breaking prior; the paper's and LCMCR's examples use 10."""
ALPHA_PRIOR: Final = (0.25, 0.25)
"""Shape and rate of the Gamma prior on the concentration α, as in LCMCR."""

RHAT_MAX: Final = 1.01
ESS_MIN: Final = 400
TAIL_FACTOR: Final = 10
"""Warn when the 97.5% quantile of N exceeds this many times the observed count."""
MIN_DRAWS: Final = 4
"""Draws per chain below which split R-hat means nothing."""

_TINY: Final = 1e-12
_sum = np.add.reduce
_cumsum = np.add.accumulate
_cumprod = np.multiply.accumulate
_maximum = np.maximum
_minimum = np.minimum
_CURVE_BINS: Final = 60

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Settings:
    """How the sampler was run."""

    iterations: int
    burn_in: int
    thinning: int
    chains: int
    classes: int
    alpha_prior: tuple[float, float]

    @property
    def draws(self) -> int:
        """Draws of N recorded per chain."""
        return self.iterations // self.thinning

    def check(self) -> None:
        if self.chains < 1:
            raise ValueError("chains: at least one chain is needed")
        if self.classes < 1:
            raise ValueError("classes: at least one latent class is needed")
        if self.burn_in < 0 or self.thinning < 1:
            raise ValueError("burn-in cannot be negative and thinning must be at least 1")
        if self.draws < MIN_DRAWS:
            raise ValueError(
                f"{self.iterations} iterations thinned by {self.thinning} leave {self.draws} "
                f"draws per chain; at least {MIN_DRAWS} are needed"
            )
        a, b = self.alpha_prior
        if not (a > 0 and b > 0):
            raise ValueError("alpha_prior: shape and rate must both be positive")


@dataclass(frozen=True)
class Samples:
    """The posterior draws of N and how far they can be trusted.

    ``n`` holds the draws of N, one row per chain; ``occupied`` the number of latent classes
    holding anyone at the same sweeps. ``rhat`` and ``ess`` are the rank-normalised split
    R-hat and the bulk effective sample size of N over all chains; ``seed`` reproduces the
    run even when none was given.
    """

    n: IntArray
    occupied: IntArray
    observed: int
    rhat: float
    ess: float
    seconds: float
    seed: int
    settings: Settings

    @property
    def pooled(self) -> IntArray:
        """All chains' draws together."""
        return self.n.reshape(-1)

    @property
    def sweeps_per_second(self) -> float:
        """Gibbs sweeps (burn-in included) per second, over all chains."""
        s = self.settings
        return s.chains * (s.burn_in + s.iterations) / max(self.seconds, 1e-9)


# --- the sampler --------------------------------------------------------------------------


@dataclass
class _State:
    """One chain's parameters between sweeps."""

    lam: FloatArray  # (J, K) capture probability of list j in class k
    pi: FloatArray  # (K,) class weights
    alpha: float


def _patterns(k: int) -> FloatArray:
    """All ``2**k`` patterns as rows of 0/1, row ``c`` the bits of ``c`` (row 0: on no list)."""
    cells = np.arange(2**k)
    return ((cells[:, None] >> np.arange(k)) & 1).astype(np.float64)


def _stick_breaking(v: FloatArray) -> FloatArray:
    """π_k = V_k ∏_{l<k} (1 − V_l) from the K* − 1 free sticks (V_K* = 1)."""
    pi = np.empty(v.size + 1)
    left = _cumprod(1.0 - v)
    pi[0] = v[0] if v.size else 1.0
    pi[1:-1] = v[1:] * left[:-1]
    pi[-1] = left[-1] if v.size else 1.0
    return pi


def _initial(rng: np.random.Generator, k: int, classes: int) -> _State:
    """A draw from the prior (with α = 1): chains start apart, which R-hat needs."""
    v = rng.beta(1.0, 1.0, size=classes - 1)
    return _State(lam=rng.beta(1.0, 1.0, size=(k, classes)), pi=_stick_breaking(v), alpha=1.0)


def _cell_class(x: FloatArray, state: _State, not_x: FloatArray | None = None) -> FloatArray:
    """p(pattern c, class k) = π_k ∏_j λ_jk^x (1 − λ_jk)^(1−x), shape (2**J, K).

    ``not_x`` is ``1 − x``, passed in by the sampler, which needs it at every sweep.
    """
    lam = _minimum(_maximum(state.lam, _TINY), 1.0 - _TINY)  # np.clip, without its wrapper
    if not_x is None:
        not_x = 1.0 - x
    log_p = x @ np.log(lam) + not_x @ np.log1p(-lam)
    result: FloatArray = np.exp(log_p) * state.pi
    return result


def _sweep(
    rng: np.random.Generator,
    x: FloatArray,
    counts: IntArray,
    observed: int,
    state: _State,
    alpha_prior: tuple[float, float],
    not_x: FloatArray | None = None,
) -> tuple[int, int]:
    """One Gibbs sweep (steps 1–6 of the module docstring); returns (n0, occupied classes).

    Sums and cumulative sums call the ufuncs' ``reduce`` and ``accumulate`` directly: the
    same arithmetic as ``ndarray.sum`` and ``np.cumsum`` (so the same draws for a seed),
    without the Python wrappers that cost a few microseconds each, 100,000 sweeps a run.
    """
    joint = _cell_class(x, state, not_x)
    # 1. classes of the observed people, one multinomial per observed pattern
    totals = _sum(joint, axis=1, keepdims=True)
    conditional = joint / np.maximum(totals, 1e-300)
    m = np.empty(joint.shape, dtype=np.int64)
    m[1:] = rng.multinomial(counts[1:], conditional[1:])
    # 2. the number missing: negative binomial under the 1/N prior
    q0 = float(totals[0, 0])
    n0 = int(rng.negative_binomial(observed, max(1.0 - q0, _TINY)))
    # 3. classes of the missing
    m[0] = rng.multinomial(n0, conditional[0])
    # 4 and 5. capture probabilities and stick-breaking weights: every Beta(a, b) draw as
    # G_a / (G_a + G_b) from one call for all the Gamma variates (it halves the cost).
    per_class = _sum(m, axis=0)
    on_list = x.T @ m
    k = per_class.size
    later = _cumsum(per_class[:0:-1])[::-1]  # Σ_{l>k} m_·l for k < K*
    shapes = np.concatenate(
        (
            (1.0 + on_list).ravel(),
            (1.0 + per_class - on_list).ravel(),
            1.0 + per_class[:-1],
            state.alpha + later,
        )
    )
    g = rng.standard_gamma(shapes)
    size = on_list.size
    yes, no = g[:size], g[size : 2 * size]
    state.lam = (yes / (yes + no)).reshape(on_list.shape)
    stick, rest = g[2 * size : 2 * size + k - 1], g[2 * size + k - 1 :]
    v = np.minimum(stick / (stick + rest), 1.0 - _TINY)
    state.pi = _stick_breaking(v)
    # 6. concentration
    a, b = alpha_prior
    rate = b - float(_sum(np.log1p(-v)))
    state.alpha = max(float(rng.gamma(a + k - 1, 1.0 / rate)), _TINY)
    return n0, int(np.count_nonzero(per_class))


def _chain(
    rng: np.random.Generator, table: CaptureTable, settings: Settings
) -> tuple[IntArray, IntArray]:
    """One chain: the recorded draws of N and of the number of occupied classes."""
    x = _patterns(table.k)
    not_x = 1.0 - x
    counts = table.counts.astype(np.int64)
    observed = table.observed
    state = _initial(rng, table.k, settings.classes)
    for _ in range(settings.burn_in):
        _sweep(rng, x, counts, observed, state, settings.alpha_prior, not_x)
    n = np.empty(settings.draws, dtype=np.int64)
    occupied = np.empty(settings.draws, dtype=np.int64)
    for i in range(settings.draws * settings.thinning):
        n0, used = _sweep(rng, x, counts, observed, state, settings.alpha_prior, not_x)
        if (i + 1) % settings.thinning == 0:
            n[i // settings.thinning] = observed + n0
            occupied[i // settings.thinning] = used
    return n, occupied


def sample(
    table: CaptureTable,
    *,
    seed: int | None = None,
    iterations: int = ITERATIONS,
    burn_in: int = BURN_IN,
    thinning: int = THINNING,
    chains: int = CHAINS,
    classes: int = CLASSES,
    alpha_prior: tuple[float, float] = ALPHA_PRIOR,
) -> Samples:
    """Posterior draws of N for ``table`` from ``chains`` chains run one after the other.

    Each chain runs ``burn_in`` sweeps, then ``iterations`` sweeps of which every
    ``thinning``-th is recorded. The same ``seed`` gives the same draws; without one, fresh
    entropy is used and reported in :attr:`Samples.seed`.
    """
    a, b = alpha_prior
    settings = Settings(iterations, burn_in, thinning, chains, classes, (float(a), float(b)))
    settings.check()
    sequence = np.random.SeedSequence(seed)
    start = time.perf_counter()
    runs = [
        _chain(np.random.default_rng(child), table, settings) for child in sequence.spawn(chains)
    ]
    seconds = time.perf_counter() - start
    n = np.stack([run[0] for run in runs])
    return Samples(
        n=n,
        occupied=np.stack([run[1] for run in runs]),
        observed=table.observed,
        rhat=rhat(n),
        ess=ess(n),
        seconds=seconds,
        seed=int(sequence.entropy),  # type: ignore[arg-type]  # an int: made from an int or None
        settings=settings,
    )


# --- diagnostics (Vehtari et al. 2021) ------------------------------------------------------


def _split(draws: npt.ArrayLike) -> FloatArray:
    """Each chain cut in two halves (the middle draw of an odd chain dropped)."""
    array = np.atleast_2d(np.asarray(draws, dtype=np.float64))
    half = array.shape[1] // 2
    return np.concatenate((array[:, :half], array[:, array.shape[1] - half :]))


def _rank_normal(chains: FloatArray) -> FloatArray:
    """Ranks over all draws (ties averaged) mapped to normal scores: Blom's (r − 3/8)/(S + 1/4)."""
    ranks = stats.rankdata(chains, axis=None).reshape(chains.shape)
    return np.asarray(special.ndtri((ranks - 0.375) / (chains.size + 0.25)), dtype=np.float64)


def _constant(chains: FloatArray) -> bool:
    return bool(np.ptp(chains) == 0)


def _basic_rhat(chains: FloatArray) -> float:
    n = chains.shape[1]
    within = float(chains.var(axis=1, ddof=1).mean())
    between = n * float(chains.mean(axis=1).var(ddof=1))
    if within == 0:
        return math.inf
    return math.sqrt(((n - 1) / n * within + between / n) / within)


def rhat(draws: npt.ArrayLike) -> float:
    """Rank-normalised split R-hat of ``draws`` (chains × draws): the larger of the bulk
    R-hat and the folded (tail) one. 1 when the chains agree; above 1.01 they do not.
    Draws that never change give 1 (nothing to disagree about)."""
    chains = _split(draws)
    if _constant(chains):
        return 1.0
    bulk = _basic_rhat(_rank_normal(chains))
    folded = np.abs(chains - np.median(chains))
    tail = 1.0 if _constant(folded) else _basic_rhat(_rank_normal(folded))
    return max(bulk, tail)


def _autocovariance(chains: FloatArray) -> FloatArray:
    """Autocovariance of each chain at every lag (biased, divided by n), via the FFT."""
    n = chains.shape[1]
    centred = chains - chains.mean(axis=1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    return np.asarray(np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)[:, :n] / n)


def _ess(chains: FloatArray) -> float:
    """ESS of chains × draws: multi-chain autocorrelations, Geyer's initial monotone sum."""
    m, n = chains.shape
    acov = _autocovariance(chains)
    within = float(acov[:, 0].mean()) * n / (n - 1)
    var_plus = within * (n - 1) / n
    if m > 1:
        var_plus += float(chains.mean(axis=1).var(ddof=1))
    rho = 1.0 - (within - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0
    # Sums of adjacent pairs, kept while positive and made non-increasing (Geyer 1992).
    pairs = rho[: n - n % 2].reshape(-1, 2).sum(axis=1)
    negative = np.flatnonzero(pairs <= 0)
    pairs = pairs[: negative[0]] if negative.size else pairs
    pairs = np.minimum.accumulate(pairs)
    tau = -1.0 + 2.0 * float(pairs.sum())
    total = float(m * n)
    tau = max(tau, 1.0 / math.log10(total))
    return total / tau


def ess(draws: npt.ArrayLike) -> float:
    """Bulk effective sample size of ``draws`` (chains × draws), rank-normalised and split.
    About the number of draws for independent ones; far fewer for a sticky chain. Draws
    that never change count in full."""
    chains = _split(draws)
    if _constant(chains):
        return float(chains.size)
    return _ess(_rank_normal(chains))


# --- the estimate ---------------------------------------------------------------------------


def _warnings(samples: Samples, upper: float) -> list[str]:
    s = samples.settings
    more = f"rerun with more iterations (e.g. {2 * s.iterations:,} instead of {s.iterations:,})"
    found = []
    if samples.rhat > RHAT_MAX:
        found.append(
            f"the {s.chains} chains disagree about N (R-hat {samples.rhat:.3f}, above "
            f"{RHAT_MAX}): the sampler has not converged and the estimate cannot be trusted; "
            f"{more}"
        )
    if samples.ess < ESS_MIN:
        found.append(
            f"only {samples.ess:.0f} effective draws of N (fewer than {ESS_MIN}): the median and "
            f"interval are imprecise; {more}"
        )
    if upper > TAIL_FACTOR * samples.observed:
        found.append(
            f"the posterior of N has a long upper tail (its 97.5% quantile, {upper:,.0f}, is more "
            f"than {TAIL_FACTOR} times the {samples.observed:,} observed): the lists say little "
            "about the people on none of them, and the upper bound depends on the prior"
        )
    return found


def _curve(draws: IntArray) -> Curve:
    """A histogram of the draws over their central 99.8%, scaled to a peak of 1."""
    low, high = np.quantile(draws, [0.001, 0.999])
    if high <= low:
        low, high = low - 0.5, high + 0.5
    bins = max(1, min(_CURVE_BINS, int(high - low) + 1))
    height, edges = np.histogram(draws, bins=bins, range=(float(low), float(high)))
    centres = (edges[:-1] + edges[1:]) / 2
    peak = height.max()
    scaled = height / peak if peak > 0 else height.astype(np.float64)
    return Curve(centres.astype(np.float64), scaled.astype(np.float64), "posterior")


def estimate(
    table: CaptureTable,
    *,
    seed: int | None = None,
    iterations: int = ITERATIONS,
    burn_in: int = BURN_IN,
    chains: int = CHAINS,
    classes: int = CLASSES,
    thinning: int = THINNING,
    alpha_prior: tuple[float, float] = ALPHA_PRIOR,
) -> Estimate:
    """The posterior median of N with its 95% interval (2.5% and 97.5% quantiles)."""
    samples = sample(
        table,
        seed=seed,
        iterations=iterations,
        burn_in=burn_in,
        thinning=thinning,
        chains=chains,
        classes=classes,
        alpha_prior=alpha_prior,
    )
    draws = samples.pooled
    lower, median, upper = (float(q) for q in np.quantile(draws, [0.025, 0.5, 0.975]))
    a, b = samples.settings.alpha_prior
    details: dict[str, Any] = {
        "settings": {**asdict(samples.settings), "alpha_prior": [a, b]},
        "seed": samples.seed,
        "rhat": round(samples.rhat, 4),
        "ess": round(samples.ess, 1),
        "mean": round(float(draws.mean()), 2),
        "draws": int(draws.size),
        "occupied_classes_median": float(np.median(samples.occupied)),
        "seconds": round(samples.seconds, 3),
        "iterations_per_second": round(samples.sweeps_per_second, 1),
    }
    return Estimate(
        method="lcmcr",
        estimate=median,
        kind="posterior median",
        lower=lower,
        upper=upper,
        observed=table.observed,
        model=f"latent classes, K* = {classes}, α ~ Gamma({a:g}, {b:g})",
        warnings=tuple(_warnings(samples, upper)),
        details=details,
        curve=_curve(draws),
    )
