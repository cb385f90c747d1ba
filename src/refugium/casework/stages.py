"""The stages of a sanctuary case and the moves between them, as data (issue 9, "Cases").

A case moves forward one step at a time::

    request → verification → safe → exit → relocated → resettled → closed

``rejected`` can be reached from any open stage (a request that fails verification, a lure, a
person who withdraws); ``closed`` and ``rejected`` are ends. Haste is a failure mode ("any case
of a person's extraction requires some serious preparation", research note §1), so no step is
skipped: every stage leaves a recorded transition.

Three steps back are allowed, because the real work goes back:

``exit → safe``
    A route fails (a checkpoint, a ticket bought in the person's name, a driver who does not
    come): the person returns to the safe place and a new route is planned.
``relocated → safe``
    The place of relocation is found, as the Network's safe flat was 1,000 miles from
    Chechnya: the person is moved to a safe place again.
``safe → verification``
    Doubt after the gate was passed (a new provocation flag, a referee who withdraws): the
    case goes back to be verified again, and must pass the gate again to return.
"""

from __future__ import annotations

import itertools
from typing import Final

from refugium.errors import BadInput

STAGES: Final[tuple[str, ...]] = (
    "request",
    "verification",
    "safe",
    "exit",
    "relocated",
    "resettled",
    "closed",
    "rejected",
)
ORDER: Final[tuple[str, ...]] = STAGES[:7]
ENDS: Final[frozenset[str]] = frozenset({"closed", "rejected"})
OPEN: Final[tuple[str, ...]] = tuple(s for s in STAGES if s not in ENDS)
FIRST: Final = "request"
BACK: Final[frozenset[tuple[str, str]]] = frozenset(
    {("exit", "safe"), ("relocated", "safe"), ("safe", "verification")}
)


def _allowed() -> dict[str, tuple[str, ...]]:
    moves: dict[str, list[str]] = {stage: [] for stage in STAGES}
    for here, there in itertools.pairwise(ORDER):
        moves[here].append(there)
    for here, there in sorted(BACK):
        moves[here].append(there)
    for stage in OPEN:
        moves[stage].append("rejected")
    return {stage: tuple(targets) for stage, targets in moves.items()}


TRANSITIONS: Final[dict[str, tuple[str, ...]]] = _allowed()


def check_stage(stage: str) -> str:
    """``stage`` if it is one.

    Raises:
        BadInput: not a stage (the message lists them).
    """
    if stage not in STAGES:
        raise BadInput(f"no stage {stage!r}; stages: {', '.join(STAGES)}")
    return stage


def check_transition(current: str, target: str) -> None:
    """Returns if a case in ``current`` may move to ``target``.

    Raises:
        BadInput: an unknown stage, a move to the same stage, out of an end, or a move the
            table does not allow (the message says where the case can go).
    """
    check_stage(current)
    check_stage(target)
    if current == target:
        raise BadInput(f"the case is already in stage {current!r}")
    allowed = TRANSITIONS[current]
    if not allowed:
        raise BadInput(f"stage {current!r} is an end: the case cannot move any more")
    if target not in allowed:
        raise BadInput(
            f"a case in stage {current!r} cannot move to {target!r}; "
            f"it can move to: {', '.join(allowed)}"
        )
