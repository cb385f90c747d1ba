"""Optional calibrated noise on counts (differential privacy) with OpenDP.

:func:`add_noise` takes the true cell counts of one table, a privacy parameter ``epsilon``
and the table's L1 sensitivity (how much the counts can change in total when one person's
records are added or removed: 1 when each person is counted in at most one cell, more when a
person can appear in several acts), and returns noisy counts and a :class:`Mechanism` that
the report states: "discrete Laplace noise, epsilon 1.0, sensitivity 1, scale 1.0".

The mechanism is OpenDP's discrete Laplace (``make_laplace`` on a vector of integers under
the L1 distance) with scale = sensitivity / epsilon; OpenDP's privacy map is asked to confirm
that the measurement satisfies ``epsilon`` before any noise is drawn. Noisy counts below zero
are reported as zero: post-processing a differentially private release keeps its guarantee.
Each noisy table spends its own epsilon; a report with n noisy tables spends the sum (basic
sequential composition), which the compiler states.

:meth:`refugium.reports.tables.Table.with_noise` applies it to a table's cells and keeps the
mechanism with the table, so that its data.json entry states epsilon (``"noise"``).

Order: noise first, then suppression. Suppression decides on the *noisy* counts, and the
margins are the sums of the noisy cells. Deciding on the true counts would leak them: a cell
hidden because its true count is 3 tells the reader the true count is below k whatever noise
was added. Suppressing noisy counts is post-processing of the DP release, so it costs no
privacy, and the published table stays additive (totals equal the sum of the cells).

Noisy reports are not byte-reproducible: OpenDP draws from the operating system's secure
random source, deliberately without a seed (a seed in the report definition would let anyone
subtract the noise). The same definition gives the same data.json only without noise.

OpenDP is an optional dependency (``pip install 'refugium[dp]'``). Without it,
:func:`available` is False and :func:`add_noise` raises ``BadInput`` (code
"dp_unavailable") saying so; nothing falls back to a home-made mechanism.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from refugium.errors import BadInput

__all__ = ["MECHANISM_NAME", "Mechanism", "add_noise", "available"]

MECHANISM_NAME = "discrete Laplace (OpenDP make_laplace on integer counts)"


@dataclass(frozen=True)
class Mechanism:
    """What the report states about the noise on one table."""

    name: str
    epsilon: float
    sensitivity: int
    scale: float
    library: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "epsilon": self.epsilon,
            "sensitivity": self.sensitivity,
            "scale": self.scale,
            "library": self.library,
        }


def _opendp() -> Any:
    try:
        import opendp.prelude as dp  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return dp


def available() -> bool:
    """Whether OpenDP is installed, so that :func:`add_noise` can work."""
    return _opendp() is not None


def add_noise(
    counts: Sequence[int], epsilon: float, sensitivity: int = 1
) -> tuple[list[int], Mechanism]:
    """Noisy, non-negative integer counts and the mechanism that made them.

    Raises:
        BadInput: OpenDP is not installed (code "dp_unavailable"), epsilon is not a finite
            number > 0, sensitivity is not a whole number ≥ 1, or a count is negative.
    """
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float):
        raise BadInput("epsilon must be a number", code="dp_epsilon")
    if not math.isfinite(epsilon) or epsilon <= 0:
        raise BadInput("epsilon must be a finite number greater than 0", code="dp_epsilon")
    if type(sensitivity) is not int or sensitivity < 1:
        raise BadInput(
            "the sensitivity must be a whole number of at least 1", code="dp_sensitivity"
        )
    values = list(counts)
    if any(type(c) is not int or c < 0 for c in values):
        raise BadInput("counts must be non-negative integers", code="dp_counts")
    dp = _opendp()
    if dp is None:
        raise BadInput(
            "noise needs OpenDP, which is not installed: pip install 'refugium[dp]' "
            "(or build the report without noise)",
            code="dp_unavailable",
        )
    dp.enable_features("contrib")
    epsilon = float(epsilon)
    scale = sensitivity / epsilon
    measurement = dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=scale
    )
    spent = measurement.map(sensitivity)
    if spent > epsilon * (1 + 1e-9):
        raise BadInput(
            f"OpenDP reports epsilon {spent} for this mechanism, above the {epsilon} asked for",
            code="dp_epsilon",
        )
    noisy = [max(0, int(v)) for v in measurement(values)] if values else []
    version = metadata.version("opendp")
    return noisy, Mechanism(MECHANISM_NAME, epsilon, sensitivity, scale, f"opendp {version}")
