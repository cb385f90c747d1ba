"""Check-ins on the server: missed and duress answers escalate, on-time ones do not (issue 9).

Every test freezes the clock by passing ``now``: the engine never reads the clock itself.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refugium.casework.checkins import (
    Action,
    Alert,
    CheckIn,
    Escalate,
    Escalation,
    Raise,
    Renotify,
    Schedule,
    Tiers,
    Watch,
    apply,
    classify_answer,
    due,
    enrol_answers,
    escalation_pass,
    load_tiers,
    normalise_answer,
    parse_tiers,
)
from refugium.errors import BadInput, Conflict

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
EVERY = timedelta(hours=4)
GRACE = timedelta(minutes=30)
SECOND = timedelta(seconds=1)
CASE = "C-7Q2K"
TIERS = load_tiers()


def schedule(ends: datetime | None = None) -> Schedule:
    return Schedule(every=EVERY, grace=GRACE, starts=START, ends=ends)


def digest_under(key: bytes) -> Callable[[str], str]:
    def digest(value: str) -> str:
        return "v1:test:" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    return digest


DIGEST = digest_under(b"desk key")


def run(
    watch: Watch, now: datetime, tiers: Tiers = TIERS
) -> tuple[list[Action], tuple[Escalation, ...]]:
    """One pass, and the escalations after the caller has carried it out."""
    actions = escalation_pass([watch], now, tiers)
    states = {e.alert.key: e for e in watch.escalations}
    for action in actions:
        states[action.alert.key] = apply(states.get(action.alert.key), action)
    return actions, tuple(states.values())


def missed_at() -> datetime:
    """The first moment a person who checked in at START + 1h has missed the next one."""
    return START + timedelta(hours=1) + EVERY + GRACE + SECOND


def missed_watch() -> tuple[Watch, Escalation]:
    watch = Watch(CASE, schedule(), (CheckIn(START + timedelta(hours=1)),))
    _, states = run(watch, missed_at())
    assert len(states) == 1
    return replace(watch, escalations=states), states[0]


# --- the schedule ----------------------------------------------------------------------------


def test_a_check_in_is_due_every_period_after_the_last_one() -> None:
    last = CheckIn(START + timedelta(hours=1))
    assert due(schedule(), last, START + timedelta(hours=2)) == START + timedelta(hours=5)
    assert due(schedule(), None, START) == START + EVERY


def test_a_wrong_answer_does_not_restart_the_clock() -> None:
    assert due(schedule(), CheckIn(START + timedelta(hours=1), "unknown"), START) == START + EVERY


def test_nothing_is_due_after_the_schedule_ends() -> None:
    ends = START + timedelta(hours=6)
    assert due(schedule(ends), CheckIn(START + timedelta(hours=1)), START) == START + EVERY + (
        timedelta(hours=1)
    )
    assert due(schedule(ends), CheckIn(START + timedelta(hours=3)), START) is None
    watch = Watch(CASE, schedule(ends), (CheckIn(START + timedelta(hours=3)),))
    assert escalation_pass([watch], START + timedelta(days=3), TIERS) == []


@pytest.mark.parametrize(
    ("every", "grace", "ends"),
    [
        (timedelta(0), GRACE, None),
        (EVERY, -SECOND, None),
        (EVERY, GRACE, START),
    ],
)
def test_impossible_schedules_are_refused(
    every: timedelta, grace: timedelta, ends: datetime | None
) -> None:
    with pytest.raises(ValueError, match=r"schedule|period"):
        Schedule(every=every, grace=grace, starts=START, ends=ends)


# --- missed check-ins ------------------------------------------------------------------------


def test_an_on_time_check_in_raises_nothing_up_to_the_end_of_grace() -> None:
    watch = Watch(CASE, schedule(), (CheckIn(START + timedelta(hours=1)),))
    end_of_grace = START + timedelta(hours=1) + EVERY + GRACE
    assert escalation_pass([watch], end_of_grace, TIERS) == []
    late = replace(watch, check_ins=(*watch.check_ins, CheckIn(end_of_grace)))
    assert escalation_pass([late], end_of_grace + timedelta(hours=1), TIERS) == []


def test_a_check_in_missed_beyond_grace_raises_tier_one() -> None:
    watch = Watch(CASE, schedule(), (CheckIn(START + timedelta(hours=1)),))
    now = missed_at()
    assert escalation_pass([watch], now, TIERS) == [
        Raise(Alert(CASE, 1, now, "missed", START + timedelta(hours=1) + EVERY))
    ]


def test_no_check_in_at_all_is_missed_too() -> None:
    now = START + EVERY + GRACE + SECOND
    assert escalation_pass([Watch(CASE, schedule())], now, TIERS) == [
        Raise(Alert(CASE, 1, now, "missed", START + EVERY))
    ]


def test_an_alert_is_never_raised_twice() -> None:
    watch, _ = missed_watch()
    for minutes in (0, 1, 5, 14):
        actions = escalation_pass([watch], missed_at() + timedelta(minutes=minutes), TIERS)
        assert actions == []


def test_unacknowledged_it_climbs_after_each_tiers_delay_and_never_beyond_the_top() -> None:
    watch, state = missed_watch()
    raised = missed_at()
    to_two = raised + timedelta(minutes=15)
    assert run(watch, to_two)[0] == []
    actions, states = run(watch, to_two + SECOND)
    assert actions == [Escalate(state.alert, 1, 2, to_two + SECOND)]
    watch = replace(watch, escalations=states)

    to_three = to_two + SECOND + timedelta(minutes=30)
    assert run(watch, to_three)[0] == []
    actions, states = run(watch, to_three + SECOND)
    assert actions == [Escalate(state.alert, 2, 3, to_three + SECOND)]
    watch = replace(watch, escalations=states)

    # At the top it is sent to the partner again, never to a tier 4.
    again = to_three + SECOND + timedelta(minutes=30)
    assert run(watch, again)[0] == []
    actions, states = run(watch, again + SECOND)
    assert actions == [Renotify(state.alert, 3, again + SECOND)]
    assert states[0].tier == 3


def test_after_downtime_it_climbs_one_tier_and_the_next_tier_gets_its_whole_delay() -> None:
    watch, state = missed_watch()
    late = missed_at() + timedelta(hours=5)
    actions, states = run(watch, late)
    assert actions == [Escalate(state.alert, 1, 2, late)]
    assert run(replace(watch, escalations=states), late + timedelta(minutes=30))[0] == []


def test_acknowledged_it_stops_climbing_and_is_sent_again_to_its_tier() -> None:
    watch, state = missed_watch()
    acked = state.acknowledge("handler-3", missed_at() + timedelta(minutes=5))
    watch = replace(watch, escalations=(acked,))
    renotify = missed_at() + timedelta(minutes=60)
    assert run(watch, renotify)[0] == []
    actions, states = run(watch, renotify + SECOND)
    assert actions == [Renotify(state.alert, 1, renotify + SECOND)]
    assert states[0].tier == 1


def test_a_late_check_in_does_not_resolve_the_alert() -> None:
    watch, state = missed_watch()
    came_back = missed_at() + timedelta(minutes=2)
    watch = replace(watch, check_ins=(*watch.check_ins, CheckIn(came_back)))
    now = missed_at() + timedelta(minutes=15) + SECOND
    assert escalation_pass([watch], now, TIERS) == [Escalate(state.alert, 1, 2, now)]


def test_a_resolved_alert_ends_and_the_clock_restarts_from_its_resolution() -> None:
    watch, state = missed_watch()
    resolved_at = missed_at() + timedelta(minutes=20)
    done = state.acknowledge("handler-3", missed_at()).resolve("handler-3", resolved_at)
    watch = replace(watch, escalations=(done,))
    assert escalation_pass([watch], resolved_at + EVERY + GRACE, TIERS) == []
    # Still silent after a whole new period: a new alert, not never.
    now = resolved_at + EVERY + GRACE + SECOND
    assert escalation_pass([watch], now, TIERS) == [
        Raise(Alert(CASE, 1, now, "missed", resolved_at + EVERY))
    ]


def test_acknowledging_and_resolving_are_two_steps_each_done_once() -> None:
    _, state = missed_watch()
    at = missed_at()
    with pytest.raises(Conflict) as error:
        state.resolve("coordinator-1", at)
    assert error.value.code == "not_acknowledged"
    acked = state.acknowledge("handler-3", at)
    with pytest.raises(Conflict):
        acked.acknowledge("handler-3", at)
    done = acked.resolve("coordinator-1", at + SECOND)
    assert (done.acknowledged_by, done.resolved_by) == ("handler-3", "coordinator-1")
    with pytest.raises(Conflict):
        done.resolve("coordinator-1", at + SECOND)
    with pytest.raises(ValueError, match="before"):
        acked.resolve("coordinator-1", at - SECOND)


# --- answers ---------------------------------------------------------------------------------


def test_the_normal_answer_is_ok_and_the_duress_one_is_duress() -> None:
    normal, duress = enrol_answers("солнце", "ветер", DIGEST)
    assert classify_answer("солнце", normal, duress, DIGEST) == "ok"
    assert classify_answer("ветер", normal, duress, DIGEST) == "duress"
    assert classify_answer("дождь", normal, duress, DIGEST) == "unknown"
    assert classify_answer("", normal, duress, DIGEST) == "unknown"
    assert classify_answer("с" * 10_000, normal, duress, DIGEST) == "unknown"


@pytest.mark.parametrize("typed", ["Солнце.", " солнце ", "СОЛНЦЕ!", "Солнце\n"])
def test_what_a_phone_keyboard_changes_does_not_change_the_answer(typed: str) -> None:
    normal, duress = enrol_answers("солнце", "ветер", DIGEST)
    assert classify_answer(typed, normal, duress, DIGEST) == "ok"


def test_normalisation() -> None:
    assert normalise_answer(" Ёлка,  зелёная ") == "елка зеленая"
    assert normalise_answer("12-34") == "1234"
    assert normalise_answer("１２３４") == "1234"
    assert normalise_answer("...") == ""


def test_answers_enrolled_under_an_older_key_still_match() -> None:
    old, new = digest_under(b"old key"), digest_under(b"new key")
    normal, duress = enrol_answers("1234", "4321", old)

    def candidates(value: str) -> list[str]:
        return [new(value), old(value)]

    assert classify_answer("1234", normal, duress, candidates) == "ok"
    assert classify_answer("4321", normal, duress, candidates) == "duress"
    assert classify_answer("1234", normal, duress, new) == "unknown"


@pytest.mark.parametrize(
    ("normal", "duress", "message"),
    [
        ("солнце", "Солнце!", "must differ"),
        ("", "ветер", "normal answer"),
        ("солнце", "?!", "duress answer"),
        ("солнце", "в" * 201, "duress answer"),
    ],
)
def test_unusable_answer_pairs_are_refused_without_repeating_them(
    normal: str, duress: str, message: str
) -> None:
    with pytest.raises(BadInput, match=message) as error:
        enrol_answers(normal, duress, DIGEST)
    assert "солнце" not in str(error.value)
    assert "ветер" not in str(error.value)


def test_a_duress_answer_raises_the_top_tier_at_once_although_on_time() -> None:
    answered = START + timedelta(hours=1)
    watch = Watch(CASE, schedule(), (CheckIn(answered, "duress"),))
    assert escalation_pass([watch], answered, TIERS) == [
        Raise(Alert(CASE, TIERS.top, answered, "duress", answered))
    ]
    # It counts as a check-in for the clock: no missed alert on top of it.
    _, states = run(watch, answered)
    later = replace(watch, escalations=states)
    actions = escalation_pass([later], answered + EVERY + GRACE, TIERS)
    assert [type(action) for action in actions] == [Renotify]


def test_an_unknown_answer_raises_tier_one_at_once_and_does_not_count() -> None:
    answered = START + EVERY + timedelta(minutes=10)
    watch = Watch(CASE, schedule(), (CheckIn(answered, "unknown"),))
    assert escalation_pass([watch], answered, TIERS) == [
        Raise(Alert(CASE, 1, answered, "unknown", answered))
    ]
    _, states = run(watch, answered)
    now = START + EVERY + GRACE + SECOND
    raised = [
        action
        for action in escalation_pass([replace(watch, escalations=states)], now, TIERS)
        if isinstance(action, Raise)
    ]
    assert raised == [Raise(Alert(CASE, 1, now, "missed", START + EVERY))]


def test_the_pass_from_answer_to_alert() -> None:
    """The issue's done-when: missed and duress escalate, on time does not."""
    normal, duress = enrol_answers("1234", "1243", DIGEST)
    at = START + timedelta(hours=3)
    on_time = Watch(
        "C-1", schedule(), (CheckIn(at, classify_answer("1234", normal, duress, DIGEST)),)
    )
    forced = Watch(
        "C-2", schedule(), (CheckIn(at, classify_answer("1243", normal, duress, DIGEST)),)
    )
    silent = Watch("C-3", schedule())
    now = START + EVERY + GRACE + SECOND
    raised = escalation_pass([on_time, forced, silent], now, TIERS)
    assert [(a.alert.case_ref, a.alert.reason, a.tier) for a in raised] == [
        ("C-2", "duress", 3),
        ("C-3", "missed", 1),
    ]


# --- time ------------------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 26, 8, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        Schedule(every=EVERY, grace=GRACE, starts=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        Schedule(every=EVERY, grace=GRACE, starts=START, ends=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        CheckIn(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        due(schedule(), None, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        escalation_pass([], naive, TIERS)
    _, state = missed_watch()
    with pytest.raises(ValueError, match="timezone-aware"):
        state.acknowledge("handler-3", naive)


def test_any_timezone_is_the_same_instant() -> None:
    from datetime import timezone

    moscow = timezone(timedelta(hours=3))
    watch = Watch(CASE, schedule(), (CheckIn((START + timedelta(hours=1)).astimezone(moscow)),))
    assert escalation_pass([watch], (missed_at() - SECOND).astimezone(moscow), TIERS) == []
    assert len(escalation_pass([watch], missed_at().astimezone(moscow), TIERS)) == 1


# --- the tiers file --------------------------------------------------------------------------


def test_the_packaged_tiers_load() -> None:
    assert [(t.level, t.role) for t in TIERS.tiers] == [
        (1, "handler"),
        (2, "coordinator"),
        (3, "partner"),
    ]
    assert TIERS.top == 3
    assert TIERS.duress_tier == 3
    assert TIERS.unknown_answer_tier == 1
    assert TIERS[1].escalate_after == timedelta(minutes=15)
    assert TIERS[3].escalate_after is None


GOOD = """
duress_tier = 2
unknown_answer_tier = 1
[[tiers]]
level = 1
role = "handler"
escalate_after_minutes = 10
renotify_after_minutes = 20
[[tiers]]
level = 2
role = "coordinator"
renotify_after_minutes = 20
"""


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("duress_tier = ", "not valid TOML"),
        ("duress_tier = 1\nunknown_answer_tier = 1\n", "at least one"),
        (GOOD.replace("level = 2", "level = 3"), "'level' must be 2"),
        (GOOD.replace('"coordinator"', '"handler"'), "same role"),
        (GOOD.replace('role = "coordinator"', 'role = " "'), "'role'"),
        (GOOD.replace("escalate_after_minutes = 10", ""), "escalate_after_minutes"),
        (GOOD.replace("escalate_after_minutes = 10", "escalate_after_minutes = 0"), "positive"),
        (GOOD.replace("escalate_after_minutes = 10", "escalate_after_minutes = true"), "whole"),
        (GOOD.replace("renotify_after_minutes = 20", "renotify_after_minute = 20", 1), "unknown"),
        (GOOD + "escalate_after_minutes = 5\n", "nowhere to escalate"),
        (GOOD.replace("duress_tier = 2", "duress_tier = 3"), "'duress_tier' must be a tier"),
        (GOOD.replace("unknown_answer_tier = 1\n", ""), "'unknown_answer_tier'"),
        ("typo = 1\n" + GOOD, "unknown key 'typo'"),
    ],
)
def test_a_broken_tiers_file_says_what_is_wrong(broken: str, message: str) -> None:
    with pytest.raises(BadInput, match=message) as error:
        parse_tiers(broken, source="escalation.toml")
    assert str(error.value).startswith("escalation.toml")


def test_a_good_tiers_file_parses() -> None:
    tiers = parse_tiers(GOOD)
    assert (tiers.top, tiers.duress_tier, tiers[1].escalate_after) == (2, 2, timedelta(minutes=10))


def test_an_unreadable_tiers_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cannot read"):
        load_tiers(tmp_path / "missing.toml")
    path = tmp_path / "escalation.toml"
    path.write_text(GOOD, "utf-8")
    assert load_tiers(path) == parse_tiers(GOOD)


# --- properties ------------------------------------------------------------------------------

EVENTS = st.sampled_from(["none", "ok", "duress", "unknown", "acknowledge", "resolve"])
STEPS = st.lists(st.tuples(st.integers(1, 6 * 60), EVENTS), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(steps=STEPS, tiers=st.sampled_from([TIERS, parse_tiers(GOOD)]))
def test_tiers_never_decrease_never_exceed_the_top_and_nothing_is_raised_twice(
    steps: list[tuple[int, str]], tiers: Tiers
) -> None:
    now = START
    check_ins: list[CheckIn] = []
    states: dict[object, Escalation] = {}
    for minutes, event in steps:
        now += timedelta(minutes=minutes)
        open_ = [e for e in states.values() if e.is_open]
        if event in ("ok", "duress", "unknown"):
            check_ins.append(CheckIn(now, event))  # type: ignore[arg-type]
        elif event == "acknowledge" and open_ and open_[0].acknowledged_at is None:
            states[open_[0].alert.key] = open_[0].acknowledge("handler", now)
        elif event == "resolve" and open_ and open_[0].acknowledged_at is not None:
            states[open_[0].alert.key] = open_[0].resolve("coordinator", now)
        watch = Watch(CASE, schedule(), tuple(check_ins), tuple(states.values()))
        for action in escalation_pass([watch], now, tiers):
            before = states.get(action.alert.key)
            if isinstance(action, Raise):
                assert before is None
            else:
                assert before is not None
                assert before.is_open
            after = apply(before, action)
            assert 1 <= after.tier <= tiers.top
            assert before is None or after.tier >= before.tier
            states[action.alert.key] = after


def test_a_watch_holds_only_its_own_alerts_and_apply_checks_what_it_applies() -> None:
    _, state = missed_watch()
    with pytest.raises(ValueError, match="own case"):
        Watch("C-OTHER", schedule(), escalations=(state,))
    with pytest.raises(ValueError, match="already raised"):
        apply(state, Raise(state.alert))
    other = replace(state.alert, due_since=START)
    with pytest.raises(ValueError, match="another alert"):
        apply(state, Renotify(other, 1, missed_at()))
