"""Flags raised by hand (issue 9: "other flags (pushing to meet in person, refusing a
call-back, a relative's or official's 'wanted/missing' search for the person) can be raised
by hand"; research note requirements 2 and 14)."""

from __future__ import annotations

from datetime import date

import pytest

from refugium.errors import BadInput, NotFound
from refugium.web.casework import cases, notices, services
from refugium.web.casework.models import Case, Flag
from tests import factories
from tests.web.casework.seized import seized_bytes, written_forms
from tests.web.casework.test_cases import _audit_actions

DAY = date(2017, 4, 2)



def _open(cw: services.Workspace, risk: str = "medium") -> Case:
    return cases.open_case(cw, risk=risk, channel="@asker", today=DAY).case


def _verified(cw: services.Workspace, case: Case) -> None:
    """Two independent signals: enough for the gate while no flag is open."""
    cases.move_stage(cw, case, "verification", today=DAY)
    cases.record_attestation(cw, case, "referee", "signal: zarema", on=DAY)
    cases.record_attestation(cw, case, "callback", "+7 928 000 11 22", on=DAY)


def test_a_manual_flag_raises_the_bar_until_a_second_caseworker_clears_it(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw)
    _verified(cw, case)
    flag = cases.raise_flag(cw, case, "meet_in_person", "insists on a cafe in Grozny", today=DAY)
    assert (flag.source, flag.raised_on, flag.raised_by, flag.cleared_on) == (
        "manual",
        DAY,
        cw.user,
        None,
    )
    with pytest.raises(cases.GateClosed, match="raise the bar to 3"):
        cases.move_stage(cw, case, "safe")
    with pytest.raises(BadInput, match="second caseworker"):
        cases.clear_flag(cw, case, flag.pk)
    cases.assign(cw, case, rita.user)
    cases.clear_flag(rita, case, flag.pk)
    assert cases.move_stage(cw, case, "safe").to_stage == "safe"


def test_the_reason_is_the_label_and_the_note_sealed(cw: services.Workspace) -> None:
    case = _open(cw)
    flag = cases.raise_flag(cw, case, "refused_callback", "FLAG-NOTE-MARK")
    [shown] = cases.open_case_view(cw, case).flags
    assert (shown.number, shown.source, shown.cleared) == (flag.pk, "manual", False)
    assert shown.reason == "Refusing a call-back on a known channel: FLAG-NOTE-MARK"
    assert cases._open(cw_keys(cw, case), flag, "reason")["code"] == "refused_callback"
    assert b"FLAG-NOTE-MARK" not in bytes(flag.reason)
    assert b"refused_callback" not in bytes(flag.reason)
    assert ("casework.flag", "case", case.code) in _audit_actions()


def cw_keys(ws: services.Workspace, case: Case) -> list:  # type: ignore[type-arg]
    return cases._keys(ws, case)


@pytest.mark.parametrize(
    ("risk", "after"), [("low", "high"), ("medium", "high"), ("critical", "critical")]
)
def test_a_wanted_search_raises_the_risk_to_at_least_high(
    cw: services.Workspace, risk: str, after: str
) -> None:
    case = _open(cw, risk=risk)
    cases.raise_flag(cw, case, "wanted_search", "a cousin posted a missing-person notice")
    assert case.risk == after
    assert Case.objects.get(pk=case.pk).risk == after
    raised = ("casework.risk", "case", case.code) in _audit_actions()
    assert raised is (risk != after)


def test_other_flags_leave_the_risk_as_it_is(cw: services.Workspace) -> None:
    case = _open(cw, risk="low")
    cases.raise_flag(cw, case, "urgency")
    assert Case.objects.get(pk=case.pk).risk == "low"


@pytest.mark.parametrize(
    ("code", "note", "message"),
    [
        ("gossip", "", "no flag reason 'gossip'"),
        ("other", "  ", "say what the sign"),
        ("urgency", "x" * 1001, "note: longer than 1000"),
    ],
)
def test_bad_input_raises_no_flag(
    cw: services.Workspace, code: str, note: str, message: str
) -> None:
    case = _open(cw)
    with pytest.raises(BadInput, match=message):
        cases.raise_flag(cw, case, code, note)
    assert Flag.objects.count() == 0


def test_an_unassigned_caseworker_cannot_raise_one(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw)
    with pytest.raises(NotFound, match="no case 'C-0001'"):
        cases.raise_flag(rita, case, "urgency")
    assert Flag.objects.count() == 0


def test_the_other_assignees_get_a_notice(cw: services.Workspace, rita: services.Workspace) -> None:
    case = _open(cw)
    cases.assign(cw, case, rita.user)
    cases.raise_flag(cw, case, "urgency")
    [notice] = notices.unread(rita.user)
    assert (notice.kind, notice.text, notice.case) == (
        "flag",
        "admin raised a flag on C-0001",
        case,
    )
    assert notices.unread(cw.user) == []


@pytest.mark.django_db(transaction=True)
def test_a_seized_database_holds_no_manual_flag_note_or_reason(data_dir: object) -> None:
    from refugium.web.desk import services as desk_services

    factories.make_org()
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    cw = services.workspace(user, keyring)
    case = _open(cw)
    cases.raise_flag(cw, case, "wanted_search", "SEARCH-NOTE-MARK by the uncle")
    cases.raise_flag(cw, case, "other", "OTHER-NOTE-MARK")
    seized = seized_bytes()
    assert case.code.encode() in seized  # the audit log was read
    secrets = ["SEARCH-NOTE-MARK", "OTHER-NOTE-MARK", "wanted_search", "missing person"]
    hits = [s for s in secrets for form in written_forms(s) if form in seized]
    assert hits == []
