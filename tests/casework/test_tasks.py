"""When an overdue task escalates (issue 9: "Tasks with deadlines and overdue escalation"),
without Django: the packaged delays, the loader's rules, and the step due at a frozen time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from refugium.casework import tasks
from refugium.casework.tasks import COORDINATORS, NONE, OWNER, Delays, next_step
from refugium.errors import BadInput

DUE = date(2017, 4, 2)
NEXT_DAY = datetime(2017, 4, 3, 9, 0, tzinfo=UTC)
DELAYS = Delays(
    coordinators_after={
        "critical": timedelta(hours=1),
        "high": timedelta(hours=4),
        "medium": timedelta(hours=12),
        "low": timedelta(hours=48),
    }
)


def _step(
    now: datetime, step: int = NONE, notified: datetime | None = None, risk: str = "high"
) -> int | None:
    return next_step(
        due_on=DUE,
        today=now.date(),
        now=now,
        step=step,
        owner_notified_at=notified,
        risk=risk,
        delays=DELAYS,
    )


def test_the_packaged_delays_weigh_risk_from_critical_soonest_to_low_latest() -> None:
    delays = tasks.load_delays()
    ordered = [delays.for_risk(risk) for risk in reversed(tasks.RISKS)]
    assert ordered == sorted(ordered)
    assert delays.for_risk("critical") < delays.for_risk("low")


def test_nothing_is_due_on_the_due_day_itself() -> None:
    assert _step(datetime(2017, 4, 2, 23, 59, tzinfo=UTC)) is None
    assert _step(datetime(2017, 4, 3, 0, 0, tzinfo=UTC)) == OWNER


def test_the_owner_first_then_the_coordinators_only_after_the_risks_delay() -> None:
    assert _step(NEXT_DAY) == OWNER
    assert _step(NEXT_DAY + timedelta(hours=4), OWNER, NEXT_DAY) is None
    assert _step(NEXT_DAY + timedelta(hours=4, seconds=1), OWNER, NEXT_DAY) == COORDINATORS
    assert _step(NEXT_DAY + timedelta(days=30), COORDINATORS, NEXT_DAY) is None


@pytest.mark.parametrize(
    ("risk", "after"), [("critical", 1), ("high", 4), ("medium", 12), ("low", 48)]
)
def test_the_coordinators_delay_is_the_cases_risks(risk: str, after: int) -> None:
    just_before = NEXT_DAY + timedelta(hours=after) - timedelta(seconds=1)
    just_after = NEXT_DAY + timedelta(hours=after, seconds=1)
    assert _step(just_before, OWNER, NEXT_DAY, risk) is None
    assert _step(just_after, OWNER, NEXT_DAY, risk) == COORDINATORS


def test_the_delay_counts_from_the_owners_notice_not_from_the_due_day() -> None:
    late = NEXT_DAY + timedelta(days=5)  # the server was down for days
    assert _step(late) == OWNER
    assert _step(late + timedelta(minutes=30), OWNER, late, "critical") is None


def test_naive_times_unknown_steps_and_risks_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        _step(NEXT_DAY.replace(tzinfo=None))
    with pytest.raises(ValueError, match="naive"):
        _step(NEXT_DAY, OWNER, NEXT_DAY.replace(tzinfo=None))
    with pytest.raises(ValueError, match="step"):
        _step(NEXT_DAY, 7)
    with pytest.raises(ValueError, match="notified"):
        _step(NEXT_DAY, OWNER, None)
    with pytest.raises(BadInput, match="risk"):
        _step(NEXT_DAY, risk="extreme")


GOOD = """
[coordinators_after_minutes]
critical = 30
high = 60
medium = 60
low = 600
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not = [toml", "not valid TOML"),
        ("other = 1\n" + GOOD, "unknown key 'other'"),
        ("x = 1", "unknown key"),
        ("", "needs a"),
        (GOOD.replace("low = 600", ""), "'low' is missing"),
        (GOOD + "extreme = 1\n", "'extreme' is missing or unknown"),
        (GOOD.replace("high = 60", "high = 0"), "positive whole number"),
        (GOOD.replace("high = 60", "high = 1.5"), "positive whole number"),
        (GOOD.replace("high = 60", "high = true"), "positive whole number"),
        (GOOD.replace("critical = 30", "critical = 61"), "critical is longer than"),
    ],
)
def test_a_broken_delays_file_is_refused_with_its_reason(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        tasks.parse_delays(text)


def test_delays_load_from_a_given_file(tmp_path: Path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert tasks.load_delays(path).for_risk("medium") == timedelta(hours=1)
    with pytest.raises(BadInput, match="cannot read"):
        tasks.load_delays(tmp_path / "missing.toml")
