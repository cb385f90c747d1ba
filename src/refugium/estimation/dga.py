"""Bayesian model averaging over decomposable graphs: the method of HRDAG's dga.

Why this method: a log-linear model picked by BIC reports its N̂ as if the model were known,
and with three to five lists several models usually fit about equally well while disagreeing
on N. Madigan & York average over *all* decomposable graphical models instead, weighting each
by its posterior probability, so the interval carries the uncertainty about the model too. For
decomposable graphs the average is in closed form: no MCMC, no seed, the same numbers on every
run, which is what a figure quoted in a report needs.

Re-implemented from the paper (dga is GPL and its source was not read): D. Madigan and
J. C. York (1997), "Bayesian methods for estimation of the size of a closed population",
*Biometrika* 84(1):19–31, with the hyper-Dirichlet prior of Dawid & Lauritzen (1993),
*Annals of Statistics* 21(3):1272–1317.

The model. ``N`` people fall independently into the ``2**k`` cells of the complete table
(cell 0, on no list, holds the ``n0 = N − n`` nobody saw). A decomposable graph ``G`` on the
lists says which lists are directly dependent; its cliques ``C`` and separators ``S`` (the
intersections along a junction tree) factorise the cell probabilities. The hyper-Dirichlet
prior gives every full-table cell the parameter ``δ``, so a clique marginal ``θ_C`` is
Dirichlet with ``α_C = δ·2^(k−|C|)`` per cell and total ``A = δ·2^k``. Then

    p(table | N, G) = N! / (n0! ∏_{i≠0} n_i!) · ∏_C h(n_C, α_C) / ∏_S h(n_S, α_S),

    h(m, α) = Γ(A) / Γ(A + N) · ∏_cells Γ(α + m_c) / Γ(α),

where ``n_C`` is the marginal table of the complete table (``n0`` included) on ``C``. The
multinomial coefficient counts which ``n0`` of the ``N`` people went unseen; ``∏ n_i!`` does
not depend on ``N`` or ``G`` and is dropped. With a prior ``p(N)`` and a uniform prior over
graphs,

    p(N, G | table) ∝ p(N) · p(table | N, G),

normalised jointly over the grid of ``N`` and all decomposable graphs. Posterior summaries
are those dga users compute from ``bma.cr``'s weights: the posterior of ``N`` summed over
graphs, its mean, its mode, and quantiles taken as the smallest grid ``N`` whose cumulative
posterior reaches the level (median 0.5, interval 0.025–0.975).

Choices made here (all selectable):

- ``δ`` defaults to ``2^−k``, dga's suggested default: one prior observation spread over the
  whole table, so the prior weighs as little as a single person would.
- The prior on ``N`` defaults to ``p(N) ∝ 1/N`` (of the total, not of the missing count:
  dga's manual says ``−log(Nmissing)``, but its 5-list reference run is reproduced only with
  ``−log N``); uniform, negative binomial, or any array of log-prior values over the grid
  may be given instead.
- The grid of missing people defaults to ``0, 1, …, max(300, 5·n)``; :func:`estimate` grows
  it fourfold while more than 0.5% of the posterior lies in its last tenth, up to
  :data:`MAX_MISSING`. If the posterior still runs off the grid the estimate warns: every
  summary is then too low.
- Under the complete graph (the saturated model) the lists carry no information about the
  missing cell beyond its prior share, ``Beta(δ, δ·(2^k − 1))``; with a small ``δ`` that
  share piles up near 0 and so does ``n0``. The estimate warns when that graph holds more
  than 5% of the posterior, as it does when large counts make every interaction look real.

Cost: the log marginal likelihood of every subset of lists (at most 32) is computed once per
N, and each graph's is a signed sum of those: one matrix product for all graphs and all N.
822 graphs × 300 N take about 15 ms. On grids of thousands of points, graphs more than 100
nats below the best at every N are dropped first (they hold under ``e^−100`` of the
posterior).

Graphs on up to five lists are enumerated once (8, 61 and 822 graphs on 3, 4 and 5 lists);
beyond five lists there are too many to average over in closed form.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln, logsumexp  # type: ignore[import-untyped]  # no scipy-stubs

from refugium.estimation.result import Curve, Estimate
from refugium.estimation.table import BadTable, CaptureTable

__all__ = [
    "MAX_DGA_LISTS",
    "PRUNE_FROM",
    "PRUNE_NATS",
    "Graph",
    "NegativeBinomial",
    "Posterior",
    "decomposable_graphs",
    "default_delta",
    "default_missing",
    "estimate",
    "posterior",
]

MAX_DGA_LISTS: Final = 5
"""822 graphs on 5 lists; 6 lists have 18,154 and the closed-form average stops being small."""

TRUNCATION_SHARE: Final = 0.005
"""Posterior mass in the last tenth of the grid above which the grid is too short."""

PRUNE_NATS: Final = 100.0
"""A graph this far below the best at every N of a long grid is left out (see below)."""

PRUNE_FROM: Final = 4096
"""Grids from this many points up are pruned; shorter ones sum over every graph."""

SATURATED_SHARE: Final = 0.05
"""Posterior probability of the complete graph above which the estimate warns."""

TOP_GRAPHS: Final = 5
MAX_MISSING: Final = 2_000_000
"""The longest grid :func:`estimate` grows to by itself (about 2 s on 5 lists): a posterior
still running off it says the lists cannot bound the number missed."""
_CHUNK_CELLS: Final = 1 << 21
"""Graphs × N values evaluated at once (16 MiB of float64), whatever the grid's length."""

Vector = npt.NDArray[np.float64]
Masks = tuple[int, ...]


# ----------------------------------------------------------------------------- graphs


@dataclass(frozen=True)
class Graph:
    """A decomposable graph on lists ``0..p−1``.

    ``edges`` are pairs ``(i, j)`` with ``i < j``; ``cliques`` the maximal complete sets and
    ``separators`` the non-empty intersections along a junction tree (a multiset: a set may
    separate more than once), each a sorted tuple of list indices.
    """

    p: int
    edges: tuple[tuple[int, int], ...]
    cliques: tuple[tuple[int, ...], ...]
    separators: tuple[tuple[int, ...], ...]

    def label(self, names: Sequence[str] | None = None) -> str:
        """The cliques as ``{1,2}{3}`` (list positions from 1), or with ``names`` given."""

        def name(vertex: int) -> str:
            return names[vertex] if names is not None else str(vertex + 1)

        return "".join("{" + ",".join(name(v) for v in clique) + "}" for clique in self.cliques)


@cache
def decomposable_graphs(p: int) -> tuple[Graph, ...]:
    """All decomposable (chordal) graphs on ``p`` labelled lists, 2 ≤ p ≤ 5.

    Every subset of the ``p(p−1)/2`` possible edges is tested for chordality, at most 1,024
    graphs; the result is cached per ``p``. Ordered by number of edges, then by edge set.
    """
    if not 2 <= p <= MAX_DGA_LISTS:
        raise ValueError(f"decomposable graphs are enumerated for 2 to {MAX_DGA_LISTS} lists")
    pairs = list(itertools.combinations(range(p), 2))
    graphs = []
    for size in range(len(pairs) + 1):
        for edges in itertools.combinations(pairs, size):
            adjacency = _adjacency(p, edges)
            if _is_chordal(adjacency):
                cliques = _maximal_cliques(adjacency)
                graphs.append(Graph(p, edges, cliques, _separators(cliques)))
    return tuple(graphs)


def _adjacency(p: int, edges: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    """Neighbours of each vertex as a bit mask."""
    neighbours = [0] * p
    for i, j in edges:
        neighbours[i] |= 1 << j
        neighbours[j] |= 1 << i
    return tuple(neighbours)


def _is_complete(adjacency: Masks, vertices: int) -> bool:
    return all((adjacency[v] | (1 << v)) & vertices == vertices for v in _members(vertices))


def _is_chordal(adjacency: Masks) -> bool:
    """A graph is chordal iff simplicial vertices can be removed one by one until none is left.

    (Dirac 1961: every chordal graph has a simplicial vertex, one whose neighbours form a
    clique, and removing a vertex keeps a graph chordal.)
    """
    remaining = (1 << len(adjacency)) - 1
    while remaining:
        simplicial = next(
            (v for v in _members(remaining) if _is_complete(adjacency, adjacency[v] & remaining)),
            None,
        )
        if simplicial is None:
            return False
        remaining &= ~(1 << simplicial)
    return True


def _maximal_cliques(adjacency: Masks) -> tuple[tuple[int, ...], ...]:
    """Maximal complete vertex sets, by brute force over the ≤ 32 subsets."""
    full = (1 << len(adjacency)) - 1
    complete = [s for s in range(1, full + 1) if _is_complete(adjacency, s)]
    maximal = [s for s in complete if not any(t != s and t & s == s for t in complete)]
    return tuple(sorted(tuple(_members(s)) for s in maximal))


def _separators(cliques: Sequence[tuple[int, ...]]) -> tuple[tuple[int, ...], ...]:
    """Separators of a junction tree: a maximum-weight spanning tree of the clique graph.

    For a chordal graph any spanning tree of its cliques maximising the summed intersection
    sizes has the running-intersection property (Jensen & Jensen 1994, "Optimal junction
    trees"). Edges of weight 0 join connected components; their empty separators contribute
    nothing and are left out.
    """
    sets = [frozenset(c) for c in cliques]
    in_tree = {0}
    separators = []
    while len(in_tree) < len(sets):  # Prim's algorithm; ties go to the earlier cliques
        weight, _, _, i, j = max(
            (len(sets[i] & sets[j]), -j, -i, i, j)
            for i in in_tree
            for j in range(len(sets))
            if j not in in_tree
        )
        in_tree.add(j)
        if weight:
            separators.append(tuple(sorted(sets[i] & sets[j])))
    return tuple(sorted(separators))


def _members(mask: int) -> Iterator[int]:
    vertex = 0
    while mask >> vertex:
        if mask >> vertex & 1:
            yield vertex
        vertex += 1


def _to_mask(vertices: Sequence[int]) -> int:
    return sum(1 << v for v in vertices)


@cache
def _factor_signs(p: int) -> npt.NDArray[np.float64]:
    """Graphs × vertex subsets: +1 per clique, −1 per separator, so log p = signs @ log h."""
    graphs = decomposable_graphs(p)
    signs = np.zeros((len(graphs), 2**p))
    for row, graph in enumerate(graphs):
        for clique in graph.cliques:
            signs[row, _to_mask(clique)] += 1
        for separator in graph.separators:
            signs[row, _to_mask(separator)] -= 1
    signs.setflags(write=False)
    return signs


# ----------------------------------------------------------------------------- priors


@dataclass(frozen=True)
class NegativeBinomial:
    """Negative-binomial prior on N (Madigan & York's spina bifida example: a=13.14, b=55.17).

    ``log p(N) = N·log b − (N + a)·log(1 + b) + lgamma(N + a) − lgamma(N + 1) − lgamma(a)``;
    its mean is ``a·b``.
    """

    a: float
    b: float

    def __post_init__(self) -> None:
        if not (self.a > 0 and self.b > 0):
            raise ValueError("the negative-binomial prior needs a > 0 and b > 0")

    def log_prior(self, n: Vector) -> Vector:
        a, b = self.a, self.b
        result: Vector = (
            n * np.log(b) - (n + a) * np.log1p(b) + gammaln(n + a) - gammaln(n + 1) - gammaln(a)
        )
        return result


Prior = Literal["inverse", "uniform"] | NegativeBinomial | npt.NDArray[np.float64]


def _log_prior(prior: Prior, n: Vector) -> Vector:
    if isinstance(prior, NegativeBinomial):
        return prior.log_prior(n)
    if isinstance(prior, str):
        if prior == "inverse":
            result: Vector = -np.log(n)
            return result
        if prior == "uniform":
            return np.zeros_like(n)
        raise ValueError(
            f"unknown prior {prior!r}: 'inverse', 'uniform', a NegativeBinomial "
            "or an array of log-prior values"
        )
    values = np.asarray(prior, dtype=np.float64)
    if values.shape != n.shape:
        raise ValueError(
            f"a log prior given as an array needs one value per grid point ({n.size}), "
            f"not shape {values.shape}"
        )
    if np.isnan(values).any() or np.isposinf(values).any() or not np.isfinite(values).any():
        raise ValueError("the log prior must be finite or −inf, and finite somewhere")
    return values


def _describe_prior(prior: Prior) -> str:
    if isinstance(prior, NegativeBinomial):
        return f"negative binomial (a = {prior.a:g}, b = {prior.b:g})"
    if isinstance(prior, str):
        return {"inverse": "1/N", "uniform": "uniform"}.get(prior, prior)
    return "given log-prior values"


def default_delta(k: int) -> float:
    """dga's suggested hyper-Dirichlet parameter: ``2^−k`` per cell, one prior person in all."""
    return float(2.0**-k)


def default_missing(observed: int) -> npt.NDArray[np.int64]:
    """``0, 1, …, max(300, 5·observed)`` people on no list."""
    return np.arange(max(300, 5 * observed) + 1, dtype=np.int64)


# ----------------------------------------------------------------------------- posterior


@dataclass(frozen=True)
class Posterior:
    """The joint posterior over graphs and N, summed each way.

    ``n`` is the grid of population sizes (observed + missing), ``probabilities`` the
    posterior of N on it summed over graphs, ``graph_probabilities`` the posterior of each of
    ``graphs`` summed over N. ``median``, ``lower`` and ``upper`` are the 0.5, 0.025 and 0.975
    quantiles (see :meth:`quantile`).
    """

    n: npt.NDArray[np.int64]
    probabilities: Vector
    graph_probabilities: Vector
    graphs: tuple[Graph, ...]
    delta: float
    prior: str

    @property
    def mean(self) -> float:
        return float(np.dot(self.probabilities, self.n))

    @property
    def mode(self) -> int:
        return int(self.n[int(np.argmax(self.probabilities))])

    @property
    def median(self) -> int:
        return self.quantile(0.5)

    @property
    def lower(self) -> int:
        return self.quantile(0.025)

    @property
    def upper(self) -> int:
        return self.quantile(0.975)

    def quantile(self, level: float) -> int:
        """The smallest grid N whose cumulative posterior reaches ``level`` (dga users' rule)."""
        if not 0 <= level <= 1:
            raise ValueError("a quantile level lies between 0 and 1")
        cumulative = np.cumsum(self.probabilities)
        index = int(np.searchsorted(cumulative, level, side="left"))
        return int(self.n[min(index, self.n.size - 1)])

    def tail_share(self, fraction: float = 0.1) -> tuple[float, float]:
        """Posterior mass in the first and the last ``fraction`` of the grid's range."""
        low, high = float(self.n[0]), float(self.n[-1])
        width = fraction * (high - low)
        first = float(self.probabilities[self.n <= low + width].sum())
        last = float(self.probabilities[self.n >= high - width].sum())
        return first, last

    @property
    def saturated_probability(self) -> float:
        """Posterior probability of the complete graph, under which N is not identified."""
        return float(
            sum(
                p
                for g, p in zip(self.graphs, self.graph_probabilities, strict=True)
                if len(g.cliques) == 1 and len(g.cliques[0]) == g.p
            )
        )

    def top_graphs(self, count: int = TOP_GRAPHS) -> list[tuple[Graph, float]]:
        """The ``count`` most probable graphs with their posterior probabilities."""
        order = np.argsort(-self.graph_probabilities, kind="stable")[:count]
        return [(self.graphs[i], float(self.graph_probabilities[i])) for i in order]


def posterior(
    table: CaptureTable,
    *,
    delta: float | None = None,
    prior: Prior = "inverse",
    missing: npt.ArrayLike | None = None,
) -> Posterior:
    """The Madigan–York posterior over all decomposable graphs and the grid of N.

    ``delta`` is the hyper-Dirichlet parameter per full-table cell (default ``2^−k``);
    ``prior`` the prior on N: ``"inverse"`` (∝ 1/N, the default), ``"uniform"``, a
    :class:`NegativeBinomial`, or log-prior values, one per grid point; ``missing`` the grid of
    people on no list (default :func:`default_missing`). Raises :class:`BadTable` beyond five
    lists.
    """
    k = table.k
    if k > MAX_DGA_LISTS:
        raise BadTable(
            f"{k} lists: model averaging over decomposable graphs (dga) handles at most "
            f"{MAX_DGA_LISTS} lists; merge lists or use the log-linear or LCMCR method"
        )
    delta = default_delta(k) if delta is None else float(delta)
    if not (np.isfinite(delta) and delta > 0):
        raise ValueError("delta must be a positive number")
    n0 = default_missing(table.observed) if missing is None else _grid(missing)
    n = table.observed + n0
    log_h = _log_marginals(table.counts, n0, delta)
    log_common = gammaln(n + 1.0) - gammaln(n0 + 1.0) + _log_prior(prior, n.astype(np.float64))
    signs = _factor_signs(k)
    keep = _plausible_graphs(signs, log_h, n0)
    by_n, kept = _sum_out(signs[keep], log_h, log_common)
    by_graph = np.full(signs.shape[0], -np.inf)
    by_graph[keep] = kept
    total = logsumexp(by_n)
    return Posterior(
        n=n,
        probabilities=np.exp(by_n - total),
        graph_probabilities=np.exp(by_graph - total),
        graphs=decomposable_graphs(k),
        delta=delta,
        prior=_describe_prior(prior),
    )


def _grid(missing: npt.ArrayLike) -> npt.NDArray[np.int64]:
    values = np.asarray(missing)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("missing must be a non-empty one-dimensional grid of counts")
    grid = values.astype(np.int64)
    if (grid != values).any() or (grid < 0).any() or (np.diff(grid) <= 0).any():
        raise ValueError("missing must hold whole numbers ≥ 0 in increasing order")
    return grid


def _log_marginals(
    counts: npt.NDArray[np.int64], n0: npt.NDArray[np.int64], delta: float
) -> npt.NDArray[np.float64]:
    """``log h(n_C, α_C)`` for every subset C of the lists (rows) and every n0 (columns).

    Only the marginal cell that holds cell 0 (pattern all-zero on C) depends on n0; the other
    cells are constants per subset.
    """
    cells = counts.size
    k = cells.bit_length() - 1
    total = delta * cells
    masks = np.arange(cells)
    n = counts.sum() + n0.astype(np.float64)
    result = np.empty((cells, n0.size))
    for subset in range(cells):
        alpha = delta * 2.0 ** (k - subset.bit_count())
        marginal = np.bincount(masks & subset, weights=counts, minlength=cells)
        others = marginal[_submasks(subset)[1:]]
        constant = float(np.sum(gammaln(alpha + others) - gammaln(alpha)))
        zero_cell = gammaln(alpha + marginal[0] + n0) - gammaln(alpha)
        result[subset] = gammaln(total) - gammaln(total + n) + constant + zero_cell
    return result


def _submasks(mask: int) -> list[int]:
    """All submasks of ``mask``, 0 first."""
    found = [0]
    sub = mask
    while sub:
        found.append(sub)
        sub = (sub - 1) & mask
    return sorted(found)


def _plausible_graphs(
    signs: npt.NDArray[np.float64], log_h: npt.NDArray[np.float64], n0: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """Graphs that come within :data:`PRUNE_NATS` of the best graph at some N of a long grid.

    At each N every graph shares the prior and the multinomial coefficient, so a graph whose
    log marginal likelihood is ``PRUNE_NATS`` below the best graph's at every N holds less than
    ``e^−100`` of the posterior and is left out (probability 0). The test runs on grid points
    spaced ``~√n0`` apart, close enough that the smooth log-gamma terms cannot hide a peak of
    that height between them. Grids shorter than :data:`PRUNE_FROM` points keep every graph.
    """
    if n0.size < PRUNE_FROM:
        return np.ones(signs.shape[0], dtype=bool)
    marks = np.arange(int(np.sqrt(4.0 * float(n0[-1]))) + 2) ** 2 / 4.0
    coarse = np.unique(np.append(np.searchsorted(n0, marks).clip(max=n0.size - 1), n0.size - 1))
    log_ml = signs @ log_h[:, coarse]
    keep: npt.NDArray[np.bool_] = (log_ml.max(axis=0) - log_ml).min(axis=1) < PRUNE_NATS
    return keep


def _sum_out(
    signs: npt.NDArray[np.float64], log_h: npt.NDArray[np.float64], log_common: Vector
) -> tuple[Vector, Vector]:
    """Log joint posterior (unnormalised) summed over graphs (per N) and over N (per graph).

    The graphs × N matrix is built a block of N at a time so a long grid costs time, not
    memory, and each block is exponentiated once: shifted by its column maxima, its column
    sums give the posterior of N and its products with ``exp(column maximum)`` those of the
    graphs. A graph more than ~700 nats below the best at every N gets probability 0.
    """
    step = max(1, _CHUNK_CELLS // signs.shape[0])
    by_n = np.empty(log_common.size)
    by_graph = np.full(signs.shape[0], -np.inf)
    for start in range(0, log_common.size, step):
        block = signs @ log_h[:, start : start + step]
        block += log_common[start : start + step]
        peak = block.max(axis=0)
        possible = np.isfinite(peak)  # a log prior of −inf rules an N out
        if not possible.any():
            by_n[start : start + step] = -np.inf
            continue
        shift = np.where(possible, peak, 0.0)
        np.subtract(block, shift, out=block)
        np.exp(block, out=block)
        top = float(peak[possible].max())
        with np.errstate(divide="ignore"):
            by_n[start : start + step] = shift + np.log(block.sum(axis=0))
            part = top + np.log(block @ np.where(possible, np.exp(shift - top), 0.0))
        by_graph = np.logaddexp(by_graph, part)
    return by_n, by_graph


# ----------------------------------------------------------------------------- estimate


def estimate(
    table: CaptureTable,
    *,
    delta: float | None = None,
    prior: Prior = "inverse",
    missing: npt.ArrayLike | None = None,
) -> Estimate:
    """The dga estimate: posterior median of N with its 95% posterior interval.

    Arguments as for :func:`posterior`. Without ``missing`` (and with a named prior), the
    grid grows fourfold while the posterior runs off its end, up to :data:`MAX_MISSING`
    people on no list; only then does the truncation warning remain.
    """
    if missing is None and not isinstance(prior, np.ndarray):
        post = _grown_posterior(table, delta, prior)
    else:
        post = posterior(table, delta=delta, prior=prior, missing=missing)
    best, best_p = post.top_graphs(1)[0]
    peak = float(post.probabilities.max())
    return Estimate(
        method="dga",
        estimate=float(post.median),
        kind="posterior median",
        lower=float(post.lower),
        upper=float(post.upper),
        observed=table.observed,
        model=f"model average; most probable graph {best.label()} (p = {best_p:.2f})",
        warnings=_warnings(post, table.observed),
        details=_details(post, table),
        curve=Curve(post.n.astype(np.float64), post.probabilities / peak, "posterior"),
    )


def _grown_posterior(
    table: CaptureTable,
    delta: float | None,
    prior: Literal["inverse", "uniform"] | NegativeBinomial,
) -> Posterior:
    top = int(default_missing(table.observed)[-1])
    while True:
        post = posterior(table, delta=delta, prior=prior, missing=np.arange(top + 1))
        if post.tail_share()[1] <= TRUNCATION_SHARE or top >= MAX_MISSING:
            return post
        top = min(4 * top, MAX_MISSING)


def _warnings(post: Posterior, observed: int) -> tuple[str, ...]:
    first, last = post.tail_share()
    found = []
    saturated = post.saturated_probability
    if saturated > SATURATED_SHARE:
        found.append(
            f"the complete graph (every list dependent on every other: the saturated model) "
            f"has posterior probability {saturated:.2f}; under it the lists say nothing about "
            f"how many people were missed, so the estimate follows the priors (δ = "
            f"{post.delta:g}, prior on N {post.prior}) more than the data"
        )
    if last > TRUNCATION_SHARE:
        found.append(
            f"{last:.1%} of the posterior lies in the last tenth of the grid "
            f"(N up to {post.n[-1]:,}): the posterior runs off the grid, so the estimate and "
            "its upper bound are too low; use a longer grid of missing people"
        )
    if post.n[0] > observed and first > TRUNCATION_SHARE:
        found.append(
            f"{first:.1%} of the posterior lies in the first tenth of the grid "
            f"(N from {post.n[0]:,}): the grid cuts the posterior off below; start it lower"
        )
    return tuple(found)


def _details(post: Posterior, table: CaptureTable) -> dict[str, Any]:
    return {
        "delta": post.delta,
        "prior": post.prior,
        "missing_grid": {
            "from": int(post.n[0] - table.observed),
            "to": int(post.n[-1] - table.observed),
            "points": int(post.n.size),
        },
        "mean": post.mean,
        "mode": post.mode,
        "graphs": len(post.graphs),
        "lists": list(table.lists),
        "top_graphs": [
            {"graph": graph.label(), "lists": graph.label(table.lists), "probability": p}
            for graph, p in post.top_graphs()
        ],
    }
