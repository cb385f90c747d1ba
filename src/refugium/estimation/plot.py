"""``--plot``: each method's curve over N, with the observed count marked.

A reader who sees the whole curve sees what a single number hides: a long upper tail, two
methods that disagree, an interval that runs off the chart. The observed count is drawn as a
line because the estimate can never be below it, and how far above it the mass lies is the
whole point. PNG through matplotlib's Agg backend: no display, no fonts beyond its own.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from refugium.durable import write_atomic
from refugium.estimation.result import Estimate

__all__ = ["plot"]


def plot(results: Sequence[Estimate], path: Path, *, title: str) -> None:
    """Write one panel per stratum (pooled last) with every method's curve; atomic write."""
    from matplotlib.figure import Figure  # Figure, not pyplot: no global state, no GUI backend

    strata = list(dict.fromkeys(result.stratum for result in results))
    figure = Figure(figsize=(7.5, 3.2 * len(strata)), layout="constrained")
    axes = figure.subplots(len(strata), 1, squeeze=False)[:, 0]
    for ax, stratum in zip(axes, strata, strict=True):
        shown = [r for r in results if r.stratum == stratum]
        for result in shown:
            if result.curve is None:
                continue
            label = (
                f"{result.method} ({result.curve.label}): {result.estimate:,.0f}"
                f" [{result.lower:,.0f}–{result.upper:,.0f}]"
            )
            ax.plot(result.curve.n, result.curve.height, label=label)
        observed = shown[0].observed
        ax.axvline(observed, color="black", linestyle="--", label=f"observed: {observed:,}")
        ax.set_title(f"{title}: {'all strata' if stratum is None else stratum}"
                     if len(strata) > 1 else title)
        ax.set_xlabel("N, people in all")
        ax.set_ylabel("relative height (peak = 1)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120, metadata={"Software": "refugium"})
    write_atomic(path, buffer.getvalue())
