"""Cases with per-case keys, stages and the verification gate (issue 9, "Cases", "Per-case
keys", "Verification gate")."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import User

from refugium.crypto import DecryptionFailed, DeskKey
from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.accounts.models import Membership
from refugium.web.casework import cases, services
from refugium.web.casework.models import (
    Assignment,
    Case,
    CaseKeyGeneration,
    CaseKeyWrap,
    Flag,
)
from refugium.web.desk import services as desk_services
from tests import factories
from tests.web.casework.people import caseworker
from tests.web.casework.seized import seized_bytes, written_forms

DAY = date(2017, 4, 2)
CONTACT = "+7 (928) 555-12-34"


_caseworker = caseworker



def _audit_actions() -> list[tuple[str, str, str]]:
    from refugium.web.core.auditing import audit_log

    bodies = [entry["body"] for entry in audit_log().entries()]
    return [(b["action"], b["object"]["type"], b["object"]["id"]) for b in bodies]


def _open(cw: services.Workspace, **extra: object) -> Case:
    values: dict[str, object] = {"risk": "high", "needs": ["shelter", "travel"], "today": DAY}
    values.update(extra)
    return cases.open_case(cw, **values).case  # type: ignore[arg-type]


def test_a_case_opens_in_request_assigned_to_the_actor(cw: services.Workspace) -> None:
    opened = cases.open_case(
        cw,
        risk="critical",
        needs=["travel", "documents"],
        contacts=[(CONTACT, None)],
        channel="@asker",
        name="Аслан",
        today=DAY,
    )
    case = opened.case
    assert (case.code, case.stage, case.risk, case.needs) == (
        "C-0001",
        "request",
        "critical",
        "travel,documents",
    )
    assert opened.flags == []
    view = cases.open_case_view(cw, "c-1")
    assert (view.code, view.name, view.contacts, view.channel) == (
        "C-0001",
        "Аслан",
        [(CONTACT, "phone")],
        "@asker",
    )
    assert view.assignees == [("admin", "caseworker")]
    assert view.needs == ["travel", "documents"]
    generation = CaseKeyGeneration.objects.get(case=case)
    assert generation.number == 1
    wraps = CaseKeyWrap.objects.filter(generation=generation)
    assert sorted(str(w.user) for w in wraps) == ["None", "admin"]
    assert ("casework.case_open", "case", "C-0001") in _audit_actions()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"risk": "extreme"}, "no risk level 'extreme'"),
        ({"needs": ["weapons"]}, "no need 'weapons'"),
        ({"contacts": [("123", "phone")]}, "contact 1: not a possible phone number"),
        ({"channel": "  "}, "needs the channel"),
    ],
)
def test_bad_input_opens_nothing(cw: services.Workspace, extra: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(BadInput, match=message):
        _open(cw, **extra)
    assert Case.objects.count() == 0


# --- The gate -------------------------------------------------------------------------------


def _to_verification(cw: services.Workspace, case: Case) -> None:
    cases.move_stage(cw, case, "verification", today=DAY)


def test_one_signal_does_not_pass_the_gate(cw: services.Workspace) -> None:
    case = _open(cw, channel="@asker")
    _to_verification(cw, case)
    cases.record_attestation(cw, case, "referee", "signal: zarema", on=DAY)
    with pytest.raises(cases.GateClosed, match="C-0001 cannot enter 'safe': 2 independent"):
        cases.move_stage(cw, case, "safe")
    case.refresh_from_db()
    assert case.stage == "verification"


def test_two_signals_from_one_channel_do_not_pass(cw: services.Workspace) -> None:
    case = _open(cw, channel="@asker")
    _to_verification(cw, case)
    cases.record_attestation(cw, case, "callback", "+7 928 555 12 34")
    cases.record_attestation(cw, case, "code_answer", "89285551234")
    with pytest.raises(cases.GateClosed, match="1 recorded"):
        cases.move_stage(cw, case, "safe")


def test_a_callback_on_the_request_channel_does_not_count(cw: services.Workspace) -> None:
    case = _open(cw, channel="8 928 555 12 34")
    _to_verification(cw, case)
    cases.record_attestation(cw, case, "referee", "signal: zarema")
    cases.record_attestation(cw, case, "callback", CONTACT)
    with pytest.raises(cases.GateClosed, match="came in on does not count"):
        cases.move_stage(cw, case, "safe")


def test_two_independent_signals_pass_and_every_move_is_recorded(cw: services.Workspace) -> None:
    case = _open(cw, channel="@asker")
    with pytest.raises(BadInput, match="cannot move to 'safe'"):
        cases.move_stage(cw, case, "safe")
    _to_verification(cw, case)
    cases.record_attestation(cw, case, "referee", "signal: zarema", on=DAY)
    cases.record_attestation(cw, case, "callback", "+7 928 000 11 22", on=DAY)
    change = cases.move_stage(cw, case, "safe", today=DAY)
    assert (change.from_stage, change.to_stage, change.on) == ("verification", "safe", DAY)
    cases.move_stage(cw, case, "exit", today=DAY)
    cases.move_stage(cw, case, "safe", today=DAY)  # the route failed
    view = cases.open_case_view(cw, case)
    assert view.stage == "safe"
    assert [(f, t) for f, t, _on, _by in view.transitions] == [
        ("request", "verification"),
        ("verification", "safe"),
        ("safe", "exit"),
        ("exit", "safe"),
    ]
    assert {a.signal for a in view.attestations} == {"referee", "callback"}
    assert view.attestations[0].by == "admin"
    stage_audits = [a for a in _audit_actions() if a[0] == "casework.stage"]
    assert stage_audits == [("casework.stage", "case", "C-0001")] * 4


def test_an_open_flag_raises_the_bar_until_a_second_caseworker_clears_it(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    services.add_to_watchlist(cw, "89285551234", "phone", "Seized phone of a detainee")
    opened = cases.open_case(cw, risk="high", contacts=[(CONTACT, "phone")], channel="@asker")
    case = opened.case
    _to_verification(cw, case)
    cases.record_attestation(cw, case, "referee", "signal: zarema")
    cases.record_attestation(cw, case, "code_answer", "@asker")
    with pytest.raises(cases.GateClosed, match="raise the bar to 3"):
        cases.move_stage(cw, case, "safe")
    [flag] = Flag.objects.filter(case=case)
    with pytest.raises(BadInput, match="second caseworker"):
        cases.clear_flag(cw, case, flag.pk)
    cases.assign(cw, case, rita.user)
    cases.clear_flag(rita, case, flag.pk)
    assert cases.move_stage(cw, case, "safe").to_stage == "safe"


# --- Flags ----------------------------------------------------------------------------------


def test_a_watchlisted_contact_in_another_form_records_a_flag(cw: services.Workspace) -> None:
    services.add_to_watchlist(cw, "89285551234", "phone", "Seized phone of a detainee")
    services.add_to_watchlist(cw, "8 928 555 12 34", "phone", "Used by a lure")
    opened = cases.open_case(
        cw, risk="high", contacts=[(CONTACT, None), ("+7 928 555 12 34", "phone"), ("@x1", None)]
    )
    assert opened.flags == ["Seized phone of a detainee", "Used by a lure"]
    [flag] = Flag.objects.filter(case=opened.case)
    assert (flag.source, flag.cleared_on) == ("watchlist", None)
    view = cases.open_case_view(cw, opened.case)
    assert [f.reason for f in view.flags] == ["Seized phone of a detainee\nUsed by a lure"]
    assert b"Seized" not in bytes(flag.reason)


# --- Per-case keys --------------------------------------------------------------------------


def _unwrappable(ws: services.Workspace, case: Case) -> list[int]:
    """The generations of the case key whose wraps (to anyone) ``ws``'s identity opens."""
    opened = []
    for wrap in CaseKeyWrap.objects.filter(generation__case=case).select_related("generation"):
        try:
            DeskKey.unwrap(bytes(wrap.blob), ws.identity)  # type: ignore[arg-type]
        except DecryptionFailed:
            continue
        opened.append(wrap.generation.number)
    return sorted(opened)


def test_an_unassigned_caseworker_gets_the_same_not_found_and_cannot_decrypt(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw, name="Аслан")
    with pytest.raises(NotFound) as missing:
        cases.open_case_view(rita, "C-0099")
    with pytest.raises(NotFound) as unassigned:
        cases.open_case_view(rita, "C-0001")
    assert str(missing.value) == "no case 'C-0099'"
    assert str(unassigned.value) == "no case 'C-0001'"
    assert type(missing.value) is type(unassigned.value)
    for action in (
        lambda: cases.record_attestation(rita, case, "referee", "x"),
        lambda: cases.move_stage(rita, case, "verification"),
        lambda: cases.assign(rita, case, rita.user),
    ):
        with pytest.raises(NotFound, match="no case 'C-0001'"):
            action()
    # Not only refused: rita's identity opens no wrap of the case key, and the casework
    # desk's keys (which she holds) do not open the sealed part.
    assert _unwrappable(rita, case) == []
    with pytest.raises(DecryptionFailed):
        cases._open(rita.keys, case, "sealed")


def test_assigning_lets_a_caseworker_read_the_history(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw, name="Аслан")
    cases.record_attestation(cw, case, "referee", "signal: zarema")
    assert cases.assign(cw, case, rita.user, today=DAY) == 1
    view = cases.open_case_view(rita, case)
    assert (view.name, [a.signal for a in view.attestations]) == ("Аслан", ["referee"])
    assert view.assignees == [("admin", "caseworker"), ("rita", "caseworker")]
    assert _unwrappable(rita, case) == [1]
    with pytest.raises(Conflict):
        cases.assign(cw, case, rita.user)
    assert ("casework.assign", "case", "C-0001") in _audit_actions()


def test_only_active_casework_members_can_be_assigned(
    cw: services.Workspace, org: factories.Org
) -> None:
    case = _open(cw)
    factories.add_user(org, "omar", ["casework"], passphrase="omar has a long passphrase")
    with pytest.raises(BadInput, match="'omar' is not an active member"):
        cases.assign(cw, case, User.objects.get(username="omar"))
    with pytest.raises(BadInput, match="no role"):
        cases.assign(cw, case, cw.user, role="driver")


def test_unassigning_rotates_the_case_key_for_new_data(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw)
    cases.assign(cw, case, rita.user)
    assert cases.unassign(cw, case, rita.user) == 2
    assert not Assignment.objects.filter(case=case, user=rita.user).exists()
    assert not CaseKeyWrap.objects.filter(generation__case=case, user=rita.user).exists()
    with pytest.raises(NotFound, match="no case 'C-0001'"):
        cases.open_case_view(rita, case)
    new = cases.record_attestation(cw, case, "referee", "signal: zarema")
    newest = CaseKeyGeneration.objects.get(case=case, number=2)
    assert bytes(new.details)[1:9].hex() == newest.key_id  # sealed under generation 2
    assert _unwrappable(rita, case) == []
    # The remaining assignee reads old and new data.
    view = cases.open_case_view(cw, case)
    assert [a.signal for a in view.attestations] == ["referee"]
    assert _unwrappable(cw, case) == [1, 2]
    with pytest.raises(NotFound, match="'rita' is not assigned"):
        cases.unassign(cw, case, rita.user)
    assert ("casework.unassign", "case", "C-0001") in _audit_actions()


def test_cut_off_removes_every_wrap_and_rotates_each_case(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    first, second, third = _open(cw), _open(cw), _open(cw)
    cases.assign(cw, first, rita.user)
    cases.assign(cw, second, rita.user)
    with pytest.raises(services.NoAccess, match="only a coordinator"):
        cases.cut_off(rita, cw.user)
    result = cases.cut_off(cw, rita.user)
    assert (result.cases, result.desk_revoked) == (["C-0001", "C-0002"], True)
    assert not CaseKeyWrap.objects.filter(user=rita.user).exists()
    assert not Assignment.objects.filter(user=rita.user).exists()
    assert not Membership.objects.filter(user=rita.user, desk=cw.desk).exists()
    numbers = {c.code: c.generations.count() for c in (first, second, third)}
    assert numbers == {"C-0001": 2, "C-0002": 2, "C-0003": 1}
    for case in (first, second):
        assert _unwrappable(rita, case) == []
        assert cases.open_case_view(cw, case).code == case.code
    cut = [a for a in _audit_actions() if a[0] == "casework.cut_off"]
    assert cut == [("casework.cut_off", "case", "C-0001"), ("casework.cut_off", "case", "C-0002")]
    with pytest.raises(BadInput, match="own account"):
        cases.cut_off(cw, cw.user)


# --- What a seized database shows -----------------------------------------------------------


# reset_sequences: the case must be C-0001 whichever transactional test ran before.
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_a_seized_database_holds_no_contact_name_or_person_link(data_dir: object) -> None:
    from refugium.web.records import services as records
    from refugium.web.records.models import Person

    factories.make_org()
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    cw = services.workspace(user, keyring)
    documentation = records.workspace(user, keyring)
    for _ in range(7):
        person = records.save(documentation, Person())
    assert person.code == "P-0007"
    services.add_to_watchlist(cw, "89281112233", "phone", "WATCH-MARK reason")
    opened = cases.open_case(
        cw,
        risk="high",
        contacts=[
            ("+7 (928) 777-66-55", "phone"),
            ("@Case_Handle_Mark", None),
            ("+7 928 111 22 33", None),
        ],
        person=person,
        channel="case.mail.mark@example.org",
        name="CASE-NAME-MARK Аслан",
        notes="CASE-NOTES-MARK",
    )
    assert opened.flags == ["WATCH-MARK reason"]
    cases.record_attestation(cw, opened.case, "callback", "+7 928 333 44 55", note="ATT-MARK")
    view = cases.open_case_view(cw, opened.case)
    assert view.person == "P-0007"
    seized = seized_bytes()
    assert b"C-0001" in seized  # the audit log was read
    assert opened.case.code.encode() in seized
    secrets = [
        "+7 (928) 777-66-55",
        "89287776655",
        "+79287776655",
        "9287776655",
        "777-66-55",
        "Case_Handle_Mark",
        "case.mail.mark",
        "CASE-NAME-MARK",
        "Аслан",
        "CASE-NOTES-MARK",
        "WATCH-MARK",
        "9283334455",
        "ATT-MARK",
        "9281112233",
        "P-0007",
    ]
    hits = [s for s in secrets for form in written_forms(s) if form in seized]
    assert hits == []


def test_the_recovery_key_opens_every_generation_after_a_cut_off(
    cw: services.Workspace, rita: services.Workspace, org: factories.Org
) -> None:
    from refugium.crypto import Identity

    case = _open(cw, name="Аслан")
    cases.assign(cw, case, rita.user)
    cases.unassign(cw, case, cw.user)  # rita alone holds generation 2
    cases.cut_off(cw, rita.user)  # and now no one does
    assert not Assignment.objects.filter(case=case).exists()
    recovery = Identity.from_secret_string(org.paper_key)
    wraps = CaseKeyWrap.objects.filter(generation__case=case, user=None).order_by(
        "-generation__number"
    )
    keys = [DeskKey.unwrap(bytes(w.blob), recovery) for w in wraps]
    assert [k.key_id for k in keys] == list(
        CaseKeyGeneration.objects.filter(case=case)
        .order_by("-number")
        .values_list("key_id", flat=True)
    )
    assert len(keys) == 3
    assert cases._open(keys, case, "sealed")["name"] == "Аслан"
