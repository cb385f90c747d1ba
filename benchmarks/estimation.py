"""How long each estimation method takes on 3, 5 and 8 lists, against the issue's targets.

    .venv/bin/python benchmarks/estimation.py [--runs 3] [--sweeps 10000]

Tables: the Madigan & York 3-list and 5-list tables from ``../shared/data/mse/`` (real
published counts) and an 8-list table simulated from a latent-class model (N = 5,000, fixed
seed; no published 8-list table was at hand). For each, side by side in one process (median
of ``--runs``):

- ``loglinear search``: every candidate model fitted and ranked (``loglinear.search``, all
  three heterogeneity families; stepwise beyond 5 lists), and one statsmodels Poisson GLM fit
  of the independence model times the number of models, the cost of the same search done
  model by model with statsmodels (the ratio column);
- ``loglinear estimate``: the search plus the profile-likelihood interval;
- ``lcmcr sweeps``: ``--sweeps`` Gibbs sweeps in one chain (no burn-in, no thinning), the
  issue's "10,000 iterations", and the sampler's sweeps (draws) per second;
- ``lcmcr estimate``: the default estimate (all chains, burn-in, thinning);
- ``dga estimate``: model averaging over all decomposable graphs (up to 5 lists only).

Targets (issue 8): the log-linear search over all hierarchical models of 5 lists under 10 s;
10,000 latent-class iterations on 5 lists under 30 s. The ``/target`` column is seconds over
target (below 1 meets it).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import common
import numpy as np
from tests.estimation.simulate import LatentClass, simulate

from refugium.estimation import dga, lcmcr, loglinear
from refugium.estimation.table import CaptureTable, read_table

MSE = common.REPO.parent / "shared" / "data" / "mse"
EIGHT = (
    LatentClass(0.3, (0.6, 0.5, 0.3, 0.2, 0.4, 0.3, 0.25, 0.2)),
    LatentClass(0.7, (0.2, 0.15, 0.25, 0.3, 0.1, 0.2, 0.15, 0.25)),
)
TARGETS = {("loglinear search", 5): 10.0, ("lcmcr sweeps", 5): 30.0}


def tables() -> dict[int, CaptureTable]:
    return {
        3: read_table(MSE / "dga_madigan_york_3lists.csv")[None],
        5: read_table(MSE / "dga_madigan_york_5lists.csv")[None],
        8: simulate(np.random.default_rng(8), 5_000, 8, EIGHT),
    }


def timed(run: Callable[[], object], runs: int) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def statsmodels_fit(table: CaptureTable) -> Callable[[], object]:
    import statsmodels.api as sm

    x = sm.add_constant(table.patterns().astype(np.float64))
    y = table.observed_counts().astype(np.float64)
    return lambda: sm.GLM(y, x, family=sm.families.Poisson()).fit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--sweeps", type=int, default=10_000, help="Gibbs sweeps to time")
    args = parser.parse_args()
    import scipy
    import statsmodels

    print(
        f"refugium estimation, Python {platform.python_version()}, NumPy {np.__version__}, "
        f"SciPy {scipy.__version__}, statsmodels {statsmodels.__version__}, "
        f"{os.cpu_count()} cores; median of {args.runs} runs\n",
        flush=True,
    )
    rows = []
    for k, table in tables().items():
        seconds, fits = timed(lambda t=table: loglinear.search(t), args.runs)
        assert isinstance(fits, list)
        glm, _ = timed(statsmodels_fit(table), max(args.runs, 5))
        rows.append(("loglinear search", k, seconds, f"{len(fits):,} models", glm * len(fits)))
        seconds, _ = timed(lambda t=table: loglinear.estimate(t), args.runs)
        rows.append(("loglinear estimate", k, seconds, "search + profile interval", None))
        seconds, _ = timed(
            lambda t=table: lcmcr.sample(
                t, seed=1, iterations=args.sweeps, burn_in=0, thinning=1, chains=1
            ),
            args.runs,
        )
        rows.append(("lcmcr sweeps", k, seconds, f"{args.sweeps / seconds:,.0f} sweeps/s", None))
        seconds, _ = timed(lambda t=table: lcmcr.estimate(t, seed=1), 1)
        rows.append(("lcmcr estimate", k, seconds, "default settings, one run", None))
        if k <= dga.MAX_DGA_LISTS:
            seconds, _ = timed(lambda t=table: dga.estimate(t), args.runs)
            graphs = len(dga.decomposable_graphs(k))
            rows.append(("dga estimate", k, seconds, f"{graphs} graphs", None))
        else:
            rows.append(("dga estimate", k, float("nan"), "not defined beyond 5 lists", None))
        for row in rows[-5:]:
            print(f"  {row[0]}, {row[1]} lists: {row[2]:.3f} s", flush=True)
    print(
        f"\n{'measure':<20} {'lists':>5} {'seconds':>9} {'/target':>8} "
        f"{'statsmodels s':>13} {'ratio':>6}  note"
    )
    for name, k, seconds, note, reference in rows:
        target = TARGETS.get((name, k))
        over = f"{seconds / target:8.3f}" if target else f"{'':>8}"
        ref = f"{reference:13.2f} {seconds / reference:6.3f}" if reference else f"{'':>20}"
        print(f"{name:<20} {k:>5} {seconds:>9.3f} {over} {ref}  {note}")
    print(
        "\n/target: seconds over the issue's target (5 lists: search 10 s, 10,000 sweeps 30 s). "
        "statsmodels s: one statsmodels GLM fit of the independence model times the number of "
        "models (a lower bound on fitting them one by one with it); ratio: ours over that. "
        f"Load average at the end: {os.getloadavg()[0]:.2f}."
    )


if __name__ == "__main__":
    main()
