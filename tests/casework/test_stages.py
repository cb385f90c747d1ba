"""The stages of a case and the moves between them (issue 9, "Cases")."""

from __future__ import annotations

import itertools

import pytest

from refugium.casework.stages import ENDS, ORDER, STAGES, TRANSITIONS, check_transition
from refugium.errors import BadInput


@pytest.mark.parametrize(("here", "there"), list(itertools.pairwise(ORDER)))
def test_every_stage_moves_forward_one_step(here: str, there: str) -> None:
    assert check_transition(here, there) is None


@pytest.mark.parametrize("here", [s for s in STAGES if s not in ENDS])
def test_every_open_stage_can_be_rejected(here: str) -> None:
    assert check_transition(here, "rejected") is None


@pytest.mark.parametrize(
    ("here", "there"), [("exit", "safe"), ("relocated", "safe"), ("safe", "verification")]
)
def test_the_documented_steps_back_are_allowed(here: str, there: str) -> None:
    assert check_transition(here, there) is None


@pytest.mark.parametrize(
    ("here", "there", "message"),
    [
        ("request", "safe", "cannot move to 'safe'; it can move to: verification, rejected"),
        ("verification", "exit", "cannot move to 'exit'"),
        ("resettled", "relocated", "cannot move to 'relocated'"),
        ("closed", "request", "'closed' is an end"),
        ("rejected", "verification", "'rejected' is an end"),
        ("safe", "safe", "already in stage 'safe'"),
        ("safe", "hiding", "no stage 'hiding'"),
        ("nowhere", "safe", "no stage 'nowhere'"),
    ],
)
def test_other_moves_are_refused_with_a_clear_message(here: str, there: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        check_transition(here, there)


def test_ends_lead_nowhere_and_every_stage_has_an_entry() -> None:
    assert TRANSITIONS["closed"] == ()
    assert TRANSITIONS["rejected"] == ()
    reachable = {there for targets in TRANSITIONS.values() for there in targets}
    assert reachable == set(STAGES) - {"request"}
