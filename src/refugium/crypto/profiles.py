"""Named Argon2id cost profiles.

The cost of Argon2id is a choice, not a constant: it is what an attacker who has seized the
server pays per passphrase or receipt guess, and what the server pays per login or receipt
check. Naming the choices (as argon2-cffi's ``argon2.profiles`` does) keeps that choice in one
place, lets settings pick one by name, and lets tests run cheaply without touching the
production values.
"""

from __future__ import annotations

from dataclasses import dataclass

from refugium.errors import BadInput

# Argon2 limits from RFC 9106 section 3.1: at least one pass, 1 to 2**24 - 1 lanes, and at
# least 8 KiB of memory per lane.
_MAX_PARALLELISM = 2**24 - 1
_MAX_MEMORY_KIB = 2**32 - 1


@dataclass(frozen=True)
class Argon2Profile:
    """Argon2id parameters under a name.

    Raises:
        BadInput: (on construction) the parameters are outside what Argon2 accepts.
    """

    name: str
    time_cost: int
    memory_cost_kib: int
    parallelism: int

    def __post_init__(self) -> None:
        if not 1 <= self.parallelism <= _MAX_PARALLELISM:
            raise BadInput(
                "Argon2 parallelism must be between 1 and 2**24 - 1.", code="bad_argon2_profile"
            )
        if self.time_cost < 1:
            raise BadInput("Argon2 time cost must be at least 1.", code="bad_argon2_profile")
        if not 8 * self.parallelism <= self.memory_cost_kib <= _MAX_MEMORY_KIB:
            raise BadInput(
                "Argon2 memory must be at least 8 KiB per lane and below 4 TiB.",
                code="bad_argon2_profile",
            )


# SECOND RECOMMENDED option per RFC 9106 section 4: 3 passes over 64 MiB with 4 lanes. The
# first option (2 GiB) does not fit a small server that must answer a flood of receipt checks.
PRODUCTION = Argon2Profile("production", time_cost=3, memory_cost_kib=65536, parallelism=4)

# Only for testing! Costs nothing, protects nothing.
TESTING = Argon2Profile("testing", time_cost=1, memory_cost_kib=8, parallelism=1)

_PROFILES = {profile.name: profile for profile in (PRODUCTION, TESTING)}


def profile_by_name(name: str) -> Argon2Profile:
    """Look a profile up by the name a setting gives.

    Raises:
        BadInput: no profile has that name.
    """
    try:
        return _PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(_PROFILES))
        raise BadInput(
            f"Unknown Argon2 profile; use one of: {known}.", code="unknown_argon2_profile"
        ) from None
