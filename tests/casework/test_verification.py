"""The verification gate: two independent signals, more with a flag (issue 9)."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib import resources

import pytest

from refugium.casework.verification import (
    Attestation,
    _parse,
    checklist,
    gate,
)
from refugium.errors import BadInput

DAY = date(2017, 4, 2)


def att(signal: str, channel: str) -> Attestation:
    return Attestation(signal=signal, channel=channel, by="rita", on=DAY)


def test_the_data_file_loads_and_every_signal_has_both_labels() -> None:
    rules = checklist()
    assert [s.id for s in rules.signals] == ["referee", "callback", "code_answer", "partner"]
    for signal in rules.signals:
        assert signal.en.strip()
        assert signal.ru.strip()
        assert any("а" <= c <= "я" for c in signal.ru.lower())  # Cyrillic
        assert signal.channel_class in {"third_party", "known_channel", "pre_agreed"}
    assert rules.stages == frozenset({"safe", "exit"})
    assert (rules.required, rules.required_when_flagged) == (2, 3)
    assert rules.signal("callback").not_on_request_channel is True


@pytest.mark.parametrize("stage", ["safe", "exit"])
def test_one_signal_is_refused(stage: str) -> None:
    result = gate(stage, [att("referee", "signal: zarema")], open_flags=0)
    assert result.ok is False
    assert result.missing == ["callback", "code_answer", "partner"]
    assert (result.required, result.independent) == (2, 1)
    assert "2 independent verification signals are needed" in result.message


def test_two_signals_from_the_same_channel_are_one() -> None:
    # The same phone written two ways: whoever holds it answers both.
    result = gate(
        "safe",
        [att("callback", "+7 (928) 555-12-34"), att("code_answer", "8 928 555 12 34")],
        open_flags=0,
    )
    assert (result.ok, result.independent) == (False, 1)


def test_two_independent_signals_are_accepted() -> None:
    result = gate(
        "safe", [att("referee", "signal: zarema"), att("code_answer", "89285551234")], open_flags=0
    )
    assert (result.ok, result.missing, result.independent) == (True, [], 2)


def test_the_same_signal_twice_over_two_channels_is_one() -> None:
    result = gate("exit", [att("referee", "a"), att("referee", "b")], open_flags=0)
    assert (result.ok, result.independent) == (False, 1)


def test_a_matching_is_found_when_a_greedy_choice_would_miss_it() -> None:
    result = gate(
        "safe",
        [att("referee", "x"), att("code_answer", "x"), att("code_answer", "y")],
        open_flags=0,
    )
    assert (result.ok, result.independent) == (True, 2)


def test_a_callback_on_the_inbound_channel_does_not_count() -> None:
    attestations = [att("referee", "signal: zarema"), att("callback", "89285551234")]
    result = gate("safe", attestations, open_flags=0, request_channel="+7 928 555-12-34")
    assert (result.ok, result.independent) == (False, 1)
    assert "callback on the channel the request came in on does not count" in result.message
    other = gate("safe", attestations, open_flags=0, request_channel="@asker")
    assert other.ok is True


def test_a_code_answer_on_the_inbound_channel_still_counts() -> None:
    attestations = [att("referee", "r"), att("code_answer", "@asker")]
    assert gate("safe", attestations, open_flags=0, request_channel="@asker").ok is True


def test_an_open_flag_raises_the_bar_to_three() -> None:
    two = [att("referee", "r"), att("code_answer", "c")]
    flagged = gate("safe", two, open_flags=1)
    assert (flagged.ok, flagged.required, flagged.missing) == (False, 3, ["callback", "partner"])
    assert "1 open provocation flag(s) raise the bar to 3" in flagged.message
    three = gate("safe", [*two, att("partner", "p")], open_flags=1)
    assert (three.ok, three.independent) == (True, 3)
    assert gate("safe", two, open_flags=0).ok is True


@pytest.mark.parametrize("stage", ["request", "verification", "relocated", "closed", "rejected"])
def test_other_stages_are_not_gated(stage: str) -> None:
    assert gate(stage, [], open_flags=3).ok is True


def test_an_unknown_signal_or_an_empty_channel_is_bad_input() -> None:
    with pytest.raises(BadInput, match="no verification signal 'rumour'"):
        gate("safe", [att("rumour", "x")], open_flags=0)
    with pytest.raises(BadInput, match="needs the channel"):
        gate("safe", [att("referee", "  ")], open_flags=0)


def test_a_malformed_checklist_is_refused() -> None:
    text = resources.files("refugium.casework").joinpath("data", "verification.toml")
    raw = tomllib.loads(text.read_text("utf-8"))
    raw["signals"][0]["ru"] = " "
    with pytest.raises(BadInput, match="lacks a label"):
        _parse(raw)
    raw = tomllib.loads(text.read_text("utf-8"))
    raw["gate"]["required_when_flagged"] = 9
    with pytest.raises(BadInput, match="impossible number"):
        _parse(raw)
    del raw["gate"]
    with pytest.raises(BadInput, match="malformed"):
        _parse(raw)
