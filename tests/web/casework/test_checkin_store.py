"""Check-ins wired to the database: enrolment, answers, the escalation pass with a frozen
clock, acknowledging and resolving (issue 9, "Check-ins")."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.casework import cases, checkin_store, services
from refugium.web.casework.models import Case, CheckinAlert, CheckinEntry, CheckinSchedule, Notice
from tests import factories
from tests.web.casework.seized import seized_bytes, written_forms
from tests.web.casework.test_cases import _caseworker

T0 = datetime(2017, 4, 2, 9, 0, tzinfo=UTC)
EVERY = timedelta(hours=1)
GRACE = timedelta(minutes=15)
NORMAL = "Солнечный Ветер"
DURESS = "Тихая Гавань"
SECOND = timedelta(seconds=1)


def _audit_actions() -> list[tuple[str, str, str, str]]:
    from refugium.web.core.auditing import audit_log

    bodies = [entry["body"] for entry in audit_log().entries()]
    return [(b["actor"], b["action"], b["object"]["type"], b["object"]["id"]) for b in bodies]


def _case(ws: services.Workspace) -> Case:
    return cases.open_case(ws, risk="high").case



@pytest.fixture
def enrolled(rita: services.Workspace) -> tuple[Case, str]:
    """A case of rita's (not an admin), its person checking in every hour, 15 minutes' grace,
    enrolled at T0; and the check-in code."""
    case = _case(rita)
    done = checkin_store.enrol(rita, case, EVERY, GRACE, NORMAL, DURESS, now=T0)
    return case, done.code


def _notices(kind: str = "checkin") -> list[tuple[str, str]]:
    rows = Notice.objects.filter(kind=kind).order_by("id").select_related("user")
    return [(n.user.username, n.text) for n in rows]


# --- Enrolment ------------------------------------------------------------------------------


def test_enrolment_shows_a_16_digit_code_once_and_stores_only_digests(
    rita: services.Workspace, enrolled: tuple[Case, str]
) -> None:
    case, code = enrolled
    groups = code.split(" ")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    assert "".join(groups).isdigit()
    schedule = CheckinSchedule.objects.get(case=case)
    assert (schedule.every_minutes, schedule.grace_minutes, schedule.starts) == (60, 15, T0)
    assert schedule.handler.username == "rita"
    assert schedule.active is True
    assert schedule.normal_digest.startswith("argon2id.v1$")
    assert schedule.normal_digest != schedule.duress_digest
    assert len(bytes(schedule.salt)) == 16
    assert ("rita", "casework.checkin_enrol", "case", case.code) in _audit_actions()


def test_an_unassigned_caseworker_cannot_enrol_and_learns_nothing(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    theirs = _case(cw)
    with pytest.raises(NotFound, match=r"^no case 'C-0001'$"):
        checkin_store.enrol(rita, theirs, EVERY, GRACE, NORMAL, DURESS, now=T0)
    assert CheckinSchedule.objects.count() == 0


@pytest.mark.parametrize(
    ("every", "grace", "normal", "duress", "message"),
    [
        (timedelta(minutes=4), GRACE, NORMAL, DURESS, "check-in period must be from 5 minutes"),
        (timedelta(days=32), GRACE, NORMAL, DURESS, "to 31 days"),
        (timedelta(seconds=90), GRACE, NORMAL, DURESS, "whole number of minutes"),
        (EVERY, timedelta(days=8), NORMAL, DURESS, "grace period must be from 0 minutes"),
        (EVERY, GRACE, "солнечный ветер.", NORMAL, "must differ"),
        (EVERY, GRACE, "...", DURESS, "normal answer needs"),
    ],
)
def test_bad_enrolments_are_refused(
    rita: services.Workspace,
    every: timedelta,
    grace: timedelta,
    normal: str,
    duress: str,
    message: str,
) -> None:
    case = _case(rita)
    with pytest.raises(BadInput, match=message):
        checkin_store.enrol(rita, case, every, grace, normal, duress, now=T0)
    assert CheckinSchedule.objects.count() == 0


def test_a_second_schedule_waits_until_the_first_is_stopped(
    rita: services.Workspace, enrolled: tuple[Case, str]
) -> None:
    case, code = enrolled
    with pytest.raises(Conflict, match="has check-ins already"):
        checkin_store.enrol(rita, case, EVERY, GRACE, "один", "два", now=T0)
    checkin_store.stop(rita, case, now=T0 + EVERY)
    again = checkin_store.enrol(rita, case, EVERY, GRACE, "один", "два", now=T0 + EVERY)
    assert again.code != code
    # The old code is unknown now: its check-in is recorded nowhere.
    checkin_store.receive(code, NORMAL, now=T0 + EVERY)
    assert CheckinEntry.objects.count() == 0
    assert ("rita", "casework.checkin_stop", "case", case.code) in _audit_actions()


def test_the_handler_must_be_assigned(rita: services.Workspace, cw: services.Workspace) -> None:
    case = _case(rita)
    admin = User.objects.get(username="admin")
    with pytest.raises(BadInput, match="handler must be assigned"):
        checkin_store.enrol(rita, case, EVERY, GRACE, NORMAL, DURESS, handler=admin, now=T0)


# --- Answers --------------------------------------------------------------------------------


def test_the_answer_is_recognised_as_a_phone_keyboard_types_it(
    enrolled: tuple[Case, str],
) -> None:
    code = enrolled[1]
    checkin_store.receive(code.replace(" ", "-"), "  солнечный ветер. ", now=T0 + 10 * SECOND)
    [entry] = CheckinEntry.objects.all()
    assert (entry.at, entry.counts) == (T0 + 10 * SECOND, True)
    assert CheckinAlert.objects.count() == 0


def test_a_duress_answer_raises_the_top_tier_at_once(
    org: factories.Org, enrolled: tuple[Case, str]
) -> None:
    case, code = enrolled
    at = T0 + timedelta(minutes=20)
    checkin_store.receive(code, DURESS, now=at)
    [alert] = CheckinAlert.objects.all()
    assert (alert.reason, alert.tier, alert.raised_tier, alert.due_since) == ("duress", 3, 3, at)
    # Tier 3 ("partner"): every coordinator and admin; rita (the handler) is neither.
    text = f"{case.code}: check-in alert {alert.pk} (duress) raised at tier 3 (partner)"
    assert _notices() == [("admin", text)]
    assert ("system", "casework.checkin_alert", "case", case.code) in _audit_actions()
    # It counts as a check-in for the clock (the person did answer).
    assert CheckinEntry.objects.get().counts is True
    assert checkin_store.run_pass(at) == []


def test_a_wrong_answer_raises_tier_one_and_does_not_count(enrolled: tuple[Case, str]) -> None:
    case, code = enrolled
    at = T0 + timedelta(minutes=50)
    checkin_store.receive(code, "Солнечный", now=at)
    [alert] = CheckinAlert.objects.all()
    assert (alert.reason, alert.tier) == ("unknown", 1)
    assert _notices() == [
        ("rita", f"{case.code}: check-in alert {alert.pk} (unknown) raised at tier 1 (handler)")
    ]
    assert CheckinEntry.objects.get().counts is False
    # The clock still runs from the start: missed after T0 + 1h15m (and the wrong answer's
    # alert, unacknowledged for 25 minutes, has climbed).
    missed = checkin_store.run_pass(T0 + EVERY + GRACE + SECOND)
    assert sorted((d.kind, d.reason, d.tier) for d in missed) == [
        ("escalated", "unknown", 2),
        ("raised", "missed", 1),
    ]


def test_an_unknown_code_records_nothing_and_costs_one_argon2id_run(
    enrolled: tuple[Case, str], argon2_runs: list[int]
) -> None:
    checkin_store.receive("0000 0000 0000 0000", NORMAL, now=T0)
    assert (CheckinEntry.objects.count(), CheckinAlert.objects.count(), len(argon2_runs)) == (
        0,
        0,
        1,
    )
    checkin_store.receive(enrolled[1], "wrong", now=T0)
    assert len(argon2_runs) == 2


@pytest.mark.parametrize(
    ("code", "answer", "message"),
    [
        ("1234", NORMAL, "16 digits"),
        ("1234 5678 9012 345x", NORMAL, "16 digits"),
        ("1234 5678 9012 3456 7", NORMAL, "16 digits"),
        ("1234 5678 9012 3456", "?!", "needs letters or digits"),
        ("1234 5678 9012 3456", "a" * 801, "at most 200"),
    ],
)
def test_malformed_check_ins_are_refused_before_any_lookup(
    enrolled: tuple[Case, str], argon2_runs: list[int], code: str, answer: str, message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        checkin_store.receive(code, answer, now=T0)
    assert argon2_runs == []


# --- The pass with a frozen clock -----------------------------------------------------------


def test_an_on_time_check_in_raises_nothing(enrolled: tuple[Case, str]) -> None:
    code = enrolled[1]
    checkin_store.receive(code, NORMAL, now=T0 + timedelta(minutes=55))
    # Without it, the pass at T0 + 1h15m + 1s would raise; with it, the next is due later.
    assert checkin_store.run_pass(T0 + EVERY + GRACE + SECOND) == []
    assert checkin_store.run_pass(T0 + timedelta(minutes=55) + EVERY + GRACE) == []
    assert CheckinAlert.objects.count() == 0
    assert _notices() == []


def test_a_missed_check_in_climbs_the_tiers(org: factories.Org, enrolled: tuple[Case, str]) -> None:
    case, _code = enrolled
    assert checkin_store.run_pass(T0 + EVERY + GRACE) == []  # the limit is inclusive
    at = T0 + EVERY + GRACE + SECOND
    [raised] = checkin_store.run_pass(at)
    alert = CheckinAlert.objects.get()
    assert (raised.kind, raised.alert, raised.reason, raised.tier, raised.role) == (
        "raised",
        alert.pk,
        "missed",
        1,
        "handler",
    )
    assert (
        raised.line()
        == f"{case.code}: check-in alert {alert.pk} (missed) raised at tier 1 (handler)"
    )
    assert (alert.due_since, alert.raised_at, alert.tier) == (T0 + EVERY, at, 1)
    assert _notices() == [("rita", raised.line())]

    assert checkin_store.run_pass(at + timedelta(minutes=15)) == []
    [up] = checkin_store.run_pass(at + timedelta(minutes=15) + SECOND)
    assert (up.kind, up.from_tier, up.tier, up.role) == ("escalated", 1, 2, "coordinator")
    # Tier 2: the case's coordinators (none) and the organisation's admins.
    assert _notices()[1:] == [("admin", up.line())]
    [top] = checkin_store.run_pass(at + timedelta(minutes=46))
    assert (top.kind, top.tier, top.role) == ("escalated", 3, "partner")
    actions = [a for a in _audit_actions() if a[1].startswith("casework.checkin_")]
    assert actions[-3:] == [
        ("system", "casework.checkin_alert", "case", case.code),
        ("system", "casework.checkin_escalate", "case", case.code),
        ("system", "casework.checkin_escalate", "case", case.code),
    ]


def test_a_second_pass_at_the_same_time_does_nothing_new(enrolled: tuple[Case, str]) -> None:
    at = T0 + EVERY + GRACE + SECOND
    assert len(checkin_store.run_pass(at)) == 1
    alerts, notices, audit = CheckinAlert.objects.count(), Notice.objects.count(), _audit_actions()
    assert checkin_store.run_pass(at) == []
    assert (CheckinAlert.objects.count(), Notice.objects.count(), _audit_actions()) == (
        alerts,
        notices,
        audit,
    )


def test_a_case_coordinator_is_told_at_tier_two(
    org: factories.Org, rita: services.Workspace
) -> None:
    case = _case(rita)
    factories.add_user(org, "zelim", ["casework"])
    from refugium.web.accounts import services as accounts

    accounts.grant("zelim", "casework", by="admin", by_passphrase=factories.ADMIN_PASSPHRASE)
    cases.assign(rita, case, User.objects.get(username="zelim"), role="coordinator")
    checkin_store.enrol(rita, case, EVERY, GRACE, NORMAL, DURESS, now=T0)
    at = T0 + EVERY + GRACE + SECOND
    checkin_store.run_pass(at)
    [up] = checkin_store.run_pass(at + timedelta(minutes=16))
    assert sorted(n for n, text in _notices() if text == up.line()) == ["admin", "zelim"]


def test_a_handler_no_longer_assigned_is_replaced_by_the_assignees(
    org: factories.Org, rita: services.Workspace
) -> None:
    case = _case(rita)
    kamil = _caseworker(org, "kamil")
    cases.assign(rita, case, kamil.user)
    checkin_store.enrol(rita, case, EVERY, GRACE, NORMAL, DURESS, handler=kamil.user, now=T0)
    cases.unassign(rita, case, kamil.user)
    [raised] = checkin_store.run_pass(T0 + EVERY + GRACE + SECOND)
    assert _notices() == [("rita", raised.line())]


# --- Acknowledging and resolving ------------------------------------------------------------


def test_acknowledge_then_resolve_both_audited_and_the_clock_restarts(
    rita: services.Workspace, enrolled: tuple[Case, str]
) -> None:
    case, _code = enrolled
    at = T0 + EVERY + GRACE + SECOND
    [raised] = checkin_store.run_pass(at)
    with pytest.raises(Conflict, match="acknowledge the alert before resolving it"):
        checkin_store.resolve(rita, raised.alert, now=at)
    checkin_store.acknowledge(rita, raised.alert, now=at + timedelta(minutes=5))
    with pytest.raises(Conflict, match="already acknowledged"):
        checkin_store.acknowledge(rita, raised.alert, now=at + timedelta(minutes=6))
    # Acknowledged: it no longer climbs after 15 minutes...
    assert checkin_store.run_pass(at + timedelta(minutes=30)) == []
    # ...but is sent again to its tier after an hour, until resolved.
    [again] = checkin_store.run_pass(at + timedelta(minutes=66))
    assert (again.kind, again.tier) == ("renotified", 1)
    resolved_at = at + timedelta(minutes=70)
    row = checkin_store.resolve(rita, raised.alert, now=resolved_at)
    assert (row.acknowledged_by.username, row.resolved_by.username) == ("rita", "rita")
    assert (row.acknowledged_at, row.resolved_at) == (at + timedelta(minutes=5), resolved_at)
    with pytest.raises(Conflict, match="already resolved"):
        checkin_store.resolve(rita, raised.alert, now=resolved_at)
    actions = _audit_actions()
    assert ("rita", "casework.checkin_ack", "case", case.code) in actions
    assert ("rita", "casework.checkin_resolve", "case", case.code) in actions
    assert actions.index(("rita", "casework.checkin_ack", "case", case.code)) < actions.index(
        ("rita", "casework.checkin_resolve", "case", case.code)
    )
    # The clock restarts at the resolution: silent until resolved_at + 1h15m, then an alert.
    assert checkin_store.run_pass(resolved_at + EVERY + GRACE) == []
    [new] = checkin_store.run_pass(resolved_at + EVERY + GRACE + SECOND)
    assert (new.kind, new.reason) == ("raised", "missed")
    assert CheckinAlert.objects.get(pk=new.alert).due_since == resolved_at + EVERY


def test_an_unassigned_caseworker_gets_the_same_error_as_for_a_missing_alert(
    org: factories.Org, cw: services.Workspace, enrolled: tuple[Case, str]
) -> None:
    [raised] = checkin_store.run_pass(T0 + EVERY + GRACE + SECOND)
    kamil = _caseworker(org, "kamil")
    for number in (raised.alert, raised.alert + 1):
        with pytest.raises(NotFound, match=rf"^no check-in alert {number}$"):
            checkin_store.acknowledge(kamil, number, now=T0 + 2 * EVERY)
    assert checkin_store.open_alerts(kamil) == []
    # The admin is a coordinator: not assigned, yet may act on any case's alert.
    assert [a.pk for a in checkin_store.open_alerts(cw)] == [raised.alert]
    checkin_store.acknowledge(cw, raised.alert, now=T0 + 2 * EVERY)
    assert CheckinAlert.objects.get().acknowledged_by.username == "admin"


def test_a_stopped_schedule_keeps_its_open_alert_climbing(
    rita: services.Workspace, enrolled: tuple[Case, str]
) -> None:
    case, _code = enrolled
    at = T0 + EVERY + GRACE + SECOND
    checkin_store.run_pass(at)
    checkin_store.stop(rita, case, now=at)
    [up] = checkin_store.run_pass(at + timedelta(minutes=16))
    assert (up.kind, up.tier) == ("escalated", 2)
    # No new check-in falls due after the stop; the open alert goes on climbing.
    later = at + timedelta(days=3)
    assert [(d.kind, d.tier) for d in checkin_store.run_pass(later)] == [("escalated", 3)]
    again = checkin_store.run_pass(later + timedelta(minutes=31))
    assert [(d.kind, d.tier) for d in again] == [("renotified", 3)]
    assert CheckinAlert.objects.count() == 1


# --- The server's secret and a seized database ----------------------------------------------


def test_the_secret_is_created_once_owner_only_and_a_damaged_one_is_refused(
    org: factories.Org,
) -> None:
    path = checkin_store.secret_path()
    assert not path.exists()
    first = checkin_store.server_secret()
    assert len(first) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert checkin_store.server_secret() == first
    path.write_text("not a secret\n")
    with pytest.raises(BadInput, match="damaged; restore it from the backup"):
        checkin_store.server_secret()


def test_a_secret_created_meanwhile_by_another_process_is_kept(org: factories.Org) -> None:
    path = checkin_store.secret_path()
    path.write_text("ab" * 32 + "\n")
    checkin_store._create_secret(path)
    assert checkin_store.server_secret() == bytes.fromhex("ab" * 32)
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.django_db(transaction=True)
def test_a_seized_database_holds_neither_code_nor_answer(data_dir: object) -> None:
    org = factories.make_org()
    rita = _caseworker(org, "rita")
    case = _case(rita)
    code = checkin_store.enrol(rita, case, EVERY, GRACE, NORMAL, DURESS, now=T0).code
    checkin_store.receive(code, NORMAL, now=T0 + timedelta(minutes=30))
    checkin_store.receive(code, DURESS, now=T0 + timedelta(minutes=40))
    checkin_store.receive(code, "Неверный Ответ", now=T0 + timedelta(minutes=45))
    done = checkin_store.run_pass(T0 + timedelta(minutes=40) + EVERY + GRACE + SECOND)
    assert {d.reason for d in done} == {"duress", "unknown", "missed"}
    for alert in CheckinAlert.objects.all():
        checkin_store.acknowledge(rita, alert.pk, now=T0 + 3 * EVERY)
        checkin_store.resolve(rita, alert.pk, now=T0 + 3 * EVERY)
    seized = seized_bytes()
    # The right files were read: the schedule's lookup and the audit entries are there.
    assert CheckinSchedule.objects.get().lookup.encode() in seized
    assert b"casework.checkin_resolve" in seized
    digits = code.replace(" ", "")
    secrets = [NORMAL, DURESS, "солнечный ветер", "тихая гавань", "Неверный Ответ", code, digits]
    hits = [s for s in secrets for form in written_forms(s) if form in seized]
    assert hits == []
    # Nor does the secret that would let a seizer test guesses offline.
    assert checkin_store.server_secret().hex().encode() not in seized
