"""What the documentation database does, for the web pages and ``refugium records`` alike.

Every function takes a ``Workspace``: the documentation desk unlocked for one actor, holding
the desk's keys in memory. Writes check every value against the schema and the
vocabularies, seal the private columns, keep a sealed revision of each change and refresh the
name index, all in one transaction. Opening a record's ``identity`` column writes an audit
entry first: a read the audit log cannot hold does not happen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import CheckConstraint, F, Model, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from refugium.crypto import DeskKey, KeyedHasher
from refugium.errors import BadInput, Conflict, NotFound, RefugiumError
from refugium.linkage import names
from refugium.records import dates
from refugium.web.access import holds_desk_key
from refugium.web.accounts import keyring as keyrings
from refugium.web.accounts import services as accounts
from refugium.web.accounts.models import Desk
from refugium.web.core.auditing import record as audit
from refugium.web.core.auditing import record_many
from refugium.web.records.models import (
    RECORD_TYPES,
    Act,
    Event,
    ExternalId,
    Month,
    NameKey,
    Person,
    Record,
    Revision,
    Term,
    TermField,
)
from refugium.web.records.schema import Field
from refugium.web.records.sealing import Sealer
from refugium.web.records.signals import records_saved

DOCUMENTATION_DESK = "documentation"
MAX_TEXT = 1_000
MAX_LONGTEXT = 100_000
MAX_LIST = 100
# The normaliser's version is part of the purpose: when its rules change, old digests stop
# matching instead of matching the wrong names, and the index is rebuilt.
EXACT, FOLDED, TOKEN = (
    f"name-{form}.v{names.KEY_VERSION}" for form in ("exact", "folded", "token")
)


class NoAccess(RefugiumError):
    """Not an active member of the documentation desk holding its key (the web shows 404)."""

    code = "no_access"


@dataclass
class Workspace:
    """The documentation desk, unlocked for ``actor``: its keys live here and nowhere else."""

    desk: Desk
    keys: Sequence[DeskKey] = field(repr=False)
    actor: str

    @cached_property
    def sealer(self) -> Sealer:
        return Sealer(self.keys)

    @cached_property
    def hasher(self) -> KeyedHasher:
        return KeyedHasher(self.keys)

    @cached_property
    def _terms(self) -> dict[str, dict[str, Term]]:
        return {}

    def terms(self, vocabulary: str) -> list[Term]:
        """Every term of ``vocabulary``, retired ones too, from the cache."""
        if vocabulary not in self._terms:
            self._terms[vocabulary] = {
                term.key: term for term in Term.objects.filter(vocabulary__key=vocabulary)
            }
        return list(self._terms[vocabulary].values())

    def term(self, vocabulary: str, key: str, *, allow_retired: bool = False) -> Term:
        """A term by key, from a cache filled one vocabulary at a time (an import of 100,000
        rows asks the same few questions over and over).

        Raises:
            NotFound: no such term, or it is retired and that is not allowed.
        """
        self.terms(vocabulary)
        term = self._terms[vocabulary].get(key)
        if term is None or (term.retired and not allow_retired):
            raise NotFound(f"{key!r} is not a term of the vocabulary {vocabulary!r}")
        return term


def documentation_desk() -> Desk:
    """Raises:
    NotFound: the organisation has no documentation desk.
    """
    return accounts.get_desk(DOCUMENTATION_DESK)


def workspace(user: Any, keyring: keyrings.Keyring | None) -> Workspace:
    """Raises:
    NotFound: no documentation desk.
    NoAccess: ``user`` may not use it (the same rule as ``access.desk_member``).
    """
    desk = documentation_desk()
    if not holds_desk_key(user, keyring, desk.name):
        raise NoAccess(
            f"this account is not an active member of desk {desk.name!r} holding its key"
        )
    assert keyring is not None
    return Workspace(desk=desk, keys=keyring.desk_keys(desk.name), actor=user.username)


# --- Finding records ------------------------------------------------------------------------


def kind_of(model: type[Record] | Record) -> str:
    cls = model if isinstance(model, type) else type(model)
    for kind, candidate in RECORD_TYPES.items():
        if candidate is cls:
            return kind
    raise ValueError(f"not a record type: {cls.__name__}")


def model_of(kind: str) -> type[Record]:
    """Raises:
    BadInput: not a kind of record.
    """
    try:
        return RECORD_TYPES[kind]
    except KeyError:
        raise BadInput(f"no kind of record {kind!r}; kinds: {', '.join(RECORD_TYPES)}") from None


def get(ws: Workspace, kind: str, code: str) -> Record:
    """A record of the workspace's desk by its code (``P-0042``) or number.

    Raises:
        NotFound: no such record on this desk (one on another desk is not found either).
    """
    model = model_of(kind)
    number = code.strip().upper().removeprefix(f"{model.PREFIX}-")
    if not number.isdigit() or len(number) > 12:
        raise NotFound(f"no {kind} {code!r}")
    found = model.objects.filter(desk=ws.desk, pk=int(number)).first()
    if found is None:
        raise NotFound(f"no {kind} {code!r}")
    return found


# --- Checking values --------------------------------------------------------------------------


def _check_value(ws: Workspace, spec: Field, value: Any, old: Any) -> Any:
    """The value as it is stored, or BadInput naming the field (never the value)."""
    label = spec.name
    if value is None or value == "" or value == []:
        return spec.empty()
    if spec.kind in ("text", "longtext"):
        if not isinstance(value, str):
            raise BadInput(f"{label}: expected text")
        limit = MAX_TEXT if spec.kind == "text" else MAX_LONGTEXT
        value = value.strip() if spec.kind == "text" else value.strip("\n")
        if len(value) > limit:
            raise BadInput(f"{label}: longer than {limit} characters")
        if spec.kind == "text" and ("\n" in value or "\r" in value):
            raise BadInput(f"{label}: one line only")
        return value
    if spec.kind == "list":
        if isinstance(value, str):
            value = [part for part in (line.strip() for line in value.splitlines()) if part]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise BadInput(f"{label}: expected a list of texts")
        if len(value) > MAX_LIST or any(len(item) > MAX_TEXT for item in value):
            raise BadInput(f"{label}: at most {MAX_LIST} entries of {MAX_TEXT} characters")
        return [item.strip() for item in value if item.strip()]
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise BadInput(f"{label}: expected true or false")
        return value
    if spec.kind == "int":
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10_000:
            raise BadInput(f"{label}: expected a whole number from 0 to 10000")
        return value
    if spec.kind == "date":
        return _check_date(label, value)
    if spec.kind == "term":
        return _check_term(ws, spec, value, old)
    if spec.kind == "terms":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or len(value) > MAX_LIST:
            raise BadInput(f"{label}: expected a list of terms")
        previous = old if isinstance(old, list) else []
        checked = [
            _check_term(ws, spec, item, item if item in previous else None) for item in value
        ]
        return list(dict.fromkeys(checked))
    raise AssertionError(spec.kind)


def _check_date(label: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dates.FuzzyDate):
        return value.to_json()
    if isinstance(value, str):
        try:
            return dates.parse(value).to_json()
        except BadInput as error:
            raise BadInput(f"{label}: {error.message}") from None
    if isinstance(value, dict):
        try:
            return dates.FuzzyDate.from_json(value).to_json()
        except (BadInput, KeyError, TypeError, ValueError):
            raise BadInput(f"{label}: not a date") from None
    raise BadInput(f"{label}: not a date")


def _check_term(ws: Workspace, spec: Field, value: Any, old: Any) -> str:
    """A key of the field's vocabulary; a retired term only where the record had it already.
    The error names the field and the vocabulary, never the value (it may be a name put in
    the wrong column)."""
    if not isinstance(value, str):
        raise BadInput(f"{spec.name}: expected a term of {spec.vocabulary}")
    key = value.strip()
    try:
        ws.term(spec.vocabulary, key, allow_retired=key == old)
    except NotFound:
        raise BadInput(_not_a_term(spec.name, spec.vocabulary)) from None
    return key


def _not_a_term(name: str, vocabulary: str) -> str:
    return (
        f"{name}: not a term of the vocabulary {vocabulary!r} "
        f"(`refugium vocab list {vocabulary}` shows them)"
    )


def _public_term(
    ws: Workspace, model: type[Record], name: str, value: Any, old: Term | None
) -> Term | None:
    column = model._meta.get_field(name)
    assert isinstance(column, TermField)
    if value is None or value == "":
        return None
    if isinstance(value, Term):
        value = value.key
    if not isinstance(value, str):
        raise BadInput(f"{name}: expected a term of {column.vocabulary}")
    try:
        term = ws.term(
            column.vocabulary, value.strip(), allow_retired=bool(old and old.key == value)
        )
    except NotFound:
        raise BadInput(_not_a_term(name, column.vocabulary)) from None
    return term


# --- Reading ----------------------------------------------------------------------------------


def read(
    ws: Workspace, row: Record, *, identity: bool = False, why: str = "read"
) -> dict[str, Any]:
    """The private fields of ``row`` (absent fields as their empty value).

    With ``identity``, the identifying fields too, after the audit entry for that read.

    Raises:
        DecryptionFailed: a sealed column does not open with the desk's keys.
    """
    values = {spec.name: spec.empty() for spec in row.SCHEMA if identity or not spec.identifying}
    opened = ws.sealer.open(row, "details")
    if identity:
        audit(ws.actor, f"records.{why}", kind_of(row), row.code)
        opened.update(ws.sealer.open(row, "identity"))
    for spec in row.SCHEMA:
        if spec.name in opened and spec.name in values:
            values[spec.name] = opened[spec.name]
    return values


def read_identities(ws: Workspace, rows: Sequence[Record], *, why: str) -> list[dict[str, Any]]:
    """``read(ws, row, identity=True, why=why)`` for each of ``rows``, in order, with every
    audit entry written (in one write to the log) before any identity is opened.

    Raises:
        DecryptionFailed: a sealed column does not open with the desk's keys.
    """
    if not rows:
        return []
    record_many([(ws.actor, f"records.{why}", kind_of(row), row.code) for row in rows])
    found = []
    for row in rows:
        values = {spec.name: spec.empty() for spec in row.SCHEMA}
        opened = ws.sealer.open(row, "details")
        opened.update(ws.sealer.open(row, "identity"))
        for spec in row.SCHEMA:
            if spec.name in opened:
                values[spec.name] = opened[spec.name]
        found.append(values)
    return found


def when_of(values: Mapping[str, Any], name: str = "when") -> dates.FuzzyDate | None:
    raw = values.get(name)
    if not raw:
        return None
    try:
        return dates.FuzzyDate.from_json(raw)
    except (BadInput, KeyError, TypeError, ValueError):
        return None


# --- Writing ----------------------------------------------------------------------------------


@dataclass
class Prepared:
    """A checked, sealed row ready to be written, with its revision and the forms its names
    and source ids are indexed under."""

    row: Record
    action: str
    changes: dict[str, dict[str, list[Any]]]
    values: dict[str, Any] = field(repr=False)


@sensitive_variables()
def prepare(
    ws: Workspace,
    row: Record,
    private: Mapping[str, Any] | None = None,
    public: Mapping[str, Any] | None = None,
) -> Prepared | None:
    """Check and seal a new ``row`` (unsaved) or a change to one, without writing anything;
    None when nothing changes. ``private`` and ``public`` map field names to new values;
    fields not named keep theirs.

    Raises:
        BadInput: an unknown field, a missing link, or a value the schema or a vocabulary
            refuses (the message names the field, never the value).
        DecryptionFailed: the existing row does not open with the desk's keys.
    """
    private = dict(private or {})
    public = dict(public or {})
    model = type(row)
    creating = row.pk is None
    by_name = {spec.name: spec for spec in model.SCHEMA}
    unknown = sorted(set(private) - set(by_name)) + sorted(set(public) - set(model.PUBLIC))
    if unknown:
        raise BadInput(f"{kind_of(model)} has no field {unknown[0]!r}")
    old = {} if creating else _open_all(ws, row)
    new = {spec.name: old.get(spec.name, spec.empty()) for spec in model.SCHEMA}
    for name, value in private.items():
        new[name] = _check_value(ws, by_name[name], value, old.get(name))
    changes: dict[str, dict[str, list[Any]]] = {"identity": {}, "details": {}}
    for spec in model.SCHEMA:
        before = old.get(spec.name, spec.empty())
        if new[spec.name] != before:
            changes[spec.column][spec.name] = [before, new[spec.name]]
    for name, value in public.items():
        before_value = public_value(row, name)
        after = _set_public(ws, row, name, value)
        if after != before_value:
            changes["details"][name] = [before_value, after]
    if isinstance(row, Month):
        when = when_of(new)
        row.month_from, row.month_to = when.month_bounds() if when else (None, None)
    if isinstance(row, Act) and row.region_id is None and row.place_id is not None:
        row.region_id = row.place.region_id
    if not creating and not any(changes.values()):
        return None
    today = timezone.localdate()
    if creating:
        row.desk = ws.desk
        row.created_on = today
    row.updated_on = today
    row.identity = ws.sealer.seal(row, "identity", _only(new, model.SCHEMA, identifying=True))
    row.details = ws.sealer.seal(row, "details", _only(new, model.SCHEMA, identifying=False))
    _check_links(row)
    return Prepared(row, "create" if creating else "change", changes, new)


def save(
    ws: Workspace,
    row: Record,
    private: Mapping[str, Any] | None = None,
    public: Mapping[str, Any] | None = None,
) -> Record:
    """``prepare`` and write in one transaction: the row, its revision, its index entries.

    Raises:
        BadInput, DecryptionFailed: as ``prepare``.
        Conflict: a source id of the record was imported before, into another record.
    """
    prepared = prepare(ws, row, private, public)
    if prepared is None:
        return row
    with transaction.atomic():
        prepared.row.save()
        _revise(ws, prepared)
        _index(ws, [prepared])
        records_saved.send(sender=type(prepared.row), ws=ws, prepared=[prepared])
    return prepared.row


def save_many(ws: Workspace, batch: Sequence[Prepared]) -> None:
    """Writes new rows of one kind in bulk (an import): the caller holds the transaction."""
    if not batch:
        return
    model = type(batch[0].row)
    model.objects.bulk_create([p.row for p in batch], batch_size=500)
    Revision.objects.bulk_create([_revision(ws, p) for p in batch], batch_size=500)
    _index(ws, batch, fresh=True)
    records_saved.send(sender=model, ws=ws, prepared=list(batch))


def _check_links(row: Record) -> None:
    """The links a record cannot exist without (an act's event and victim), and the rules
    across columns (information is about an event or a person), as clear errors before the
    database would refuse them."""
    for column in row._meta.concrete_fields:
        required = column.is_relation and not column.null and column.name != "desk"
        if required and getattr(row, column.attname) is None:
            raise BadInput(f"{kind_of(row)} needs its {column.name}")
    messages = []
    for model, constraints in row.get_constraints():
        for constraint in constraints:
            held = None
            if isinstance(constraint, CheckConstraint):
                held = _holds(constraint.condition, row)
            if held is False:
                messages.append(str(constraint.get_violation_error_message()))
            elif held is None:
                try:
                    constraint.validate(model, row)
                except ValidationError as error:
                    messages.extend(error.messages)
    if messages:
        raise BadInput(f"{kind_of(row)}: {'; '.join(messages)}")


def _holds(condition: Any, row: Record) -> bool | None:
    """A check constraint's condition evaluated on ``row`` in Python, when it is made only of
    ``isnull`` and ``exact`` (value or ``F``) lookups on the row's own columns with no NULL
    compared; None otherwise, and the database decides (Django asks it one query per row,
    which an import of 100,000 rows feels)."""
    if not isinstance(condition, Q):
        return None
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            result = _holds(child, row)
        else:
            name, value = child
            column, _, lookup = name.partition("__")
            try:
                current = getattr(row, row._meta.get_field(column).attname)
                if isinstance(value, F):
                    value = getattr(row, row._meta.get_field(value.name).attname)
            except (FieldDoesNotExist, AttributeError):
                return None
            if lookup == "isnull" and isinstance(value, bool):
                result = (current is None) is value
            elif lookup in ("", "exact") and current is not None and value is not None:
                result = current == value
            else:
                return None
        if result is None:
            return None
        results.append(result)
    held = all(results) if condition.connector == Q.AND else any(results)
    return not held if condition.negated else held


def _open_all(ws: Workspace, row: Record) -> dict[str, Any]:
    values = ws.sealer.open(row, "details")
    values.update(ws.sealer.open(row, "identity"))
    return values


def _only(
    values: Mapping[str, Any], specs: Iterable[Field], *, identifying: bool
) -> dict[str, Any]:
    return {
        spec.name: values[spec.name]
        for spec in specs
        if spec.identifying is identifying and values[spec.name] != spec.empty()
    }


def public_value(row: Record, name: str) -> Any:
    """A plaintext column as revisions and exports record it: a term's key, a linked record's
    code, a day in ISO form."""
    column = row._meta.get_field(name)
    if isinstance(column, TermField):
        term = getattr(row, name)
        return term.key if term else None
    if column.is_relation:
        if getattr(row, column.attname) is None:
            return None
        related = getattr(row, name)
        return related.code if hasattr(related, "code") else str(related.pk)
    current = getattr(row, name)
    return current.isoformat() if isinstance(current, date) else current


def _set_public(ws: Workspace, row: Record, name: str, value: Any) -> Any:
    """Sets a public column from a term key, a record (or None) or a plain value; returns
    what the revision records."""
    model = type(row)
    column = model._meta.get_field(name)
    if isinstance(column, TermField):
        term = _public_term(ws, model, name, value, getattr(row, name))
        setattr(row, name, term)
        return term.key if term else None
    if column.is_relation:
        if value is not None and not isinstance(value, Model):
            raise BadInput(f"{name}: expected a record")
        if isinstance(value, Record) and value.desk_id != row.desk_id and row.desk_id:
            raise BadInput(f"{name}: that record is on another desk")
        setattr(row, name, value)
        return public_value(row, name)
    if name == "status" and isinstance(row, Event):
        if value not in Event.Status.values:
            raise BadInput(f"status: one of {', '.join(Event.Status.values)}")
        row.status = value
        return value
    raise BadInput(f"{name} is set from the record's date, not directly")


def _revision(ws: Workspace, prepared: Prepared) -> Revision:
    revision = Revision(
        record_type=kind_of(prepared.row),
        record_uid=prepared.row.uid,
        actor=ws.actor,
        at=timezone.now(),
        action=prepared.action,
    )
    revision.identity = ws.sealer.seal(revision, "identity", prepared.changes["identity"])
    revision.details = ws.sealer.seal(revision, "details", prepared.changes["details"])
    return revision


def _revise(ws: Workspace, prepared: Prepared) -> None:
    _revision(ws, prepared).save()


@dataclass(frozen=True)
class Change:
    actor: str
    at: Any
    action: str
    fields: dict[str, list[Any]]


def history(ws: Workspace, row: Record, *, identity: bool = False) -> list[Change]:
    """Every revision of ``row``, oldest first; identifying changes only with ``identity``
    (and its audit entry)."""
    if identity:
        audit(ws.actor, "records.history", kind_of(row), row.code)
    changes = []
    for revision in Revision.objects.filter(record_uid=row.uid).order_by("id"):
        fields = ws.sealer.open(revision, "details")
        if identity:
            fields.update(ws.sealer.open(revision, "identity"))
        changes.append(Change(revision.actor, revision.at, revision.action, fields))
    return changes


# --- Names ------------------------------------------------------------------------------------


def _name_digests(ws: Workspace, values: Mapping[str, Any]) -> set[str]:
    forms = [
        names.name_keys(
            full_name=values.get("full_name", ""),
            given=values.get("given_name", ""),
            patronymic=values.get("patronymic", ""),
            family=values.get("family_name", ""),
        )
    ]
    forms += [names.name_keys(full_name=other) for other in values.get("other_names", [])]
    digests = set()
    for keys in forms:
        if keys.exact:
            digests.add(ws.hasher.digest(keys.exact, purpose=EXACT))
        if keys.folded:
            digests.add(ws.hasher.digest(keys.folded, purpose=FOLDED))
        for token in keys.tokens:
            digests.add(ws.hasher.digest(token, purpose=TOKEN))
    return digests


def _external_digests(ws: Workspace, values: Mapping[str, Any]) -> set[str]:
    return {ws.hasher.digest(sid, purpose="source-id") for sid in values.get("source_ids", [])}


def _index(ws: Workspace, batch: Sequence[Prepared], *, fresh: bool = False) -> None:
    """Name keys of persons and source-id keys of every record, replaced wholesale (``fresh``:
    the rows are new, there is nothing to replace). The unique constraint on source ids
    refuses a source id already taken by another record.

    Raises:
        Conflict: a source id is already another record's.
    """
    pks = [p.row.pk for p in batch]
    people = [p for p in batch if isinstance(p.row, Person)]
    if people:
        if not fresh:
            NameKey.objects.filter(person_id__in=pks).delete()
        # A batch of an import repeats the same given and family names many times: each
        # distinct word is folded once, and the memo goes with the batch.
        with names.memoised():
            names_rows = [
                (p.row.pk, d) for p in people for d in sorted(_name_digests(ws, p.values))
            ]
        _insert(NameKey, ("person_id", "digest"), names_rows)
    kind = kind_of(batch[0].row)
    if not fresh:
        ExternalId.objects.filter(record_type=kind, record_pk__in=pks).delete()
    external = [(kind, p.row.pk, d) for p in batch for d in sorted(_external_digests(ws, p.values))]
    try:
        with transaction.atomic():
            _insert(ExternalId, ("record_type", "record_pk", "digest"), external)
    except IntegrityError:
        raise Conflict(f"a source id of this {kind} was imported before") from None


def _insert(model: type[Model], columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Plain ``executemany`` for index rows: an import of 100,000 persons writes 400,000 of
    them, and building a model instance for each costs more than the insert itself."""
    if not rows:
        return
    quote = connection.ops.quote_name
    # Table and column names come from the model's metadata, values go in as parameters.
    table, names = quote(model._meta.db_table), ", ".join(quote(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


def taken_source_ids(ws: Workspace, kind: str, source_ids: Iterable[str]) -> set[str]:
    """Which of ``source_ids`` were imported before (under any key generation), in a few
    queries whatever their number."""
    by_digest: dict[str, str] = {}
    for source_id in source_ids:
        for digest in ws.hasher.candidates(source_id, purpose="source-id"):
            by_digest[digest] = source_id
    digests = list(by_digest)
    taken: set[str] = set()
    for start in range(0, len(digests), 500):
        hits = ExternalId.objects.filter(
            record_type=kind, digest__in=digests[start : start + 500]
        ).values_list("digest", flat=True)
        taken.update(by_digest[digest] for digest in hits)
    return taken


def find_by_source_id(ws: Workspace, kind: str, source_id: str) -> Record | None:
    """The record a source's id was imported into, looked up by its keyed hash."""
    digests = ws.hasher.candidates(source_id, purpose="source-id")
    hit = ExternalId.objects.filter(record_type=kind, digest__in=digests).first()
    if hit is None:
        return None
    return model_of(kind).objects.filter(desk=ws.desk, pk=hit.record_pk).first()


def search_persons(ws: Workspace, query: str, *, limit: int = 200) -> list[tuple[Person, str]]:
    """Persons whose name matches ``query`` exactly, in folded form (any script or
    spelling, any order) or by one name part; best matches first, with how they matched.
    Reads no sealed column and writes no audit entry: the result is codes."""
    keys = names.query_keys(query)
    ranked: dict[int, tuple[int, str]] = {}
    lookups = [(0, "exact", EXACT, [keys.exact] if keys.exact else [])]
    lookups.append((1, "spelling", FOLDED, [keys.folded] if keys.folded else []))
    lookups.append((2, "part", TOKEN, sorted(keys.tokens)))
    for rank, how, purpose, values in lookups:
        digests = [d for value in values for d in ws.hasher.candidates(value, purpose=purpose)]
        if not digests:
            continue
        # The digest index alone: joined to persons to check the desk, SQLite walked every
        # person of the desk instead (100 ms at 150,000 persons). The desk is checked below.
        matches = NameKey.objects.filter(digest__in=digests)
        for person_id in matches.values_list("person_id", flat=True).distinct()[:limit]:
            ranked.setdefault(person_id, (rank, how))
    people = Person.objects.filter(desk=ws.desk).in_bulk(list(ranked))
    order = sorted((pk for pk in ranked if pk in people), key=lambda pk: (ranked[pk][0], pk))
    order = order[:limit]
    return [(people[pk], ranked[pk][1]) for pk in order]


# --- From the inbox to records -----------------------------------------------------------------


@sensitive_variables("testimony")
def promote(ws: Workspace, submission: Any, testimony: str, attachments: Sequence[Any]) -> Event:
    """A draft Event from an inbox submission, with a Source for the submission and an
    Information record linking them that holds the reporter's words and the submission's
    files (which stay where the intake stored them, encrypted to the intake desk).

    The caller has read the submission with the intake desk's keys; ``testimony`` is the
    reporter's text, re-sealed here under the documentation desk's key. Promoting twice
    returns the event made the first time. One transaction; the audit log records the
    promotion and each file linked, before anything is written.
    """
    from refugium.web.intake.models import Submission
    from refugium.web.records.models import Information, InformationFile, Source

    existing = Event.objects.filter(desk=ws.desk, submission=submission).first()
    if existing is not None:
        return existing
    audit(ws.actor, "records.promote", "submission", submission.code)
    for attachment in attachments:
        audit(
            ws.actor, "records.attach", "attachment", f"{submission.code}:{attachment.stored_name}"
        )
    with transaction.atomic():
        event = Event(submission=submission)
        save(ws, event, {"title": f"Inbox report {submission.code} (draft)"})
        source = save(
            ws,
            Source(submission=submission),
            # The kind of material (victim's or witness's testimony…) is the researcher's call.
            {"title": f"Inbox report {submission.code}"},
        )
        information = save(
            ws,
            Information(source=source, event=event),
            {"summary": testimony[:MAX_LONGTEXT], "reference": f"inbox {submission.code}"},
        )
        InformationFile.objects.bulk_create(
            [InformationFile(information=information, attachment=a) for a in attachments]
        )
        Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.PROMOTED)
    return event
