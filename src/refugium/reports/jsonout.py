"""Deterministic JSON for everything a report writes: the same data gives the same bytes.

Sorted keys, fixed separators, UTF-8 text (Russian labels stay readable), no NaN or infinity,
and a final newline. Floats are written by Python's shortest round-trip repr, which is the same
on every platform for the same float; reports only carry floats the definition gave
(epsilon) or derived from them by one division (the noise scale).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps"]


def dumps(value: Any) -> str:
    """``value`` as canonical JSON text ending in a newline.

    Raises:
        ValueError: NaN or infinity in ``value``.
        TypeError: something JSON cannot hold.
    """
    return (
        json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        + "\n"
    )
