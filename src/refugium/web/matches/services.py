"""Finding possible duplicate Persons, and confirming or rejecting them.

``find_candidates`` is the one place the documentation database is linked against itself:
it opens every Person's sealed identity in memory (one audit entry for the whole read,
written before the first is opened), hands the names, birth dates, places and sex to
``refugium.linkage`` (pandas and an in-memory DuckDB that never spills to disk) and keeps
only codes and probabilities. Nothing decrypted is written anywhere.

``confirm`` merges without losing anything: the lower-numbered Person is kept, every link
to the other is re-pointed to it (each re-pointed record gets a revision, as an edit would),
and the other Person's row, sealed identity, name index and revisions stay, marked as merged
by the confirmed match, so every source's version of the person can still be read. The match
lists the link rows it moved. Each decision is one transaction with its audit entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from refugium.errors import BadInput, Conflict, NotFound, RefugiumError
from refugium.linkage.model import DEFAULT_THRESHOLD
from refugium.web.core.auditing import record as audit
from refugium.web.matches.models import PersonMatch
from refugium.web.records import services as records
from refugium.web.records.models import NameKey, Person, Record, Relationship, Revision

LOW = 0.05
"""Pairs the model scores below this are not worth a researcher's time."""


class LinkageFailed(RefugiumError):
    """The linkage model could not be trained or run on the desk's persons."""

    code = "linkage_failed"


@dataclass(frozen=True)
class Found:
    """What a search for duplicates did, in counts (no names)."""

    persons: int
    proposed: int
    new: int


# --- Who is merged --------------------------------------------------------------------------


def merged_into(person: Person) -> Person | None:
    """The Person ``person`` was merged into by a confirmed match, if any."""
    match = (
        PersonMatch.objects.filter(merged=person, status=PersonMatch.Status.CONFIRMED)
        .select_related("kept")
        .first()
    )
    return match.kept if match else None


def _merged_ids(ws: records.Workspace) -> set[int]:
    confirmed = PersonMatch.objects.filter(desk=ws.desk, status=PersonMatch.Status.CONFIRMED)
    return set(confirmed.values_list("merged_id", flat=True))


# --- Finding candidates ---------------------------------------------------------------------


def birth_date_text(value: Any) -> str:
    """A sealed fuzzy birth date as the linkage contract wants it: ``YYYY-MM-DD`` for a day,
    ``YYYY-MM`` when the date lies within one month, ``YYYY`` within one year, else blank
    (a range across years says too little to compare, and a wrong year would split a pair)."""
    when = records.when_of({"d": value}, "d")
    if when is None or when.earliest is None or when.latest is None:
        return ""
    first, last = when.earliest, when.latest
    if first == last:
        return first.isoformat()
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.year:04d}-{first.month:02d}"
    if first.year == last.year:
        return f"{first.year:04d}"
    return ""


@sensitive_variables()
def linkage_row(values: dict[str, Any]) -> dict[str, str]:
    """A Person's opened identity as a row of ``refugium.linkage.prepare``'s contract."""
    sex = values.get("sex") or ""
    return {
        "full_name": values.get("full_name") or "",
        "given_name": values.get("given_name") or "",
        "patronymic": values.get("patronymic") or "",
        "family_name": values.get("family_name") or "",
        "birth_date": birth_date_text(values.get("birth_date")),
        "place": values.get("birth_place") or values.get("home_place") or "",
        "gender": sex if sex in ("male", "female") else "",
    }


@sensitive_variables()
def find_candidates(
    ws: records.Workspace,
    threshold: float = DEFAULT_THRESHOLD,
    low: float = LOW,
    progress: Callable[[str], None] | None = None,
) -> Found:
    """Score every pair of the desk's Persons that the model compares and store those with a
    probability of at least ``low`` as open matches. Persons already merged take no part;
    decided pairs (confirmed or rejected) are never proposed again; open pairs are updated,
    and open pairs the model no longer proposes are withdrawn.

    Opening every identity is one audited read (``records.find_duplicates``), written before
    the first is opened. The plaintext exists only in this call's memory.

    Raises:
        BadInput: ``threshold`` or ``low`` is not a probability.
        LinkageFailed: fewer than two Persons, or the model could not be trained on them
            (Splink needs enough records that differ; a few dozen may not be enough).
        DecryptionFailed: a Person's identity does not open with the desk's keys.
    """
    from refugium.linkage.model import link
    from refugium.linkage.prepare import BadDate, prepare

    if not 0.0 < threshold < 1.0 or not 0.0 <= low < 1.0:
        raise BadInput("threshold and lowest probability: numbers between 0 and 1")
    merged = _merged_ids(ws)
    persons = [p for p in Person.objects.filter(desk=ws.desk).order_by("id") if p.pk not in merged]
    if len(persons) < 2:
        raise LinkageFailed("finding duplicates needs at least two persons who are not merged")
    audit(ws.actor, "records.find_duplicates", "person", f"all:{len(persons)}")
    rows = [linkage_row(ws.sealer.open(person, "identity")) for person in persons]
    try:
        keys = prepare(rows)
        del rows
        linkage = link(keys, threshold=threshold, progress=progress)
    except (ValueError, BadDate) as error:
        # The linkage library's messages name no value; Splink's may quote data: not shown.
        raise LinkageFailed(
            f"the linkage model could not be run on {len(persons)} persons "
            f"({type(error).__name__}); with a few dozen persons Splink often cannot train"
        ) from None
    except Exception as error:  # Splink and DuckDB raise many kinds
        raise LinkageFailed(
            f"the linkage model could not be trained on {len(persons)} persons "
            f"({type(error).__name__}); it needs more persons, or more that differ"
        ) from None
    scores: dict[tuple[int, int], float] = {}
    table = linkage.pairs[["unique_id_l", "unique_id_r", "match_probability"]]
    for left, right, probability in table.itertuples(index=False, name=None):
        if probability < low:
            continue
        first, second = sorted((persons[int(left)].pk, persons[int(right)].pk))
        if first != second:
            scores[(first, second)] = max(float(probability), scores.get((first, second), 0.0))
    return _store(ws, scores, len(persons))


def _store(ws: records.Workspace, scores: dict[tuple[int, int], float], persons: int) -> Found:
    existing = {(m.person_a_id, m.person_b_id): m for m in PersonMatch.objects.filter(desk=ws.desk)}
    today = timezone.localdate()
    new, changed, proposed = [], [], 0
    for pair, probability in scores.items():
        match = existing.get(pair)
        if match is None:
            new.append(
                PersonMatch(
                    desk=ws.desk,
                    person_a_id=pair[0],
                    person_b_id=pair[1],
                    probability=probability,
                    created_on=today,
                )
            )
        elif match.status == PersonMatch.Status.OPEN:
            match.probability = probability
            changed.append(match)
        else:
            continue
        proposed += 1
    stale = [
        m.pk
        for pair, m in existing.items()
        if m.status == PersonMatch.Status.OPEN and pair not in scores
    ]
    with transaction.atomic():
        PersonMatch.objects.bulk_create(new, batch_size=500)
        PersonMatch.objects.bulk_update(changed, ["probability"], batch_size=500)
        PersonMatch.objects.filter(pk__in=stale).delete()
    return Found(persons=persons, proposed=proposed, new=len(new))


# --- Deciding -------------------------------------------------------------------------------


def get_match(ws: records.Workspace, number: int) -> PersonMatch:
    """Raises:
    NotFound: no such match on the workspace's desk.
    """
    match = (
        PersonMatch.objects.filter(desk=ws.desk, pk=number)
        .select_related("person_a", "person_b", "kept", "merged")
        .first()
    )
    if match is None:
        raise NotFound(f"no possible duplicate number {number}")
    return match


def _pair_id(match: PersonMatch) -> str:
    return f"{match.person_a.code}:{match.person_b.code}"


def _check_open(ws: records.Workspace, match: PersonMatch) -> None:
    if match.desk_id != ws.desk.pk:
        raise NotFound("no such possible duplicate on this desk")
    if match.status != PersonMatch.Status.OPEN:
        raise Conflict(f"{_pair_id(match)} was already decided ({match.status})")


def _decide(ws: records.Workspace, match: PersonMatch, status: str) -> None:
    match.status = status
    match.decided_by = get_user_model().objects.filter(username=ws.actor).first()
    match.decided_on = timezone.localdate()


def reject(ws: records.Workspace, match: PersonMatch) -> PersonMatch:
    """Record that the two Persons are different people: the pair is never proposed again.

    Raises:
        NotFound: the match is on another desk.
        Conflict: it was already decided.
    """
    _check_open(ws, match)
    with transaction.atomic():
        _decide(ws, match, PersonMatch.Status.REJECTED)
        match.save()
        audit(ws.actor, "records.not_duplicate", "person", _pair_id(match))
    return match


def confirm(ws: records.Workspace, match: PersonMatch) -> PersonMatch:
    """Merge the pair: keep the lower-numbered Person and re-point every link to the other
    one to it. The other Person is kept too, marked merged by this match, with its sealed
    identity and revisions, so no source's record of the person is lost.

    Raises:
        NotFound: the match is on another desk.
        Conflict: already decided; a Person of the pair was already merged into another;
            or the two are linked by a Relationship (a person related to themselves).
        BadInput: both sides are the same Person.
    """
    _check_open(ws, match)
    kept, merged = sorted((match.person_a, match.person_b), key=lambda p: p.pk)
    if kept.pk == merged.pk:
        raise BadInput("a person cannot be a duplicate of itself")
    for person in (kept, merged):
        target = merged_into(person)
        if target is not None:
            raise Conflict(
                f"{person.code} was already merged into {target.code}: "
                "review the pair with that person instead"
            )
    between = Relationship.objects.filter(
        Q(person=kept, other=merged) | Q(person=merged, other=kept)
    ).first()
    if between is not None:
        raise Conflict(
            f"{kept.code} and {merged.code} are linked by relationship {between.code}: "
            "a person cannot be related to themselves; resolve that record first"
        )
    with transaction.atomic():
        moved = _move_links(ws, merged, kept)
        _decide(ws, match, PersonMatch.Status.CONFIRMED)
        match.kept, match.merged, match.moved = kept, merged, json.dumps(moved)
        match.save()
        _note_merge(ws, merged, kept)
        # Proposals about the merged Person are void; the next search pairs the kept one.
        PersonMatch.objects.filter(status=PersonMatch.Status.OPEN).filter(
            Q(person_a=merged) | Q(person_b=merged)
        ).exclude(pk=match.pk).delete()
        # Inside the transaction: a decision the audit log cannot hold does not happen.
        audit(ws.actor, "records.merge", "person", f"{merged.code}:{kept.code}")
    return match


def _person_links() -> list[Any]:
    """Every foreign key to Person, hidden ones too: ``_meta.related_objects`` leaves out
    those declared with ``related_name="+"`` (an intervention's party, a relationship's
    other person), which a merge must move as well."""
    return [
        relation
        for relation in Person._meta.get_fields(include_hidden=True)
        if relation.auto_created
        and not relation.concrete
        and (relation.one_to_many or relation.one_to_one)
        # The merged Person's own name index stays with its identity; matches are ours.
        and relation.related_model not in (NameKey, PersonMatch)
    ]


def _move_links(ws: records.Workspace, merged: Person, kept: Person) -> dict[str, list[int]]:
    """Re-point every link to ``merged`` to ``kept``; returns the ids moved, by column."""
    moved: dict[str, list[int]] = {}
    for relation in _person_links():
        model, column = relation.related_model, relation.field
        rows = model.objects.filter(**{column.name: merged}).order_by("pk")
        if issubclass(model, Record) and column.name in model.PUBLIC:
            ids = []
            for row in rows:
                # Through the records service: the change is checked and gets a revision.
                records.save(ws, row, public={column.name: kept})
                ids.append(row.pk)
        else:
            ids = list(rows.values_list("pk", flat=True))
            model.objects.filter(pk__in=ids).update(**{column.name: kept})
        if ids:
            moved[f"{model._meta.label}.{column.name}"] = ids
    moved.update(_move_evidence(merged, kept))
    return moved


def _move_evidence(merged: Person, kept: Person) -> dict[str, list[int]]:
    """Evidence is linked by kind and number, not a foreign key. An item already linked to
    the kept Person keeps its link to the merged one too (the pair is unique)."""
    from refugium.web.evidence.models import Link

    on_kept = Link.objects.filter(record_type="person", record_pk=kept.pk)
    ids = list(
        Link.objects.filter(record_type="person", record_pk=merged.pk)
        .exclude(item_id__in=on_kept.values("item_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Link.objects.filter(pk__in=ids).update(record_pk=kept.pk)
    return {"evidence.Link.record_pk": ids} if ids else {}


def _note_merge(ws: records.Workspace, merged: Person, kept: Person) -> None:
    """A revision of the merged Person, so its history says where its links went."""
    revision = Revision(
        record_type="person",
        record_uid=merged.uid,
        actor=ws.actor,
        at=timezone.now(),
        action="merge",
    )
    revision.identity = ws.sealer.seal(revision, "identity", {})
    revision.details = ws.sealer.seal(revision, "details", {"merged_into": [None, kept.code]})
    revision.save()


def compare(ws: records.Workspace, match: PersonMatch) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both Persons' private fields, identity included: two audited reads
    (``records.compare``), each written before its identity is opened."""
    return (
        records.read(ws, match.person_a, identity=True, why="compare"),
        records.read(ws, match.person_b, identity=True, why="compare"),
    )
