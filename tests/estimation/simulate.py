"""Populations of known size from latent-class models, for checking estimators against the truth.

Shared by ``tests/estimation/test_lcmcr.py`` (a few seeded replicates) and
``benchmarks/estimation_coverage.py`` (the full coverage study).

Each scenario is a mixture of latent classes. Within a class the lists record people
independently, each with its own probability; across classes the probabilities differ
(heterogeneity: some people are much easier to record than others), and in each scenario two
lists share a class in which both are likely to record people (list dependence: being on the
first makes being on the second more likely, as with two lists fed by the same registry).
Those are the two departures from independence that break two-list capture-recapture and that
the latent-class model is meant to absorb.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from refugium.estimation.table import CaptureTable

__all__ = ["SCENARIOS", "LatentClass", "Scenario", "missing_share", "simulate"]


@dataclass(frozen=True)
class LatentClass:
    """A share of the population and the probability that each list records its members."""

    share: float
    capture: tuple[float, ...]


@dataclass(frozen=True)
class Scenario:
    """``n`` people on ``k`` lists from ``classes``; ``key`` is short ("5x2000") for options."""

    key: str
    n: int
    classes: tuple[LatentClass, ...]

    @property
    def name(self) -> str:
        return f"{self.k} lists, N = {self.n:,}"

    @property
    def k(self) -> int:
        return len(self.classes[0].capture)

    def draw(self, rng: np.random.Generator) -> CaptureTable:
        return simulate(rng, self.n, self.k, self.classes)


def _pattern_probabilities(capture: Sequence[float]) -> np.ndarray:
    """P(pattern) for every cell (list j = bit j) when the lists record independently."""
    k = len(capture)
    bits = (np.arange(2**k)[:, None] >> np.arange(k)) & 1
    p = np.asarray(capture, dtype=np.float64)
    return np.asarray(np.prod(np.where(bits == 1, p, 1.0 - p), axis=1))


def missing_share(classes: Sequence[LatentClass]) -> float:
    """The expected share of the population on no list."""
    return float(sum(c.share * _pattern_probabilities(c.capture)[0] for c in classes))


def simulate(
    rng: np.random.Generator, n: int, k: int, classes: Sequence[LatentClass]
) -> CaptureTable:
    """A population of exactly ``n`` people drawn from the latent-class model ``classes``
    on ``k`` lists, as the capture table of those who are on at least one list.

    People are split among the classes by a multinomial draw on the shares, then each class's
    members among the ``2**k`` patterns by a multinomial on the pattern probabilities; the
    all-zero cell (people on no list) is dropped, as it is in real data.
    """
    if any(len(c.capture) != k for c in classes):
        raise ValueError(f"every class needs {k} capture probabilities")
    shares = np.array([c.share for c in classes], dtype=np.float64)
    per_class = rng.multinomial(n, shares / shares.sum())
    counts = np.zeros(2**k, dtype=np.int64)
    for size, latent in zip(per_class, classes, strict=True):
        counts += rng.multinomial(size, _pattern_probabilities(latent.capture))
    counts[0] = 0
    return CaptureTable(tuple(f"L{j + 1}" for j in range(k)), counts)


def _classes(*rows: tuple[float, tuple[float, ...]]) -> tuple[LatentClass, ...]:
    return tuple(LatentClass(share, capture) for share, capture in rows)


# Lists 1 and 2 share a class that both record well; the rest of the population is harder
# to record and is recorded mostly by the other lists.
THREE = _classes((0.3, (0.7, 0.6, 0.25)), (0.7, (0.3, 0.25, 0.45)))
FOUR = _classes((0.25, (0.7, 0.6, 0.2, 0.3)), (0.75, (0.25, 0.15, 0.35, 0.3)))
FIVE = _classes(
    (0.2, (0.75, 0.65, 0.2, 0.3, 0.2)),
    (0.3, (0.3, 0.2, 0.55, 0.45, 0.3)),
    (0.5, (0.1, 0.15, 0.15, 0.2, 0.25)),
)

SCENARIOS: dict[str, Scenario] = {
    s.key: s
    for s in (
        Scenario("3x500", 500, THREE),
        Scenario("3x2000", 2_000, THREE),
        Scenario("4x2000", 2_000, FOUR),
        Scenario("4x10000", 10_000, FOUR),
        Scenario("5x500", 500, FIVE),
        Scenario("5x2000", 2_000, FIVE),
        Scenario("5x10000", 10_000, FIVE),
    )
}
"""About a quarter of each population is on no list (:func:`missing_share`)."""
