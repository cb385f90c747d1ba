"""A case's tasks with pushed overdue escalation, its sealed notes and its documents from the
vault (issue 9: "Tasks with deadlines and overdue escalation; encrypted notes; documents from
the vault")."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from refugium.casework import tasks as rules
from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.accounts.models import Desk
from refugium.web.casework import cases, services, tasks
from refugium.web.casework.models import Case, CaseDocument, CaseNote, Notice, Task
from refugium.web.desk import services as desk_services
from refugium.web.evidence import services as evidence
from tests import factories
from tests.web.casework.seized import seized_bytes, written_forms
from tests.web.casework.test_cases import _audit_actions, _caseworker

DAY = date(2017, 4, 2)
DUE = date(2017, 4, 5)
# The first moment the task due on DUE is overdue (the tests run in UTC).
OVERDUE = datetime(2017, 4, 6, 0, 0, 1, tzinfo=UTC)
TITLE = "Buy the Grozny to Mineralnye Vody ticket for Zelimkhan"
NOTE = "Zelimkhan says his uncle Ruslan Synthaev-Baysarov watches the Staropromyslovsky flat"




def _open(ws: services.Workspace, risk: str = "high") -> Case:
    return cases.open_case(ws, risk=risk, needs=["travel"], today=DAY).case


def _unread(name: str) -> list[str]:
    return [n.text for n in Notice.objects.filter(user__username=name, kind="task", read_at=None)]


# --- Tasks ----------------------------------------------------------------------------------


def test_a_task_is_sealed_and_read_back_by_an_assignee(cw: services.Workspace) -> None:
    case = _open(cw)
    task = tasks.add_task(cw, case, TITLE, details="seat by the aisle", due_on=DUE, today=DAY)

    [view] = tasks.tasks_of(cw, case.code, today=DAY)
    assert (view.number, view.title, view.details) == (task.pk, TITLE, "seat by the aisle")
    assert (view.due_on, view.owner, view.overdue, view.escalated) == (DUE, "admin", False, "")
    assert tasks.tasks_of(cw, case, today=DUE + timedelta(days=1))[0].overdue
    assert TITLE not in repr(view)
    assert ("casework.task_add", "case", case.code) in _audit_actions()


def test_a_task_is_owned_by_an_assignee_only(
    cw: services.Workspace, rita: services.Workspace, olga: services.Workspace
) -> None:
    case = _open(cw)
    cases.assign(cw, case, rita.user)

    assert tasks.add_task(cw, case, TITLE, due_on=DUE, owner="rita", today=DAY).owner == rita.user
    with pytest.raises(BadInput, match="'olga' is not assigned"):
        tasks.add_task(cw, case, TITLE, due_on=DUE, owner=olga.user, today=DAY)
    assert Task.objects.count() == 1


@pytest.mark.parametrize(
    ("title", "due_on", "message"),
    [
        ("", DUE, "title: required"),
        ("   ", DUE, "title: required"),
        ("x" * 201, DUE, "longer than 200"),
        (TITLE, DAY - timedelta(days=1), "already past"),
    ],
)
def test_bad_tasks_are_refused_with_nothing_written(
    cw: services.Workspace, title: str, due_on: date, message: str
) -> None:
    case = _open(cw)
    with pytest.raises(BadInput, match=message):
        tasks.add_task(cw, case, title, due_on=due_on, today=DAY)
    assert Task.objects.count() == 0


def test_completing_a_task_records_who_and_when_once(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw)
    cases.assign(cw, case, rita.user)
    task = tasks.add_task(cw, case, TITLE, due_on=DUE, today=DAY)

    tasks.complete_task(rita, case, task.pk, today=DUE)
    [view] = tasks.tasks_of(cw, case, today=DUE + timedelta(days=9))
    assert (view.done_on, view.done_by, view.overdue) == (DUE, "rita", False)
    with pytest.raises(Conflict, match="done already"):
        tasks.complete_task(cw, case, task.pk)
    with pytest.raises(NotFound, match="no task"):
        tasks.complete_task(cw, case, task.pk + 100)


def test_an_unassigned_caseworker_gets_the_same_not_found_as_for_a_missing_case(
    cw: services.Workspace, olga: services.Workspace
) -> None:
    case = _open(cw)
    task = tasks.add_task(cw, case, TITLE, due_on=DUE, today=DAY)
    tasks.add_note(cw, case, NOTE)

    with pytest.raises(NotFound) as missing:
        tasks.notes_of(olga, "C-0999")
    calls = [
        lambda: tasks.tasks_of(olga, case),
        lambda: tasks.notes_of(olga, case),
        lambda: tasks.documents_of(olga, case),
        lambda: tasks.add_note(olga, case, "a note"),
        lambda: tasks.add_task(olga, case, TITLE, due_on=DUE, today=DAY),
        lambda: tasks.complete_task(olga, case, task.pk),
        lambda: tasks.attach_document(olga, case, "0123456789ab"),
        lambda: tasks.detach_document(olga, case, 1),
    ]
    for call in calls:
        with pytest.raises(NotFound) as refused:
            call()
        assert refused.value.message == missing.value.message.replace("C-0999", case.code)
    assert Task.objects.get().done_on is None
    assert CaseNote.objects.count() == 1


def test_my_tasks_are_the_actors_open_tasks_on_cases_still_theirs(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    first, second, left = _open(cw), _open(cw), _open(cw)
    for case in (first, second, left):
        cases.assign(cw, case, rita.user)
    later = tasks.add_task(
        cw, first, "later", due_on=DUE + timedelta(days=3), owner="rita", today=DAY
    )
    sooner = tasks.add_task(cw, second, "sooner", due_on=DUE, owner="rita", today=DAY)
    tasks.add_task(cw, second, "admin's", due_on=DUE, today=DAY)
    done = tasks.add_task(cw, first, "done", due_on=DUE, owner="rita", today=DAY)
    tasks.complete_task(rita, first, done.pk)
    tasks.add_task(cw, left, "gone", due_on=DUE, owner="rita", today=DAY)
    cases.unassign(cw, left, rita.user)

    mine = tasks.my_tasks(rita, today=DAY)
    assert [(code, v.number, v.title) for code, v in mine] == [
        (second.code, sooner.pk, "sooner"),
        (first.code, later.pk, "later"),
    ]


# --- Overdue escalation ---------------------------------------------------------------------


def _coordinated(cw: services.Workspace, rita: services.Workspace, risk: str) -> Case:
    """A case owned by admin with rita as its coordinator."""
    case = _open(cw, risk)
    cases.assign(cw, case, rita.user, role="coordinator")
    return case


def test_overdue_tasks_go_to_the_owner_first_then_the_coordinators_never_twice(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _coordinated(cw, rita, "high")  # coordinators after 240 minutes
    task = tasks.add_task(cw, case, TITLE, due_on=DUE, today=DAY)

    assert tasks.overdue_pass(OVERDUE - timedelta(seconds=2)) == []
    [first] = tasks.overdue_pass(OVERDUE)
    assert (first.case, first.task, first.step, first.users) == (
        case.code,
        task.pk,
        "owner",
        ["admin"],
    )
    assert _unread("admin") == [f"Task {task.pk} on {case.code} is overdue (due 2017-04-05)."]
    assert _unread("rita") == []

    assert tasks.overdue_pass(OVERDUE + timedelta(minutes=240)) == []
    [second] = tasks.overdue_pass(OVERDUE + timedelta(minutes=240, seconds=1))
    assert (second.step, second.users) == ("coordinators", ["rita"])
    assert _unread("rita") == [
        f"Task {task.pk} on {case.code}, owned by admin, is overdue (due 2017-04-05) "
        "and still open."
    ]

    assert tasks.overdue_pass(OVERDUE + timedelta(days=30)) == []
    assert len(_unread("admin")) == 1
    assert len(_unread("rita")) == 1
    actions = _audit_actions()
    assert actions.count(("casework.task_overdue", "case", case.code)) == 1
    assert actions.count(("casework.task_escalate", "case", case.code)) == 1
    assert TITLE not in "".join(_unread("admin") + _unread("rita"))


def test_the_coordinators_delay_is_weighted_by_the_cases_risk(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    critical = _coordinated(cw, rita, "critical")  # 60 minutes
    low = _coordinated(cw, rita, "low")  # 2880 minutes
    for case in (critical, low):
        tasks.add_task(cw, case, TITLE, due_on=DUE, today=DAY)
    assert {e.step for e in tasks.overdue_pass(OVERDUE)} == {"owner"}

    hours_later = tasks.overdue_pass(OVERDUE + timedelta(minutes=61))
    assert [(e.case, e.step) for e in hours_later] == [(critical.code, "coordinators")]
    assert tasks.overdue_pass(OVERDUE + timedelta(minutes=2880)) == []
    days_later = tasks.overdue_pass(OVERDUE + timedelta(minutes=2881))
    assert [(e.case, e.step) for e in days_later] == [(low.code, "coordinators")]


def test_a_raised_risk_shortens_the_wait_from_the_next_pass(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _coordinated(cw, rita, "low")
    tasks.add_task(cw, case, TITLE, due_on=DUE, today=DAY)
    tasks.overdue_pass(OVERDUE)
    Case.objects.filter(pk=case.pk).update(risk="critical")
    assert [e.step for e in tasks.overdue_pass(OVERDUE + timedelta(minutes=61))] == ["coordinators"]


def test_done_tasks_and_tasks_of_closed_cases_are_not_escalated(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _coordinated(cw, rita, "critical")
    done = tasks.add_task(cw, case, TITLE, due_on=DUE, today=DAY)
    tasks.complete_task(cw, case, done.pk, today=DUE)
    closed = _coordinated(cw, rita, "critical")
    tasks.add_task(cw, closed, TITLE, due_on=DUE, today=DAY)
    cases.move_stage(cw, closed, "rejected", today=DUE)
    on_time = tasks.add_task(cw, case, TITLE, due_on=DUE + timedelta(days=1), today=DAY)

    assert tasks.overdue_pass(OVERDUE + timedelta(days=1) - timedelta(seconds=2)) == []
    tasks.complete_task(cw, case, on_time.pk)
    assert tasks.overdue_pass(OVERDUE + timedelta(days=10)) == []
    assert Notice.objects.count() == 0


def test_an_owner_who_was_cut_off_is_skipped_for_the_coordinators_at_once(
    cw: services.Workspace, rita: services.Workspace, olga: services.Workspace
) -> None:
    case = _coordinated(cw, rita, "low")
    cases.assign(cw, case, olga.user)
    tasks.add_task(cw, case, TITLE, due_on=DUE, owner="olga", today=DAY)
    cases.cut_off(cw, olga.user)

    [escalated] = tasks.overdue_pass(OVERDUE)
    assert (escalated.step, escalated.users) == ("coordinators", ["rita"])
    assert _unread("olga") == []


def test_a_case_without_a_coordinator_escalates_to_the_organisations_admins(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw, "critical")
    cases.assign(cw, case, rita.user)
    tasks.add_task(cw, case, TITLE, due_on=DUE, owner=rita.user, today=DAY)

    assert [e.users for e in tasks.overdue_pass(OVERDUE)] == [["rita"]]
    [escalated] = tasks.overdue_pass(OVERDUE + timedelta(minutes=61))
    assert escalated.users == ["admin"]
    assert User.objects.get(username="admin").is_superuser


def test_the_pass_needs_no_key_and_refuses_a_naive_clock(cw: services.Workspace) -> None:
    case = _open(cw)
    tasks.add_task(cw, case, TITLE, due_on=DUE, today=DAY)
    with pytest.raises(ValueError, match="naive"):
        tasks.overdue_pass(OVERDUE.replace(tzinfo=None))
    # No workspace, no keyring: only plaintext columns are read.
    assert [e.step for e in tasks.overdue_pass(OVERDUE)] == ["owner"]


def test_a_due_day_ends_at_midnight_in_the_organisations_time_zone(
    cw: services.Workspace, settings: object
) -> None:
    settings.TIME_ZONE = "Europe/Moscow"  # type: ignore[attr-defined]
    case = _open(cw)
    tasks.add_task(cw, case, TITLE, due_on=DUE, today=DAY)
    assert tasks.overdue_pass(datetime(2017, 4, 5, 20, 59, 59, tzinfo=UTC)) == []
    assert [e.step for e in tasks.overdue_pass(datetime(2017, 4, 5, 21, 0, tzinfo=UTC))] == [
        "owner"
    ]


def test_the_rules_know_the_risk_levels_of_a_case() -> None:
    assert sorted(rules.RISKS) == sorted(Case.Risk.values)


# --- Notes ----------------------------------------------------------------------------------


def test_notes_are_sealed_and_read_back_in_order(
    cw: services.Workspace, rita: services.Workspace
) -> None:
    case = _open(cw)
    cases.assign(cw, case, rita.user)
    tasks.add_note(cw, case, NOTE, today=DAY)
    tasks.add_note(rita, case, "second", today=DUE)

    views = tasks.notes_of(cw, case)
    assert [(v.text, v.author, v.written_on) for v in views] == [
        (NOTE, "admin", DAY),
        ("second", "rita", DUE),
    ]
    assert NOTE not in repr(views)
    with pytest.raises(BadInput, match="note: required"):
        tasks.add_note(cw, case, " ")
    with pytest.raises(BadInput, match="longer than"):
        tasks.add_note(cw, case, "x" * 10_001)
    assert CaseNote.objects.count() == 2
    assert ("casework.note_view", "case", case.code) in _audit_actions()


# --- Documents from the vault ---------------------------------------------------------------


def _vault_item(tmp_path: Path, desk: str = "casework", name: str = "passport scan.txt") -> str:
    path = tmp_path / name
    path.write_text("Passport 96 05 123456 of Zelimkhan", encoding="utf-8")
    item, _sha = evidence.ingest(
        path, Desk.objects.get(name=desk), source="his sister", actor="admin"
    )
    return item.code


def test_a_vault_document_is_attached_listed_and_detached_without_copying_it(
    cw: services.Workspace, tmp_path: Path
) -> None:
    case = _open(cw)
    code = _vault_item(tmp_path)
    store = sorted((Path(evidence.settings.DATA.root) / "store" / "files").iterdir())

    tasks.attach_document(cw, case, code.upper(), label="his passport", today=DAY)
    [view] = tasks.documents_of(cw, case)
    assert (view.item, view.label, view.name, view.present) == (
        code,
        "his passport",
        "passport scan.txt",
        True,
    )
    assert view.size is not None
    assert view.attached_by == "admin"
    assert sorted((Path(evidence.settings.DATA.root) / "store" / "files").iterdir()) == store
    with pytest.raises(Conflict, match="attached to"):
        tasks.attach_document(cw, case, code)

    tasks.detach_document(cw, case, view.number)
    assert tasks.documents_of(cw, case) == []
    assert evidence.get(cw.desk, code).code == code  # the vault item stays
    with pytest.raises(NotFound):
        tasks.detach_document(cw, case, view.number)


def test_only_the_casework_desks_vault_items_can_be_attached(
    cw: services.Workspace, tmp_path: Path
) -> None:
    case = _open(cw)
    other = _vault_item(tmp_path, desk="documentation")
    for code in (other, "ffffffffffff", ""):
        with pytest.raises(NotFound, match="casework desk's vault"):
            tasks.attach_document(cw, case, code)
    assert CaseDocument.objects.count() == 0


def test_a_document_removed_from_the_vault_is_listed_as_missing(
    cw: services.Workspace, tmp_path: Path
) -> None:
    case = _open(cw)
    code = _vault_item(tmp_path)
    tasks.attach_document(cw, case, code)
    evidence.get(cw.desk, code).delete()

    [view] = tasks.documents_of(cw, case)
    assert (view.item, view.present, view.name, view.size) == (code, False, "", None)


def test_the_link_to_a_vault_item_is_sealed_and_not_in_the_custody_log(
    cw: services.Workspace, tmp_path: Path
) -> None:
    case = _open(cw)
    code = _vault_item(tmp_path)
    tasks.attach_document(cw, case, code, label="the label Zelimkhan-7")
    row = CaseDocument.objects.get()

    assert code.encode() not in bytes(row.details)
    bodies = [e["body"] for e in evidence.custody().entries(item=code)]
    assert [b["event"] for b in bodies] == ["ingested"]
    assert case.code not in str(bodies)
    audit = [a for a in _audit_actions() if a[0] == "casework.document_attach"]
    assert audit == [("casework.document_attach", "case", case.code)]


# --- A seized database ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_seized_database_holds_no_task_note_or_document_text(
    data_dir: object, tmp_path: Path
) -> None:
    org = factories.make_org()
    user, keyring = desk_services.unlock("admin", factories.ADMIN_PASSPHRASE)
    cw = services.workspace(user, keyring)
    rita = _caseworker(org, "rita")
    case = _coordinated(cw, rita, "critical")
    tasks.add_task(cw, case, TITLE, details="Platform 3, carriage 12", due_on=DUE, today=DAY)
    tasks.add_note(cw, case, NOTE)
    tasks.attach_document(cw, case, _vault_item(tmp_path), label="DOC-LABEL-MARK")
    tasks.overdue_pass(OVERDUE)
    tasks.overdue_pass(OVERDUE + timedelta(hours=2))
    assert [v.title for v in tasks.tasks_of(cw, case)] == [TITLE]
    assert [v.text for v in tasks.notes_of(rita, case)] == [NOTE]
    assert [v.label for v in tasks.documents_of(rita, case)] == ["DOC-LABEL-MARK"]

    seized = seized_bytes()
    assert case.code.encode() in seized  # the audit log and the notices were read
    secrets = [
        TITLE,
        "Platform 3, carriage 12",
        NOTE,
        "Zelimkhan",
        "Synthaev-Baysarov",
        "DOC-LABEL-MARK",
        "passport scan",
        "96 05 123456",
    ]
    found = [s for s in secrets for form in written_forms(s) if form in seized]
    assert found == []
