"""When an overdue task escalates, and to whom: the rule without Django (issue 9).

Primero shows overdue tasks on a dashboard, where nobody looks while a person waits for a
ticket (``../shared/research/casework.md``, section 6, requirement 12). Here the server pushes
them: the periodic pass (``refugium checkins run``) notifies a task's owner when the task
becomes overdue, then the case's coordinators if it is still open after a delay weighted by
the case's risk. The delays are data (``data/tasks.toml``); this module reads them and
decides, for one task at one moment, which step is due. The caller sends the notices and
records the step taken, so that no step is ever sent twice.

Decisions, with their reasons:

* **Due is a day, overdue is the day after.** A task is due "by Tuesday", in the
  organisation's time zone; it is overdue once that day has ended, not at some hour of it.
* **The coordinators' delay counts from when the owner was notified**, not from the due day:
  after the server was down, the owner still gets the whole delay to act before anyone else
  is told (as the check-in tiers do, ``checkins``).
* **The risk is read at each pass**: a case whose risk was raised escalates on the shorter
  delay from then on.
* **Limits are inclusive**: the coordinators are told only *after* their delay has passed.

Every datetime must be timezone-aware; naive ones are refused with ``ValueError``.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final

from refugium.casework.datafiles import read_rules
from refugium.errors import BadInput

__all__ = [
    "COORDINATORS",
    "NONE",
    "OWNER",
    "RISKS",
    "Delays",
    "load_delays",
    "next_step",
    "overdue",
    "parse_delays",
]

DATA_FILE: Final = "tasks.toml"
#: The risk levels of a case, lowest first (``Case.Risk`` of the web models, as codes).
RISKS: Final[tuple[str, ...]] = ("low", "medium", "high", "critical")
#: The escalation steps a task has been through, in order (the stored value).
NONE: Final = 0
OWNER: Final = 1
COORDINATORS: Final = 2
_KEY: Final = "coordinators_after_minutes"


@dataclass(frozen=True)
class Delays:
    """How long after the owner was notified the coordinators are told, per risk level."""

    coordinators_after: Mapping[str, timedelta]

    def for_risk(self, risk: str) -> timedelta:
        """Raises:
        BadInput: not a risk level.
        """
        try:
            return self.coordinators_after[risk]
        except KeyError:
            raise BadInput(f"no risk level {risk!r}; levels: {', '.join(RISKS)}") from None


def load_delays(path: Path | None = None) -> Delays:
    """The delays in ``path``, or in the packaged ``data/tasks.toml``.

    Raises:
        BadInput: the file cannot be read, is not TOML, or breaks a rule.
    """
    text, source = read_rules(DATA_FILE, path, "the task escalation delays")
    return parse_delays(text, source=source)


def parse_delays(text: str, *, source: str = DATA_FILE) -> Delays:
    """The delays in a TOML text.

    Raises:
        BadInput: not TOML, a key other than ``coordinators_after_minutes``, a risk level
            missing or unknown, a delay that is not a positive whole number of minutes, or a
            higher risk waiting longer than a lower one.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BadInput(f"{source}: not valid TOML: {error}") from None
    unknown = sorted(set(data) - {_KEY})
    if unknown:
        raise BadInput(f"{source}: unknown key {unknown[0]!r}; keys: {_KEY}")
    table = data.get(_KEY)
    if not isinstance(table, dict):
        raise BadInput(f"{source}: needs a [{_KEY}] table")
    levels = sorted(set(table) ^ set(RISKS))
    if levels:
        raise BadInput(
            f"{source}: [{_KEY}] must give exactly the risk levels {', '.join(RISKS)}; "
            f"{levels[0]!r} is missing or unknown"
        )
    delays: dict[str, timedelta] = {}
    for risk in RISKS:
        value = table[risk]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise BadInput(f"{source}: {_KEY}.{risk} must be a positive whole number of minutes")
        delays[risk] = timedelta(minutes=value)
    for lower, higher in itertools.pairwise(RISKS):
        if delays[higher] > delays[lower]:
            raise BadInput(
                f"{source}: {_KEY}.{higher} is longer than {_KEY}.{lower}; "
                "a higher risk must not wait longer"
            )
    return Delays(coordinators_after=delays)


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, not naive")
    return value


def overdue(due_on: date, today: date) -> bool:
    """Whether a task due on ``due_on`` is overdue on ``today``: its day has ended."""
    return today > due_on


def next_step(
    *,
    due_on: date,
    today: date,
    now: datetime,
    step: int,
    owner_notified_at: datetime | None,
    risk: str,
    delays: Delays,
) -> int | None:
    """The step to take now for an open task (``OWNER`` or ``COORDINATORS``), or None.

    ``step`` is the last step taken (``NONE``, ``OWNER``, ``COORDINATORS``); ``today`` is
    ``now``'s day in the organisation's time zone (the caller's to compute, since the zone is
    its setting). A done task is the caller's to skip: it never gets here.

    Raises:
        ValueError: a naive datetime, an unknown step, or ``OWNER`` taken without its time.
        BadInput: an unknown risk level.
    """
    _aware(now, "now")
    if step not in (NONE, OWNER, COORDINATORS):
        raise ValueError(f"no escalation step {step!r}")
    delay = delays.for_risk(risk)
    if step == COORDINATORS or not overdue(due_on, today):
        return None
    if step == NONE:
        return OWNER
    if owner_notified_at is None:
        raise ValueError("a task whose owner was notified needs the time it was")
    if now - _aware(owner_notified_at, "owner_notified_at") > delay:
        return COORDINATORS
    return None
