from __future__ import annotations

import pytest

from refugium.crypto import PRODUCTION, TESTING, Argon2Profile, BadInput, profile_by_name


def test_production_profile_is_rfc_9106_second_recommendation() -> None:
    # Pinned: changing these changes every login's and every receipt check's cost.
    assert (
        Argon2Profile(name="production", time_cost=3, memory_cost_kib=65536, parallelism=4)
        == PRODUCTION
    )


def test_testing_profile_is_the_cheapest_argon2_allows() -> None:
    assert Argon2Profile(name="testing", time_cost=1, memory_cost_kib=8, parallelism=1) == TESTING


def test_profile_by_name() -> None:
    assert profile_by_name("production") is PRODUCTION
    assert profile_by_name("testing") is TESTING


def test_unknown_profile_name_is_bad_input() -> None:
    with pytest.raises(BadInput) as caught:
        profile_by_name("Production")
    assert caught.value.code == "unknown_argon2_profile"


@pytest.mark.parametrize(
    ("time_cost", "memory_cost_kib", "parallelism"),
    [(0, 8, 1), (1, 7, 1), (1, 15, 2), (1, 8, 0), (1, 2**32, 1)],
)
def test_profile_outside_argon2_limits_is_refused(
    time_cost: int, memory_cost_kib: int, parallelism: int
) -> None:
    with pytest.raises(BadInput) as caught:
        Argon2Profile("x", time_cost, memory_cost_kib, parallelism)
    assert caught.value.code == "bad_argon2_profile"


def test_profile_at_argon2_lower_limits_is_accepted() -> None:
    assert Argon2Profile("x", 1, 16, 2).memory_cost_kib == 16
