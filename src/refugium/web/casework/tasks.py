"""A case's tasks, notes and documents from the vault (issue 9: "Tasks with deadlines and
overdue escalation; encrypted notes; documents from the vault").

What is sealed and what is not, and why:

- **Tasks**: title and details are sealed under the case key (``column details``): "buy the
  ticket to Moscow for the 4th" is a route and a day. The due day, the owner (an account),
  the done day and the escalation step are plaintext, because the overdue pass runs from a
  timer (``refugium checkins run``) with no key unlocked and must find overdue tasks and
  whom to tell without opening any case.
- **Notes**: the text is sealed; the author (an account) and the day are plaintext.
- **Documents**: a case's own document (``documents.add_case_document``) is encrypted to
  the case key and opens only for its assignees; see ``documents`` for what that holds.
  A document can also be an item of the evidence vault on the casework desk, stored
  once, encrypted to the desk (``refugium evidence add --desk casework``). Attaching it
  records only which item, sealed under the case key with the caseworker's label: the item's
  code is in the vault's custody log and in export bundles for courts, and a plaintext link
  would tie that exhibit to the case. For the same reason attaching writes nothing to the
  custody log (an ``attached`` entry next to the audit's ``casework.document_attach`` would
  tie them by time); nothing here reads the file's content. Viewing the file is the vault's
  business, which records it in the custody log. Only the desk's own items attach (a
  case's own document of another case is "not found", as a missing one).

Overdue escalation is pushed, not only shown (Primero only shows overdue tasks on
dashboards): ``overdue_pass`` notifies a task's owner the first time it finds it overdue,
then, if it is still open after a delay weighted by the case's risk
(``refugium.casework.tasks``, ``data/tasks.toml``), the case's coordinators. Each step is
stored on the task, so a step is never sent twice. An owner who is no longer on the case
(cut off, unassigned) or whose account is disabled cannot act: the coordinators are told at
once instead. A case with no coordinator assigned escalates to the organisation's admins,
so that an escalation never falls into nobody's hands.

Every function that shows or changes a case goes through ``cases._keys``: an actor not
assigned to the case gets the same ``NotFound`` as for a case that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from refugium.casework import tasks as rules
from refugium.casework.stages import OPEN
from refugium.crypto import Identity
from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.casework import cases, documents, notices
from refugium.web.casework.models import Assignment, Case, CaseDocument, CaseNote, Task
from refugium.web.casework.services import Workspace
from refugium.web.core.auditing import record as audit
from refugium.web.evidence.models import Item
from refugium.web.evidence.services import open_meta

MAX_TITLE = 200
MAX_DETAILS = 10_000
MAX_NOTE = 10_000
MAX_LABEL = 200
STEP_NAMES = {rules.OWNER: "owner", rules.COORDINATORS: "coordinators"}


def _case(ws: Workspace, case: Case | str) -> Case:
    """The case by its code, or the given case fresh from the database.

    Raises:
        NotFound: no such case on this desk.
    """
    if isinstance(case, str):
        return cases.get_case(ws, case)
    return Case.objects.get(pk=case.pk)


def _required(value: str, label: str, limit: int) -> str:
    text = cases._text(value, label, limit)
    if not text:
        raise BadInput(f"{label}: required")
    return text


def _assignee(case: Case, user: User | str) -> User:
    """Raises:
    BadInput: ``user`` is not assigned to the case (an assignee names assignees only, so
        this says nothing the actor could not read).
    """
    name = user if isinstance(user, str) else user.username
    found = (
        Assignment.objects.filter(case=case, user__username=name, user__is_active=True)
        .select_related("user")
        .first()
    )
    if found is None:
        raise BadInput(f"{name!r} is not assigned to {case.code}; a task's owner must be")
    return found.user


# --- Tasks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskView:
    """A task as an assignee reads it, decrypted in memory."""

    number: int
    title: str = field(repr=False)
    details: str = field(repr=False)
    due_on: date
    owner: str = ""
    done_on: date | None = None
    done_by: str | None = None
    overdue: bool = False
    # The last escalation step sent: "", "owner" or "coordinators".
    escalated: str = ""


@sensitive_variables("title", "details", "keys")
@transaction.atomic
def add_task(
    ws: Workspace,
    case: Case | str,
    title: str,
    *,
    due_on: date,
    details: str = "",
    owner: User | str | None = None,
    actor: str | None = None,
    today: date | None = None,
) -> Task:
    """Adds a task due on ``due_on`` owned by ``owner`` (an assignee of the case; the actor
    when None), its title and details sealed under the case key. Audited:
    ``casework.task_add``.

    Raises:
        NotFound: the actor is not assigned to the case (or it does not exist).
        BadInput: no title, text too long, a due day in the past, an owner not assigned.
    """
    case = _case(ws, case)
    keys = cases._keys(ws, case)
    day = today or timezone.localdate()
    if not isinstance(due_on, date) or isinstance(due_on, datetime):
        raise BadInput("a task's due day is a date")
    if due_on < day:
        raise BadInput(f"a task cannot be due on a day already past ({due_on.isoformat()})")
    task = Task(
        case=case,
        due_on=due_on,
        owner=_assignee(case, owner if owner is not None else ws.user),
        created_on=day,
        created_by=ws.user,
    )
    task.details = cases._seal(
        keys,
        task,
        "details",
        {
            "title": _required(title, "title", MAX_TITLE),
            "details": cases._text(details, "details", MAX_DETAILS),
        },
    )
    task.save()
    audit(actor or ws.actor, "casework.task_add", "case", case.code)
    return task


@transaction.atomic
def complete_task(
    ws: Workspace,
    case: Case | str,
    number: int,
    *,
    actor: str | None = None,
    today: date | None = None,
) -> Task:
    """Marks the case's task done (by any assignee); a done task is never escalated again.
    Audited: ``casework.task_done``.

    Raises:
        NotFound: the actor is not assigned to the case, or it has no task ``number``.
        Conflict: the task is done already.
    """
    case = _case(ws, case)
    cases._held(ws, case)
    task = Task.objects.select_for_update().filter(case=case, pk=number).first()
    if task is None:
        raise NotFound(f"{case.code} has no task {number}")
    if task.done_on is not None:
        raise Conflict(f"task {number} on {case.code} is done already")
    task.done_on = today or timezone.localdate()
    task.done_by = ws.user
    task.save(update_fields=["done_on", "done_by"])
    audit(actor or ws.actor, "casework.task_done", "case", case.code)
    return task


@sensitive_variables("keys", "sealed")
def tasks_of(ws: Workspace, case: Case | str, *, today: date | None = None) -> list[TaskView]:
    """The case's tasks, open ones first by due day, then done ones. Audited:
    ``casework.task_view``.

    Raises:
        NotFound: the actor is not assigned to the case (or it does not exist).
        DecryptionFailed: damage.
    """
    case = _case(ws, case)
    keys = cases._keys(ws, case)
    day = today or timezone.localdate()
    views = []
    for task in case.tasks.select_related("owner", "done_by"):
        sealed = cases._open(keys, task, "details")
        views.append(
            TaskView(
                number=task.pk,
                title=str(sealed["title"]),
                details=str(sealed.get("details") or ""),
                due_on=task.due_on,
                owner=task.owner.username,
                done_on=task.done_on,
                done_by=task.done_by.username if task.done_by else None,
                overdue=task.done_on is None and rules.overdue(task.due_on, day),
                escalated=STEP_NAMES.get(task.escalation, ""),
            )
        )
    audit(ws.actor, "casework.task_view", "case", case.code)
    return sorted(views, key=lambda v: (v.done_on is not None, v.due_on, v.number))


def my_tasks(ws: Workspace, *, today: date | None = None) -> list[tuple[str, TaskView]]:
    """The actor's open tasks across the cases they are still assigned to, as ``(case
    code, task)``, soonest due first: the caseworker's list for the day. Audited:
    ``casework.task_view`` per case read.

    Raises:
        DecryptionFailed: damage.
    """
    if ws.user is None:
        return []
    mine = (
        Task.objects.filter(owner=ws.user, done_on=None, case__desk=ws.desk)
        .values_list("case_id", flat=True)
        .distinct()
    )
    found: list[tuple[str, TaskView]] = []
    for case in Case.objects.filter(pk__in=list(mine)).order_by("pk"):
        try:
            views = tasks_of(ws, case, today=today)
        except NotFound:
            continue  # taken off the case: its tasks are no longer theirs to read
        found.extend(
            (case.code, view) for view in views if view.owner == ws.actor and view.done_on is None
        )
    return sorted(found, key=lambda pair: (pair[1].due_on, pair[0], pair[1].number))


@dataclass(frozen=True)
class Escalated:
    """One step the overdue pass took: the case, the task, the step and who was told."""

    case: str
    task: int
    step: str
    users: list[str]


def _reachable(task: Task) -> bool:
    """Whether the owner can still act on the task: active and assigned to its case."""
    return (
        bool(task.owner.is_active)
        and Assignment.objects.filter(case_id=task.case_id, user_id=task.owner_id).exists()
    )


def _coordinators(task: Task) -> list[User]:
    """The case's active coordinators other than the owner; failing them, the
    organisation's active admins (so that an escalation always reaches someone)."""
    found = [
        a.user
        for a in Assignment.objects.filter(
            case_id=task.case_id, role=Assignment.Role.COORDINATOR, user__is_active=True
        )
        .exclude(user_id=task.owner_id)
        .select_related("user")
        .order_by("user__username")
    ]
    if found:
        return found
    return list(
        User.objects.filter(is_superuser=True, is_active=True)
        .exclude(pk=task.owner_id)
        .order_by("username")
    )


@transaction.atomic
def overdue_pass(
    now: datetime | None = None,
    *,
    actor: str = "system",
    delays: rules.Delays | None = None,
) -> list[Escalated]:
    """Escalates every open, overdue task of an open case one step where one is due: the
    owner when it becomes overdue, the case's coordinators after the case's risk's delay.
    Needs no key: it reads only plaintext columns. Each step is stored on the task and
    audited (``casework.task_overdue`` for the owner, ``casework.task_escalate`` for the
    coordinators, with the case's code), and never sent twice.

    Raises:
        ValueError: a naive ``now``.
        BadInput: the delays file is broken (nothing is sent).
    """
    at = now or timezone.now()
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("now must be timezone-aware, not naive")
    today = timezone.localdate(at)
    chosen = delays or rules.load_delays()
    found: list[Escalated] = []
    candidates = (
        Task.objects.select_for_update(of=("self",))
        .filter(
            done_on=None,
            due_on__lt=today,
            escalation__lt=rules.COORDINATORS,
            case__stage__in=OPEN,
        )
        .select_related("case", "owner")
        .order_by("pk")
    )
    for task in candidates:
        step = rules.next_step(
            due_on=task.due_on,
            today=today,
            now=at,
            step=task.escalation,
            owner_notified_at=task.owner_notified_at,
            risk=task.case.risk,
            delays=chosen,
        )
        if step is not None:
            found.append(_escalate(task, step, at, actor))
    return found


def _escalate(task: Task, step: int, at: datetime, actor: str) -> Escalated:
    case = task.case
    due = task.due_on.isoformat()
    if step == rules.OWNER and _reachable(task):
        users = [task.owner]
        text = f"Task {task.pk} on {case.code} is overdue (due {due})."
        task.owner_notified_at = at
        action = "casework.task_overdue"
    else:
        step = rules.COORDINATORS
        users = _coordinators(task)
        text = (
            f"Task {task.pk} on {case.code}, owned by {task.owner.username}, is overdue "
            f"(due {due}) and still open."
        )
        task.coordinators_notified_at = at
        action = "casework.task_escalate"
    notices.notify(users, "task", text, case=case, now=at)
    task.escalation = step
    task.save(update_fields=["escalation", "owner_notified_at", "coordinators_notified_at"])
    audit(actor, action, "case", case.code)
    return Escalated(
        case=case.code, task=task.pk, step=STEP_NAMES[step], users=[u.username for u in users]
    )


# --- Notes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteView:
    number: int
    text: str = field(repr=False)
    written_on: date
    author: str = ""


@sensitive_variables("text", "keys")
@transaction.atomic
def add_note(
    ws: Workspace,
    case: Case | str,
    text: str,
    *,
    actor: str | None = None,
    today: date | None = None,
) -> CaseNote:
    """Adds a note to the case, sealed under the case key. Audited: ``casework.note_add``.

    Raises:
        NotFound: the actor is not assigned to the case (or it does not exist).
        BadInput: an empty note, or one longer than ``MAX_NOTE`` characters.
    """
    case = _case(ws, case)
    keys = cases._keys(ws, case)
    note = CaseNote(case=case, written_on=today or timezone.localdate(), author=ws.user)
    note.details = cases._seal(keys, note, "details", {"text": _required(text, "note", MAX_NOTE)})
    note.save()
    audit(actor or ws.actor, "casework.note_add", "case", case.code)
    return note


@sensitive_variables("keys")
def notes_of(ws: Workspace, case: Case | str) -> list[NoteView]:
    """The case's notes, oldest first. Audited: ``casework.note_view``.

    Raises:
        NotFound: the actor is not assigned to the case (or it does not exist).
        DecryptionFailed: damage.
    """
    case = _case(ws, case)
    keys = cases._keys(ws, case)
    views = [
        NoteView(
            number=note.pk,
            text=str(cases._open(keys, note, "details")["text"]),
            written_on=note.written_on,
            author=note.author.username if note.author else "",
        )
        for note in case.case_notes.select_related("author").order_by("pk")
    ]
    audit(ws.actor, "casework.note_view", "case", case.code)
    return views


# --- Documents from the vault ---------------------------------------------------------------


@dataclass(frozen=True)
class DocumentView:
    """A document attached to a case: the vault item's code, the caseworker's label, and
    what the vault says of it (its name and type from its sealed description, its size).
    ``present`` is False when the item is no longer in the vault."""

    number: int
    item: str = field(repr=False)
    # The caseworker's label, or a case's own document's note.
    label: str = field(repr=False)
    attached_on: date
    attached_by: str = ""
    present: bool = True
    name: str = field(default="", repr=False)
    media_type: str = ""
    size: int | None = None
    # True for a case's own document (encrypted to the case key, ``documents``); False for
    # a desk item linked to the case.
    case_keyed: bool = False


def _desk_identities(ws: Workspace) -> list[Identity]:
    """The casework desk's identities the workspace holds: the vault encrypts an item's
    description to its desk."""
    return [key.identity for key in ws.keys]


def _vault_item(ws: Workspace, code: str) -> Item:
    """The casework desk's vault item ``code``.

    Raises:
        NotFound: no such item on the casework desk (one on another desk is not found
            either: its key is not the casework desk's).
    """
    text = code.strip().lower() if isinstance(code, str) else ""
    found = Item.objects.filter(desk=ws.desk, code=text, case_keyed=False) if text else None
    item = found.first() if found is not None else None
    if item is None:
        raise NotFound(f"no document {text[:20]!r} in the casework desk's vault")
    return item


@sensitive_variables("keys", "label")
@transaction.atomic
def attach_document(
    ws: Workspace,
    case: Case | str,
    item: str,
    *,
    label: str = "",
    actor: str | None = None,
    today: date | None = None,
) -> CaseDocument:
    """Attaches the casework desk's vault item ``item`` (its code, as ``refugium evidence
    list --desk casework`` prints it) to the case. Only which item, and the label, are
    recorded, sealed under the case key; the file is not read or copied. Audited:
    ``casework.document_attach`` (the case's code; never the item's).

    Raises:
        NotFound: the actor is not assigned to the case, or no such item on the desk.
        Conflict: the item is attached to this case already.
        BadInput: a label longer than ``MAX_LABEL`` characters.
    """
    case = _case(ws, case)
    keys = cases._keys(ws, case)
    found = _vault_item(ws, item)
    for row in case.documents.all():
        if cases._open(keys, row, "details").get("item") == found.code:
            raise Conflict(f"that document is attached to {case.code} already")
    document = CaseDocument(
        case=case, attached_on=today or timezone.localdate(), attached_by=ws.user
    )
    document.details = cases._seal(
        keys,
        document,
        "details",
        {"item": found.code, "label": cases._text(label, "label", MAX_LABEL)},
    )
    document.save()
    audit(actor or ws.actor, "casework.document_attach", "case", case.code)
    return document


@sensitive_variables("keys", "sealed")
@transaction.atomic
def detach_document(
    ws: Workspace, case: Case | str, number: int, *, actor: str | None = None
) -> None:
    """Takes a document off the case. A desk item stays in the vault; a case's own document
    is deleted from it and its file shredded (only the case opened it:
    ``documents.delete_case_item``). Audited: ``casework.document_detach``.

    Raises:
        NotFound: the actor is not assigned to the case, or it has no document ``number``.
    """
    case = _case(ws, case)
    keys = cases._keys(ws, case)
    row = CaseDocument.objects.filter(case=case, pk=number).first()
    if row is None:
        raise NotFound(f"{case.code} has no document {number}")
    sealed = cases._open(keys, row, "details")
    who = actor or ws.actor
    row.delete()
    if sealed.get("kind") == documents.KIND:
        documents.delete_case_item(ws, case, sealed, actor=who)
    audit(who, "casework.document_detach", "case", case.code)


@sensitive_variables("keys", "sealed", "identities")
def documents_of(ws: Workspace, case: Case | str) -> list[DocumentView]:
    """The case's documents, with each vault item's name and type read from its sealed
    description (with the casework desk's keys; the file itself is not read). Audited:
    ``casework.document_view``.

    Raises:
        NotFound: the actor is not assigned to the case (or it does not exist).
        DecryptionFailed: damage.
    """
    case = _case(ws, case)
    keys = cases._keys(ws, case)
    identities = _desk_identities(ws)
    views = []
    for row in case.documents.select_related("attached_by").order_by("pk"):
        sealed = cases._open(keys, row, "details")
        code = str(sealed["item"])
        if sealed.get("kind") == documents.KIND:
            views.append(_own_document(ws, row, sealed))
            continue
        found = Item.objects.filter(desk=ws.desk, code=code, case_keyed=False).first()
        meta = open_meta(found, identities) if found is not None else None
        views.append(
            DocumentView(
                number=row.pk,
                item=code,
                label=str(sealed.get("label") or ""),
                attached_on=row.attached_on,
                attached_by=row.attached_by.username if row.attached_by else "",
                present=found is not None,
                name=meta.name if meta else "",
                media_type=meta.media_type if meta else "",
                size=found.size if found is not None else None,
            )
        )
    audit(ws.actor, "casework.document_view", "case", case.code)
    return views


def _own_document(ws: Workspace, row: CaseDocument, sealed: dict[str, object]) -> DocumentView:
    """A case's own document as listed: its description is in its sealed details."""
    code = str(sealed["item"])
    found = Item.objects.filter(desk=ws.desk, code=code, case_keyed=True).first()
    return DocumentView(
        number=row.pk,
        item=code,
        label=str(sealed.get("note") or ""),
        attached_on=row.attached_on,
        attached_by=row.attached_by.username if row.attached_by else "",
        present=found is not None,
        name=str(sealed.get("name") or ""),
        media_type=str(sealed.get("media_type") or ""),
        size=found.size if found is not None else None,
        case_keyed=True,
    )
