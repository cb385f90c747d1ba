"""The verification gate: independent signals before a case moves to safety (issue 9).

A coerced detainee or a police officer can ask for help in a victim's name (research note §0:
14 of the first 114 people helped had been pressed to find others). So a case cannot enter a
gated stage (``safe``, ``exit``) on one signal, nor on two that came over the same channel: the
holder of a seized phone answers both a call-back and a code question on it. The checklist and
the numbers live in ``data/verification.toml``; this module only reads and applies them.

Independence is counted as a matching: the most attestations that have pairwise different
signals *and* pairwise different channels. Channels are compared in the canonical form of
``refugium.casework.contacts`` (``+7 928 …`` and ``8928…`` are one phone). A call-back over
the channel the request came in on counts for nothing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from refugium.casework.contacts import guess_kind, lookup_key
from refugium.errors import BadInput

DATA_FILE = "verification.toml"


@dataclass(frozen=True)
class Signal:
    """One kind of verification signal of the checklist."""

    id: str
    channel_class: str
    not_on_request_channel: bool
    en: str
    ru: str


@dataclass(frozen=True)
class Checklist:
    """The checklist and the gate's numbers, as the data file states them."""

    signals: tuple[Signal, ...]
    stages: frozenset[str]
    required: int
    required_when_flagged: int
    flags_cleared_by_second_caseworker: bool

    def signal(self, signal_id: str) -> Signal:
        """Raises:
        BadInput: not a signal of the checklist (the message lists them).
        """
        for signal in self.signals:
            if signal.id == signal_id:
                return signal
        known = ", ".join(s.id for s in self.signals)
        raise BadInput(f"no verification signal {signal_id!r}; signals: {known}")


def _parse(raw: dict[str, Any]) -> Checklist:
    """Raises:
    BadInput: a malformed checklist (a missing label, a repeated id, impossible numbers).
    """
    try:
        signals = tuple(
            Signal(
                id=str(s["id"]),
                channel_class=str(s["channel_class"]),
                not_on_request_channel=bool(s["not_on_request_channel"]),
                en=str(s["en"]),
                ru=str(s["ru"]),
            )
            for s in raw["signals"]
        )
        gate = raw["gate"]
        checklist = Checklist(
            signals=signals,
            stages=frozenset(str(s) for s in gate["stages"]),
            required=int(gate["required"]),
            required_when_flagged=int(gate["required_when_flagged"]),
            flags_cleared_by_second_caseworker=bool(gate["flags_cleared_by_second_caseworker"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise BadInput(f"the verification checklist is malformed: {error}") from None
    ids = [s.id for s in signals]
    if len(set(ids)) != len(ids) or any(not (s.en.strip() and s.ru.strip()) for s in signals):
        raise BadInput("the verification checklist repeats a signal or lacks a label")
    if not 1 <= checklist.required <= checklist.required_when_flagged <= len(signals):
        raise BadInput("the verification checklist asks for an impossible number of signals")
    return checklist


@cache
def checklist() -> Checklist:
    """The checklist shipped with refugium (read once).

    Raises:
        BadInput: the data file is malformed.
    """
    text = resources.files("refugium.casework").joinpath("data", DATA_FILE).read_text("utf-8")
    return _parse(tomllib.loads(text))


def channel_key(channel: str) -> str:
    """The canonical form of a channel, for comparing two channels.

    Raises:
        BadInput: an empty or over-long channel.
    """
    try:
        return lookup_key(channel, guess_kind(channel))
    except BadInput:
        raise BadInput("an attestation needs the channel it came over") from None


@dataclass(frozen=True)
class Attestation:
    """That ``signal`` was obtained over ``channel``, by a caseworker, on a day."""

    signal: str
    channel: str = field(repr=False)
    by: str
    on: date


@dataclass(frozen=True)
class Gate:
    """The gate's answer: ``ok``, or the signals still missing and how many are needed."""

    ok: bool
    missing: list[str]
    required: int = 0
    independent: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """One line for the caseworker: what to obtain before the case may move."""
        if self.ok:
            return "the verification gate is passed"
        text = (
            f"{self.required} independent verification signals are needed (different signals "
            f"over different channels), {self.independent} recorded; "
            f"missing: {', '.join(self.missing) or 'another channel'}"
        )
        return "; ".join([text, *self.notes])


def _independent(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """A largest set of (signal, channel) pairs with no signal and no channel twice: a
    maximum bipartite matching (Kuhn's augmenting paths; the checklist is short)."""
    edges: dict[str, list[str]] = {}
    for signal, channel in pairs:
        edges.setdefault(signal, [])
        if channel not in edges[signal]:
            edges[signal].append(channel)
    owner: dict[str, str] = {}  # channel -> signal

    def augment(signal: str, seen: set[str]) -> bool:
        for channel in edges[signal]:
            if channel in seen:
                continue
            seen.add(channel)
            if channel not in owner or augment(owner[channel], seen):
                owner[channel] = signal
                return True
        return False

    for signal in edges:
        augment(signal, set())
    return sorted((signal, channel) for channel, signal in owner.items())


def gate(
    target_stage: str,
    attestations: Iterable[Attestation],
    *,
    open_flags: int,
    request_channel: str | None = None,
    rules: Checklist | None = None,
) -> Gate:
    """Whether a case may enter ``target_stage`` with these attestations.

    Stages outside the checklist's ``stages`` are not gated. ``open_flags`` (provocation
    flags not cleared) raise the number required to ``required_when_flagged``.

    Raises:
        BadInput: an attestation of a signal not on the checklist, or without a channel.
    """
    rules = rules or checklist()
    if target_stage not in rules.stages:
        return Gate(ok=True, missing=[])
    required = rules.required_when_flagged if open_flags > 0 else rules.required
    inbound = channel_key(request_channel) if request_channel else None
    notes: list[str] = []
    pairs: list[tuple[str, str]] = []
    for attestation in attestations:
        signal = rules.signal(attestation.signal)
        channel = channel_key(attestation.channel)
        if signal.not_on_request_channel and channel == inbound:
            notes.append(f"a {signal.id} on the channel the request came in on does not count")
            continue
        pairs.append((signal.id, channel))
    matched = _independent(pairs)
    used = {signal for signal, _channel in matched}
    missing = [s.id for s in rules.signals if s.id not in used]
    if open_flags > 0:
        notes.append(f"{open_flags} open provocation flag(s) raise the bar to {required}")
    ok = len(matched) >= required
    return Gate(
        ok=ok,
        missing=[] if ok else missing,
        required=required,
        independent=len(matched),
        notes=[] if ok else list(dict.fromkeys(notes)),
    )
