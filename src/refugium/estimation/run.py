"""Running the methods over a file's strata: what ``refugium estimate`` does, minus printing.

One method failing (too many lists for dga, a table no log-linear model can fit) must not hide
the others' answers, and must not vanish either: it comes back as an :class:`Estimate` with no
number and the reason in its warnings, so a script reading the JSON sees every method it asked
for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from refugium.estimation.result import Estimate, Kind
from refugium.estimation.table import BadTable, CaptureTable

__all__ = ["KINDS", "METHODS", "Options", "estimate_tables", "pooled", "table_warnings"]

METHODS: Final = ("loglinear", "lcmcr", "dga")
KINDS: Final[Mapping[str, Kind]] = {
    "loglinear": "mle",
    "lcmcr": "posterior median",
    "dga": "posterior median",
}


@dataclass(frozen=True)
class Options:
    """What the command line lets a user set: the sampler's seed and its length."""

    seed: int
    iterations: int | None = None  # lcmcr sweeps kept per chain; None: the module's default


Runner = Callable[[CaptureTable, Options], Estimate]


def _loglinear(table: CaptureTable, options: Options) -> Estimate:
    from refugium.estimation import loglinear

    return loglinear.estimate(table)


def _lcmcr(table: CaptureTable, options: Options) -> Estimate:
    from refugium.estimation import lcmcr

    if options.iterations is None:
        return lcmcr.estimate(table, seed=options.seed)
    burn_in = min(lcmcr.BURN_IN, options.iterations // 4)
    return lcmcr.estimate(table, seed=options.seed, iterations=options.iterations, burn_in=burn_in)


def _dga(table: CaptureTable, options: Options) -> Estimate:
    from refugium.estimation import dga

    return dga.estimate(table)


RUNNERS: Final[Mapping[str, Runner]] = {"loglinear": _loglinear, "lcmcr": _lcmcr, "dga": _dga}


def pooled(tables: Mapping[str | None, CaptureTable]) -> CaptureTable:
    """All strata added together (they share their lists by construction of the reader)."""
    first = next(iter(tables.values()))
    counts = np.sum([table.counts for table in tables.values()], axis=0)
    return CaptureTable(first.lists, counts)


def estimate_tables(
    tables: Mapping[str | None, CaptureTable],
    methods: Sequence[str],
    options: Options,
    *,
    progress: Callable[[str], None] | None = None,
) -> list[Estimate]:
    """Every method on every stratum, then on all strata pooled (stratum ``None``).

    With a single unstratified table that is just every method on it. The seed is the same
    for every stratum, so a rerun with it repeats every figure.
    """
    work: list[tuple[str | None, CaptureTable]] = list(tables.items())
    if len(tables) > 1 or None not in tables:
        work.append((None, pooled(tables)))
    results = []
    for stratum, table in work:
        for method in methods:
            if progress is not None:
                where = f" (stratum {stratum})" if stratum is not None else ""
                progress(f"{method}{where}: {table.observed:,} people on {table.k} lists")
            results.append(_run(method, table, options, stratum))
    return results


SMALL_OVERLAP: Final = 20
"""Fewer people than this on two lists or more, and the overlaps are too thin to lean on."""


def table_warnings(table: CaptureTable) -> tuple[str, ...]:
    """Reasons to doubt any method's answer on this table, whatever the model."""
    found = []
    if table.k == 2:
        found.append(
            "two lists cannot show whether they depend on each other: every estimate here "
            "assumes they do not, and nothing in the data checks it"
        )
    single = int(table.counts[1 << np.arange(table.k)].sum())
    overlap = table.observed - single
    if overlap < SMALL_OVERLAP:
        found.append(
            f"only {overlap} of the {table.observed:,} people are on more than one list: the "
            "overlaps every method rests on are thin, and a few records more or less would "
            "move the estimate a lot"
        )
    return tuple(found)


def _run(method: str, table: CaptureTable, options: Options, stratum: str | None) -> Estimate:
    try:
        result = RUNNERS[method](table, options)
    except BadTable as exc:
        return _not_run(method, table, str(exc), stratum)
    except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
        return _not_run(method, table, f"the computation failed: {exc}", stratum)
    warnings = table_warnings(table) + result.warnings
    return dataclasses.replace(result, stratum=stratum, warnings=warnings)


def _not_run(method: str, table: CaptureTable, reason: str, stratum: str | None) -> Estimate:
    return Estimate(
        method=method,
        estimate=float("nan"),
        kind=KINDS[method],
        lower=float("nan"),
        upper=float("nan"),
        observed=table.observed,
        model="",
        warnings=(f"not estimated: {reason}",),
        stratum=stratum,
    )
