"""What every estimation method returns: a number that never travels without its interval.

An estimate shown without its interval, the count it started from, the model behind it and
the warnings about it is how a guess becomes a headline. :class:`Estimate` keeps them together
so the command line, the web pages and the reports cannot print one without the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = ["Curve", "Estimate", "json_number"]

Kind = Literal["mle", "posterior median"]


@dataclass(frozen=True)
class Curve:
    """A curve over N for ``--plot``: profile likelihood or posterior, scaled to a peak of 1."""

    n: npt.NDArray[np.float64]
    height: npt.NDArray[np.float64]
    label: str  # "profile likelihood" or "posterior"


@dataclass(frozen=True)
class Estimate:
    """One method's answer for one table (or one stratum of it).

    ``estimate`` is the maximum-likelihood N̂ (``kind="mle"``) or the posterior median
    (``kind="posterior median"``); ``lower`` and ``upper`` bound a 95% interval (profile
    likelihood or posterior quantiles). ``model`` names the selected model in the method's
    own terms, ``details`` holds what a reader of the JSON may want to check (the model
    ranking, the diagnostics) and must be JSON-serialisable.
    """

    method: str
    estimate: float
    kind: Kind
    lower: float
    upper: float
    observed: int
    model: str
    warnings: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    curve: Curve | None = None
    stratum: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` object: the issue's contract plus ``kind``, ``stratum``, ``details``."""
        return {
            "method": self.method,
            "stratum": self.stratum,
            "estimate": json_number(self.estimate),
            "kind": self.kind,
            "lower": json_number(self.lower),
            "upper": json_number(self.upper),
            "observed": self.observed,
            "model": self.model,
            "warnings": list(self.warnings),
            "details": self.details,
        }


def json_number(value: float) -> float | None:
    """JSON has no infinity or NaN: an unbounded interval end is written as null."""
    return float(value) if np.isfinite(value) else None
