"""Check-ins for people in transit or hiding, and how a missed one escalates (issue 9).

Why it is built this way:

* **The timer lives on the server.** Phones are seized, shut down and imaged at the first
  search, so a switch on the phone never fires (``../shared/research/casework.md``, section 4).
  The server keeps each person's :class:`Schedule` and a management command runs
  :func:`escalation_pass` under cron or a systemd timer; nothing here needs an outside service.
* **The phone may be held by someone else.** Police search detainees' phones for the next
  victims and have made detainees lure others from them (research note, section 0). So every
  person agrees two answers in advance, a normal one and a duress one, that look alike (two
  ordinary words, two PINs). Only keyed digests of them are stored. The phone gets the same
  reply to either answer, and to a wrong one; only the server knows that a duress answer
  raises an alert at the top tier at once (:func:`classify_answer`).
* **A human resolves every alert.** A check-in that arrives after an alert does not close
  it: the check-in may come from whoever now holds the phone, perhaps with the normal answer
  forced out of the person. A handler must reach the person on a channel known before, then
  acknowledge and resolve the alert; the caller audits both steps.

Decisions, with their reasons:

* **The clock runs from the last check-in, not from a clock face.** A check-in is due
  ``every`` after the last one (or after ``starts``), and missed once ``grace`` has passed
  too. A person in hiding checks in when it is safe to, and early check-ins just restart
  the clock, so the longest silence the server ever accepts is ``every + grace``.
* **No quiet hours.** A window in which silence is accepted is a window in which a raid or
  an abduction goes unnoticed until morning. A person who must sleep gets a longer ``every``
  or ``grace`` instead, so the silence the server accepts stays one number that the handler
  chose and can see.
* **Limits are inclusive.** A check-in is missed only *after* ``due + grace``; an alert
  climbs only *after* its tier's delay; a re-notification comes only *after* its delay.
* **One tier per pass, and every tier gets its whole delay.** After the server was down, an
  overdue alert climbs one tier, and that tier's delay counts from then: skipping the
  coordinator because the server was late would wake the partner before the coordinator
  had a chance to act.
* **Acknowledged, not resolved: re-notify.** An acknowledged alert keeps its tier but is
  sent again to that tier every ``renotify_after`` until someone resolves it, so an
  acknowledgement cannot bury it. An unacknowledged alert at the top tier is re-notified on
  the same delay.
* **A wrong answer is an alert at ``unknown_answer_tier`` (tier 1 as shipped)** and does not
  count as a check-in: it may be a guess by whoever holds the phone. A duress answer counts
  as a check-in for the clock (the person answered, and the alert is already at the top).
* **Resolving a missed alert restarts the clock** from the moment it was resolved, so a
  person still silent after that raises a new alert ``every + grace`` later, not never.
* **Answers are normalised before digesting** (:func:`normalise_answer`): NFKC, case-folded,
  ``ё`` as ``е``, punctuation and symbols dropped, white space collapsed; a phone's keyboard
  capitalises, autocorrects and adds full stops, and a person under stress must not raise an
  alert, or fail to raise one, because of that.

Every function takes ``now``; nothing here reads the clock. Every datetime must be
timezone-aware; naive ones are refused with ``ValueError``, because a naive time compared
across the server's and a handler's zones would shift every deadline.
"""

from __future__ import annotations

import dataclasses
import hmac
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final, Literal

from refugium.casework.datafiles import read_rules
from refugium.errors import BadInput, Conflict

__all__ = [
    "Action",
    "Alert",
    "Answer",
    "CheckIn",
    "Digest",
    "Escalate",
    "Escalation",
    "Raise",
    "Reason",
    "Renotify",
    "Schedule",
    "Tier",
    "Tiers",
    "Watch",
    "apply",
    "classify_answer",
    "due",
    "enrol_answers",
    "escalation_pass",
    "load_tiers",
    "normalise_answer",
    "parse_tiers",
]

Answer = Literal["ok", "duress", "unknown"]
Reason = Literal["missed", "duress", "unknown"]
# What the caller's keyed hash returns for a normalised answer: one digest, or the digests
# under every desk key, newest first (``KeyedHasher.candidates``), so that answers enrolled
# before a key rotation still match.
Digest = Callable[[str], str | Sequence[str]]

DATA_FILE: Final = "escalation.toml"
MAX_ANSWER_LENGTH: Final = 200


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, not naive")
    return value


# ---------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class Schedule:
    """How often a person checks in, and how late a check-in may be.

    A check-in is due ``every`` after the last one (or after ``starts`` before the first) and
    missed once ``grace`` has passed as well. No check-in is due after ``ends``.

    Raises:
        ValueError: a naive datetime, a period that is not positive, a negative grace, or
            an end not after the start.
    """

    every: timedelta
    grace: timedelta
    starts: datetime
    ends: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.starts, "starts")
        if self.ends is not None and _aware(self.ends, "ends") <= self.starts:
            raise ValueError("a schedule must end after it starts")
        if self.every <= timedelta(0):
            raise ValueError("a check-in period must be positive")
        if self.grace < timedelta(0):
            raise ValueError("a grace period cannot be negative")


@dataclass(frozen=True)
class CheckIn:
    """A check-in received by the server, with how its answer was classified.

    The verdict is stored, not a digest of what was typed: a wrong answer may be the
    person's other secret or a captor's guess, and neither should be kept.

    Raises:
        ValueError: a naive ``at`` or an unknown verdict.
    """

    at: datetime
    answer: Answer = "ok"

    def __post_init__(self) -> None:
        _aware(self.at, "at")
        if self.answer not in ("ok", "duress", "unknown"):
            raise ValueError(f"no answer verdict {self.answer!r}")

    @property
    def counts(self) -> bool:
        """Whether it restarts the clock: a wrong answer does not (it may be a guess)."""
        return self.answer != "unknown"


@dataclass(frozen=True)
class Alert:
    """Something about a person's check-ins that a human must see.

    ``due_since`` is the moment the alert is about: the due time that was missed, or the
    time of the duress or unknown answer. With ``case_ref`` and ``reason`` it identifies the
    alert (:attr:`key`), which is how a pass never raises the same alert twice.

    Raises:
        ValueError: a naive datetime, an unknown reason or a tier below 1.
    """

    case_ref: str
    tier: int
    raised_at: datetime
    reason: Reason
    due_since: datetime

    def __post_init__(self) -> None:
        _aware(self.raised_at, "raised_at")
        _aware(self.due_since, "due_since")
        if self.reason not in ("missed", "duress", "unknown"):
            raise ValueError(f"no alert reason {self.reason!r}")
        if self.tier < 1:
            raise ValueError("tiers start at 1")

    @property
    def key(self) -> tuple[str, Reason, datetime]:
        return (self.case_ref, self.reason, self.due_since)


@dataclass(frozen=True)
class Escalation:
    """Where an alert stands: the tier it has reached, who acknowledged and resolved it.

    ``tier_since`` is when the current tier was notified (its escalation delay counts from
    there); ``notified_at`` is the latest notification, re-notifications included.

    Raises:
        ValueError: a naive datetime, or a resolution without an acknowledgement.
    """

    alert: Alert
    tier: int
    tier_since: datetime
    notified_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None

    def __post_init__(self) -> None:
        for name in ("tier_since", "notified_at", "acknowledged_at", "resolved_at"):
            value = getattr(self, name)
            if value is not None:
                _aware(value, name)
        if (self.acknowledged_at is None) != (self.acknowledged_by is None):
            raise ValueError("an acknowledgement needs both a time and a person")
        if (self.resolved_at is None) != (self.resolved_by is None):
            raise ValueError("a resolution needs both a time and a person")
        if self.resolved_at is not None and self.acknowledged_at is None:
            raise ValueError("an alert is acknowledged before it is resolved")

    @classmethod
    def opened(cls, alert: Alert) -> Escalation:
        """The state of an alert just raised: at its own tier, notified now."""
        return cls(alert, alert.tier, alert.raised_at, alert.raised_at)

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def acknowledge(self, by: str, at: datetime) -> Escalation:
        """Someone has seen the alert and is acting on it: it stops climbing.

        Raises:
            Conflict: it was already acknowledged.
            ValueError: a naive time or no one named.
        """
        _aware(at, "at")
        if not by:
            raise ValueError("an acknowledgement names who made it")
        if self.acknowledged_at is not None:
            raise Conflict("the alert was already acknowledged", code="already_acknowledged")
        return dataclasses.replace(self, acknowledged_at=at, acknowledged_by=by)

    def resolve(self, by: str, at: datetime) -> Escalation:
        """A human has established, on a channel known before, what happened: the alert ends.

        Raises:
            Conflict: it was not acknowledged first, or was already resolved.
            ValueError: a naive time, a time before the acknowledgement, or no one named.
        """
        _aware(at, "at")
        if not by:
            raise ValueError("a resolution names who made it")
        if self.acknowledged_at is None:
            raise Conflict("acknowledge the alert before resolving it", code="not_acknowledged")
        if self.resolved_at is not None:
            raise Conflict("the alert was already resolved", code="already_resolved")
        if at < self.acknowledged_at:
            raise ValueError("an alert cannot be resolved before it was acknowledged")
        return dataclasses.replace(self, resolved_at=at, resolved_by=by)


@dataclass(frozen=True)
class Watch:
    """One person's schedule, recent check-ins and alerts: what a pass needs to decide.

    ``check_ins`` must hold the person's latest counting check-in and every check-in since
    the previous pass; ``escalations`` every open alert and every resolved one whose
    ``due_since`` is at or after the oldest check-in given (all of them if none is given).
    Everything since the schedule started is always a correct input.

    Raises:
        ValueError: an escalation of another case.
    """

    case_ref: str
    schedule: Schedule
    check_ins: tuple[CheckIn, ...] = ()
    escalations: tuple[Escalation, ...] = ()

    def __post_init__(self) -> None:
        if any(e.alert.case_ref != self.case_ref for e in self.escalations):
            raise ValueError("a watch holds only its own case's alerts")

    @property
    def last_check_in(self) -> CheckIn | None:
        counting = [c for c in self.check_ins if c.counts]
        return max(counting, key=lambda c: c.at, default=None)


# ---------------------------------------------------------------------------------------------
# Actions a pass asks the caller to take


@dataclass(frozen=True)
class Raise:
    """Record ``alert`` and notify its tier."""

    alert: Alert

    @property
    def tier(self) -> int:
        return self.alert.tier


@dataclass(frozen=True)
class Escalate:
    """Nobody acknowledged ``alert`` in time: notify the next tier."""

    alert: Alert
    from_tier: int
    to_tier: int
    at: datetime

    @property
    def tier(self) -> int:
        return self.to_tier


@dataclass(frozen=True)
class Renotify:
    """``alert`` is still open: notify its tier again."""

    alert: Alert
    tier: int
    at: datetime


Action = Raise | Escalate | Renotify


def apply(escalation: Escalation | None, action: Action) -> Escalation:
    """The state of an alert after the caller has carried out ``action``.

    Raises:
        ValueError: ``action`` is about another alert, or raises one that exists.
    """
    if isinstance(action, Raise):
        if escalation is not None:
            raise ValueError("the alert was already raised")
        return Escalation.opened(action.alert)
    if escalation is None or escalation.alert.key != action.alert.key:
        raise ValueError("the action is about another alert")
    if isinstance(action, Escalate):
        return dataclasses.replace(
            escalation, tier=action.to_tier, tier_since=action.at, notified_at=action.at
        )
    return dataclasses.replace(escalation, notified_at=action.at)


# ---------------------------------------------------------------------------------------------
# Tiers, as data


@dataclass(frozen=True)
class Tier:
    """Who is notified at one level, and when an alert moves on from it.

    ``escalate_after`` is ``None`` only for the top tier.
    """

    level: int
    role: str
    escalate_after: timedelta | None
    renotify_after: timedelta


@dataclass(frozen=True)
class Tiers:
    """The escalation ladder (``data/escalation.toml``), checked when it is read."""

    tiers: tuple[Tier, ...]
    duress_tier: int
    unknown_answer_tier: int

    @property
    def top(self) -> int:
        return len(self.tiers)

    def __getitem__(self, level: int) -> Tier:
        return self.tiers[level - 1]


_TOP_KEYS = frozenset({"duress_tier", "unknown_answer_tier", "tiers"})
_TIER_KEYS = frozenset({"level", "role", "escalate_after_minutes", "renotify_after_minutes"})


def load_tiers(path: Path | None = None) -> Tiers:
    """The escalation tiers in ``path``, or in the packaged ``data/escalation.toml``.

    Raises:
        BadInput: the file cannot be read, is not TOML, or breaks a rule (the message says
            which key and why).
    """
    text, source = read_rules(DATA_FILE, path, "the escalation tiers")
    return parse_tiers(text, source=source)


def parse_tiers(text: str, *, source: str = DATA_FILE) -> Tiers:
    """The escalation tiers in a TOML text.

    Raises:
        BadInput: not TOML, or a rule broken: tiers numbered 1, 2, 3… in order, each with a
            role and positive whole-minute delays, an escalation delay on every tier but the
            top, and the duress and unknown-answer tiers among them.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BadInput(f"{source}: not valid TOML: {error}") from None
    _only(data, _TOP_KEYS, source)
    raw = data.get("tiers")
    if not isinstance(raw, list) or not raw:
        raise BadInput(f"{source}: needs at least one [[tiers]] table")
    tiers = tuple(_tier(entry, index, len(raw), source) for index, entry in enumerate(raw))
    roles = [tier.role for tier in tiers]
    if len(set(roles)) != len(roles):
        raise BadInput(f"{source}: two tiers have the same role")
    return Tiers(
        tiers=tiers,
        duress_tier=_level(data, "duress_tier", len(tiers), source),
        unknown_answer_tier=_level(data, "unknown_answer_tier", len(tiers), source),
    )


def _only(table: Mapping[str, object], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise BadInput(f"{where}: unknown key {unknown[0]!r}; keys: {', '.join(sorted(allowed))}")


def _tier(entry: object, index: int, count: int, source: str) -> Tier:
    where = f"{source}: tier {index + 1}"
    if not isinstance(entry, dict):
        raise BadInput(f"{where}: must be a [[tiers]] table")
    _only(entry, _TIER_KEYS, where)
    if entry.get("level") != index + 1 or isinstance(entry.get("level"), bool):
        raise BadInput(f"{where}: 'level' must be {index + 1} (tiers are numbered in order)")
    role = entry.get("role")
    if not isinstance(role, str) or not role.strip():
        raise BadInput(f"{where}: 'role' must name who is notified")
    is_top = index + 1 == count
    if is_top and "escalate_after_minutes" in entry:
        raise BadInput(f"{where}: the top tier has nowhere to escalate to")
    escalate = None if is_top else _minutes(entry, "escalate_after_minutes", where)
    return Tier(index + 1, role, escalate, _minutes(entry, "renotify_after_minutes", where))


def _minutes(entry: Mapping[str, object], key: str, where: str) -> timedelta:
    value = entry.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise BadInput(f"{where}: {key!r} must be a positive whole number of minutes")
    return timedelta(minutes=value)


def _level(data: Mapping[str, object], key: str, top: int, source: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
        raise BadInput(f"{source}: {key!r} must be a tier from 1 to {top}")
    return value


# ---------------------------------------------------------------------------------------------
# Answers


_DROPPED = re.compile(r"[\W_]+")


def normalise_answer(text: str) -> str:
    """The form of a check-in answer that is digested: what a phone's keyboard cannot change.

    NFKC, case-folded, ``ё`` as ``е``, everything but letters, digits and white space
    dropped, white space collapsed to one space and trimmed: ``" Солнце. "`` and
    ``"солнце"`` are one answer, ``"12-34"`` and ``"1234"`` another.
    """
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    words = (_DROPPED.sub("", word) for word in folded.split())
    return " ".join(word for word in words if word)


def enrol_answers(normal: str, duress: str, digest: Digest) -> tuple[str, str]:
    """The digests to store for a person's agreed normal and duress answers.

    Both go through the same ``digest`` (the same keyed-hash purpose), so nothing stored
    tells which digest is the duress one without the key.

    Raises:
        BadInput: an answer is empty or too long once normalised, or the two answers are
            the same once normalised (the message never repeats them).
    """
    forms = []
    for label, answer in (("normal", normal), ("duress", duress)):
        form = normalise_answer(answer)
        if not form or len(form) > MAX_ANSWER_LENGTH:
            raise BadInput(f"the {label} answer needs 1 to {MAX_ANSWER_LENGTH} letters or digits")
        forms.append(form)
    if forms[0] == forms[1]:
        raise BadInput("the normal and duress answers must differ in their letters or digits")
    return _first(digest(forms[0])), _first(digest(forms[1]))


def classify_answer(answer: str, normal_digest: str, duress_digest: str, digest: Digest) -> Answer:
    """Whether a check-in answer is the agreed normal one, the duress one, or neither.

    The caller shows the phone the same reply for all three. Every candidate digest is
    compared with both stored digests, with ``hmac.compare_digest`` and without stopping
    early, so the time taken does not tell the two apart.
    """
    # Nothing longer than an enrolled answer can match; do not normalise megabytes to see.
    form = normalise_answer(answer) if len(answer) <= 4 * MAX_ANSWER_LENGTH else ""
    candidates = _all(digest(form)) if form else []
    is_normal = is_duress = False
    for candidate in candidates:
        given = candidate.encode()
        is_normal |= hmac.compare_digest(given, normal_digest.encode())
        is_duress |= hmac.compare_digest(given, duress_digest.encode())
    if is_duress:
        return "duress"
    return "ok" if is_normal else "unknown"


def _all(digests: str | Sequence[str]) -> list[str]:
    return [digests] if isinstance(digests, str) else list(digests)


def _first(digests: str | Sequence[str]) -> str:
    every = _all(digests)
    if not every:
        raise ValueError("the digest function returned no digest")
    return every[0]


# ---------------------------------------------------------------------------------------------
# The clock and the pass


def due(schedule: Schedule, last_check_in: CheckIn | None, now: datetime) -> datetime | None:
    """When the next check-in is due, or ``None`` if the schedule ends before then.

    It is due ``every`` after the last check-in that counts (a wrong answer does not), or
    after ``starts`` if there is none since then; it is missed only after ``grace`` more.

    Raises:
        ValueError: a naive ``now``.
    """
    _aware(now, "now")
    since = schedule.starts
    if last_check_in is not None and last_check_in.counts:
        since = max(since, last_check_in.at)
    return _after(schedule, since)


def _after(schedule: Schedule, since: datetime) -> datetime | None:
    at = since + schedule.every
    if schedule.ends is not None and at > schedule.ends:
        return None
    return at


def escalation_pass(watches: Iterable[Watch], now: datetime, tiers: Tiers) -> list[Action]:
    """What to do at ``now``: the alerts to raise, to escalate and to send again.

    For each person: a missed check-in raises a tier-1 alert once; each duress or unknown
    answer raises one alert at its configured tier; each open alert nobody acknowledged goes
    one tier up once its tier's delay has passed, never beyond the top; an acknowledged (or
    top-tier) alert still open is re-notified after its tier's delay. A resolved alert
    ends. A check-in never closes an alert: a human resolves it (see the module docstring).

    Pure: the caller records each action (:func:`apply` gives the new state) and sends the
    notifications. Run it from the timer, and also for one person as soon as their answer
    is received, so a duress alert does not wait for the next tick.

    Raises:
        ValueError: a naive ``now``.
    """
    _aware(now, "now")
    actions: list[Action] = []
    for watch in watches:
        actions.extend(_raises(watch, now, tiers))
        for escalation in sorted(watch.escalations, key=lambda e: e.alert.due_since):
            action = _next_step(escalation, now, tiers)
            if action is not None:
                actions.append(action)
    return actions


def _raises(watch: Watch, now: datetime, tiers: Tiers) -> list[Raise]:
    known = {e.alert.key for e in watch.escalations}
    raises: list[Raise] = []
    for check_in in sorted(watch.check_ins, key=lambda c: c.at):
        if check_in.answer == "ok":
            continue
        tier = tiers.duress_tier if check_in.answer == "duress" else tiers.unknown_answer_tier
        alert = Alert(watch.case_ref, tier, now, check_in.answer, check_in.at)
        if alert.key not in known:
            known.add(alert.key)
            raises.append(Raise(alert))
    missed = _missed(watch, now)
    if missed is not None and (watch.case_ref, "missed", missed) not in known:
        raises.append(Raise(Alert(watch.case_ref, 1, now, "missed", missed)))
    return raises


def _missed(watch: Watch, now: datetime) -> datetime | None:
    """The due time missed as of ``now``, after any restart by a resolved missed alert."""
    resolved = {
        e.alert.due_since: e.resolved_at
        for e in watch.escalations
        if e.alert.reason == "missed" and e.resolved_at is not None
    }
    at = due(watch.schedule, watch.last_check_in, now)
    while at is not None and at in resolved:
        restart = resolved.pop(at)
        assert restart is not None
        at = _after(watch.schedule, max(restart, at))
    if at is None or now <= at + watch.schedule.grace:
        return None
    return at


def _next_step(escalation: Escalation, now: datetime, tiers: Tiers) -> Action | None:
    if not escalation.is_open:
        return None
    tier = tiers[min(escalation.tier, tiers.top)]
    climbing = escalation.acknowledged_at is None and escalation.tier < tiers.top
    if climbing:
        assert tier.escalate_after is not None
        if now > escalation.tier_since + tier.escalate_after:
            return Escalate(escalation.alert, escalation.tier, escalation.tier + 1, now)
        return None
    if now > escalation.notified_at + tier.renotify_after:
        return Renotify(escalation.alert, escalation.tier, now)
    return None
