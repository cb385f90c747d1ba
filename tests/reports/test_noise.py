"""Noise with OpenDP: non-negative integers, the mechanism stated, and a clear refusal
when OpenDP is absent."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from refugium.errors import BadInput
from refugium.reports import Table, add_noise, available, noise
from refugium.reports.tables import Axis

needs_dp = pytest.mark.skipif(not available(), reason="OpenDP (extra [dp]) is not installed")


@needs_dp
def test_noisy_counts_are_non_negative_integers_and_the_mechanism_is_stated() -> None:
    counts = [0, 1, 3, 10, 250]
    noisy, mechanism = add_noise(counts, epsilon=1.0)
    assert len(noisy) == len(counts)
    assert all(type(v) is int and v >= 0 for v in noisy)
    assert mechanism.epsilon == 1.0
    assert mechanism.sensitivity == 1
    assert mechanism.scale == 1.0
    assert mechanism.library.startswith("opendp ")
    assert set(mechanism.to_json()) == {"name", "epsilon", "sensitivity", "scale", "library"}


@needs_dp
def test_the_noise_is_real_and_scaled_by_sensitivity_over_epsilon() -> None:
    # At scale 10 (epsilon 0.1), 200 draws around 1000 are almost surely not all equal to it,
    # and their mean absolute error is near the scale (discrete Laplace: about 10).
    noisy, mechanism = add_noise([1000] * 200, epsilon=0.1)
    assert mechanism.scale == pytest.approx(10.0)
    errors = [abs(v - 1000) for v in noisy]
    assert 5 < sum(errors) / len(errors) < 15
    _, wide = add_noise([5], epsilon=0.5, sensitivity=3)
    assert wide.scale == pytest.approx(6.0)


@needs_dp
def test_noise_then_suppression_keeps_tables_additive() -> None:
    noisy, _ = add_noise([2, 40, 3, 60], epsilon=1.0)
    axis = Axis("r", "R", ("a", "b", "c", "d"), ("A", "B", "C", "D"))
    table = Table.one_way("t", "T", axis, noisy).protect(5)
    assert table.total == sum(noisy)
    for value, entry in zip(noisy, table.to_json()["cells"], strict=True):
        assert entry == {"suppressed": True} or not 1 <= entry["count"] < 5
        assert entry == {"suppressed": True} or entry["count"] == value


@needs_dp
def test_a_table_with_noise_states_its_mechanism_and_refuses_noise_after_protection() -> None:
    axis = Axis("r", "R", ("a", "b"), ("A", "B"))
    cols = Axis("c", "C", ("x", "y", "z"), ("X", "Y", "Z"))
    table = Table.two_way("t", "T", axis, cols, [[30, 40, 50], [60, 70, 80]])
    noisy = table.with_noise(0.5, sensitivity=2)
    assert noisy.noise is not None
    assert len(noisy.counts) == 2
    assert all(len(row) == 3 for row in noisy.counts)
    data = noisy.protect(5).to_json()
    assert data["noise"] == noisy.noise.to_json()
    assert data["noise"]["epsilon"] == 0.5
    assert table.protect(5).to_json()["noise"] is None
    with pytest.raises(BadInput, match="before protecting"):
        table.protect(5).with_noise(1.0)
    with pytest.raises(BadInput, match="once"):
        noisy.with_noise(1.0)


@needs_dp
@pytest.mark.parametrize(
    ("counts", "epsilon", "sensitivity"),
    [([1], 0.0, 1), ([1], -1.0, 1), ([1], float("inf"), 1), ([1], 1.0, 0), ([-1], 1.0, 1)],
)
def test_bad_parameters_are_refused(counts: list[int], epsilon: float, sensitivity: int) -> None:
    with pytest.raises(BadInput):
        add_noise(counts, epsilon, sensitivity)


def test_without_opendp_it_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_opendp(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("opendp"):
            raise ImportError("no opendp")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_opendp)
    assert not noise.available()
    with pytest.raises(BadInput, match=r"refugium\[dp\]") as e:
        add_noise([1, 2], 1.0)
    assert e.value.code == "dp_unavailable"
