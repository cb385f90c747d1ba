"""Importing and exporting records as CSV or JSON (``refugium records import|export``).

An import is all or nothing: every row is read, checked and sealed first; only when all are
good (or, with ``skip_bad``, the bad ones are set aside for a reject file) is anything
written, in one transaction. A bad row stops the import with its line (CSV) or index (JSON)
and the reason, which names the column and never echoes the value: a name in an error
message ends up in a terminal's scrollback.

Without a mapping, columns are the schema's field names (``docs/data-model.md``); a persons
file with the columns ``id,full_name,given_name,patronymic,family_name,birth_date,place,
gender`` (the input contract of ``refugium link``) imports as it is. ``id`` is the source's
record id, kept as ``<file stem>:<id>`` and indexed by keyed hash, so importing the same row
twice is refused and acts can point at persons and events by it.

Exports are full (every field, for the desk; one audit entry) or redacted: only the public
columns, coded fields and dates coarsened to months, with a report of every field withheld.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from refugium.errors import BadInput, Conflict, NotFound
from refugium.web.core.auditing import record as audit
from refugium.web.records import services
from refugium.web.records.models import Act, Event, Person, Place, Record, TermField
from refugium.web.records.schema import PUBLIC_ESF, Field
from refugium.web.records.services import Workspace

KINDS: dict[str, type[Record]] = {"persons": Person, "events": Event, "acts": Act}
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_CELL = 100_000
LIST_SEPARATOR = "|"
# ESF's record-number field of each format: what a refugium code stands in for.
ESF_RECORD_NUMBER = {"event": "0101", "person": "0901", "act": "2101"}

# The columns of ``refugium link``'s input that are not field names here.
LINK_CONTRACT = {"place": "home_place", "gender": "sex"}
GENDER_WORDS = {
    "m": "male",
    "male": "male",
    "man": "male",
    "м": "male",
    "муж": "male",
    "мужской": "male",
    "мужчина": "male",
    "f": "female",
    "female": "female",
    "woman": "female",
    "ж": "female",
    "жен": "female",
    "женский": "female",
    "женщина": "female",
}
TRUE_WORDS = {"1", "true", "yes", "y", "да"}
FALSE_WORDS = {"0", "false", "no", "n", "нет"}
REFERENCES = {
    "acts": {"event": ("event", Event), "victim": ("person", Person), "place": ("place", Place)}
}


@dataclass
class Mapping_:
    """``--mapping`` file: {"columns": {"their column": "our field" or null to ignore},
    "values": {"our field": {"their value": "our term key"}}}."""

    columns: dict[str, str | None] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Mapping_:
        """Raises:
        BadInput: not a readable JSON object of that shape.
        """
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise BadInput(
                f"{path.name}: not a readable JSON mapping ({error.__class__.__name__})"
            ) from None
        columns, values = (
            (raw.get("columns", {}), raw.get("values", {}))
            if isinstance(raw, dict)
            else (None, None)
        )
        if not isinstance(columns, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in columns.items()
        ):
            raise BadInput(f'{path.name}: "columns" must map column names to field names or null')
        if not isinstance(values, dict) or not all(
            isinstance(v, dict)
            and all(isinstance(a, str) and isinstance(b, str) for a, b in v.items())
            for v in values.values()
        ):
            raise BadInput(f'{path.name}: "values" must map field names to {{value: term key}}')
        return cls(columns, values)


@dataclass
class BadRow:
    where: str
    reason: str
    raw: dict[str, str]


@dataclass
class ImportResult:
    kind: str
    imported: int
    codes: list[str]
    rejected: list[BadRow]


# --- Reading files ------------------------------------------------------------------------------


def _rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, row) for each record of a CSV or JSON file.

    Raises:
        BadInput: unreadable, too big, not UTF-8, NUL bytes, malformed CSV or JSON.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise BadInput(f"{path.name}: larger than {MAX_FILE_BYTES // 2**20} MiB")
        data = path.read_bytes()
    except OSError as error:
        raise BadInput(f"{path.name}: cannot read it ({error.strerror})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadInput(
            f"{path.name}: not UTF-8 (byte {error.start}); save it as UTF-8 and try again"
        ) from None
    if "\x00" in text:
        raise BadInput(f"{path.name}: holds NUL bytes; is it a spreadsheet, not a CSV?")
    suffix = path.suffix.lower()
    if suffix == ".json":
        yield from _json_rows(path.name, text)
    elif suffix == ".csv":
        yield from _csv_rows(path.name, text)
    else:
        raise BadInput(f"{path.name}: give a .csv or a .json file")


def _csv_rows(name: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise BadInput(f"{name}: empty file (no header row)")
        header = [cell.strip() for cell in header]
        duplicates = sorted({c for c in header if header.count(c) > 1})
        if duplicates:
            raise BadInput(f"{name}: the column {duplicates[0]!r} appears twice")
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                raise BadInput(
                    f"{name}, line {line}: {len(cells)} cells where the header has {len(header)}"
                )
            yield f"line {line}", dict(zip(header, cells, strict=True))
    except csv.Error as error:
        raise BadInput(f"{name}, line {reader.line_num}: malformed CSV ({error})") from None


def _json_rows(name: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise BadInput(f"{name}: not valid JSON ({error})") from None
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data = data["records"]
    if not isinstance(data, list):
        raise BadInput(f'{name}: expected a list of records (or {{"records": [...]}})')
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise BadInput(f"{name}, record {index}: not an object")
        yield f"record {index}", item


# --- Turning a row into field values -----------------------------------------------------------


def _cell(value: Any, spec: Field | None) -> Any:
    """A CSV cell (text) or a JSON value, as ``services.prepare`` takes it."""
    if isinstance(value, str) and len(value) > MAX_CELL:
        raise BadInput("longer than any field can be")
    if spec is None or not isinstance(value, str):
        return value
    text = value.strip()
    if spec.kind in ("terms", "list"):
        return [part.strip() for part in text.split(LIST_SEPARATOR) if part.strip()]
    if spec.kind == "bool":
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS or not text:
            return False
        raise BadInput("expected yes or no")
    if spec.kind == "int":
        return int(text) if text.isdigit() else (text if text else None)
    return text


def _term_key(ws: Workspace, vocabulary: str, value: str) -> str:
    """A term given by its key, or by its English or Russian label (any case)."""
    folded = value.strip().casefold()
    for term in ws.terms(vocabulary):
        if folded in (term.key, term.label_en.casefold(), term.label_ru.casefold()):
            return str(term.key)
    return value.strip()  # prepare() refuses it, naming the field


class _Importer:
    def __init__(self, ws: Workspace, kind: str, source: str, mapping: Mapping_) -> None:
        self.ws, self.kind, self.source, self.mapping = ws, kind, source, mapping
        self.model = KINDS[kind]
        self.specs = {spec.name: spec for spec in self.model.SCHEMA}
        self.public = set(self.model.PUBLIC) - {"month_from", "month_to"}
        self.seen_ids: set[str] = set()
        # Records made earlier in this same file, by source id (acts may point at them).
        self.made: dict[str, Record] = {}

    def field_of(self, column: str) -> str | None:
        if column in self.mapping.columns:
            return self.mapping.columns[column]
        if self.kind == "persons" and column in LINK_CONTRACT:
            return LINK_CONTRACT[column]
        return column

    def check_columns(self, row: Mapping[str, Any]) -> None:
        known = set(self.specs) | self.public | {"id"}
        for column in row:
            target = self.field_of(column)
            if target is not None and target not in known:
                raise BadInput(
                    f"unknown column {column!r}; columns are: id, "
                    f"{', '.join(sorted(known - {'id'}))} (a --mapping can rename or ignore it)"
                )

    def prepare(self, row: Mapping[str, Any]) -> services.Prepared:
        private: dict[str, Any] = {}
        public: dict[str, Any] = {}
        source_id = ""
        for column, raw in row.items():
            target = self.field_of(column)
            if target is None:
                continue
            try:
                if target == "id":
                    source_id = self._source_id(raw)
                elif target in self.public:
                    public[target] = self._public(target, raw)
                else:
                    private[target] = self._private(self.specs[target], raw)
            except BadInput as error:
                raise BadInput(f"{column}: {error.message}") from None
        if not source_id:
            raise BadInput("id: every row needs the source's id for it")
        private["source_ids"] = [*private.get("source_ids", []), source_id]
        prepared = services.prepare(self.ws, self.model(), private, public)
        assert prepared is not None
        self.made[source_id] = prepared.row
        return prepared

    def _source_id(self, raw: Any) -> str:
        value = str(raw).strip() if isinstance(raw, str | int) else ""
        if not value or len(value) > 200:
            raise BadInput("missing or longer than 200 characters")
        source_id = f"{self.source}:{value}"
        if source_id in self.seen_ids:
            raise BadInput("the same id appears twice in this file")
        self.seen_ids.add(source_id)
        return source_id

    def _mapped(self, target: str, value: str) -> str:
        return self.mapping.values.get(target, {}).get(value, value)

    def _private(self, spec: Field, raw: Any) -> Any:
        value = _cell(raw, spec)
        if spec.name == "sex" and self.kind == "persons" and isinstance(value, str):
            value = GENDER_WORDS.get(value.casefold(), value)
        if spec.kind == "term" and isinstance(value, str):
            value = _term_key(self.ws, spec.vocabulary, self._mapped(spec.name, value))
        if spec.kind == "terms" and isinstance(value, list):
            value = [_term_key(self.ws, spec.vocabulary, self._mapped(spec.name, v)) for v in value]
        return value

    def _public(self, target: str, raw: Any) -> Any:
        value = raw.strip() if isinstance(raw, str) else raw
        column = self.model._meta.get_field(target)
        if isinstance(column, TermField):
            return (
                _term_key(self.ws, column.vocabulary, self._mapped(target, value))
                if value
                else None
            )
        references = REFERENCES.get(self.kind, {})
        if target in references:
            return self._reference(*references[target], value) if value else None
        return value

    def _reference(self, kind: str, model: type[Record], value: Any) -> Record:
        """A record by its code (``P-0042``) or by a source id (``persons:118``)."""
        text = str(value).strip()
        if text in self.made:
            return self.made[text]
        if text.upper().startswith(f"{model.PREFIX}-"):
            try:
                return services.get(self.ws, kind, text)
            except NotFound:
                raise BadInput(f"no {kind} {text!r}") from None
        found = services.find_by_source_id(self.ws, kind, text)
        if found is None:
            raise BadInput(f"no {kind} with the code or source id {text!r}")
        return found


@dataclass
class _Good:
    where: str
    raw: dict[str, str]
    prepared: services.Prepared

    @property
    def source_id(self) -> str:
        return str(self.prepared.values["source_ids"][-1])


def import_file(
    ws: Workspace,
    path: Path,
    kind: str,
    *,
    mapping: Mapping_ | None = None,
    skip_bad: bool = False,
) -> ImportResult:
    """Import every row of ``path`` as records of ``kind``, in one transaction.

    Raises:
        BadInput: the file cannot be read, or (without ``skip_bad``) a row is bad: the
            message gives its line or index and the reason. Nothing is written then.
    """
    if kind not in KINDS:
        raise BadInput(f"--kind must be one of {', '.join(KINDS)}")
    importer = _Importer(ws, kind, path.stem, mapping or Mapping_())
    good: list[_Good] = []
    rejected: list[BadRow] = []
    header_checked = False
    for where, row in _rows(path):
        raw = {str(k): str(v) for k, v in row.items()}
        if not header_checked:
            try:
                importer.check_columns(row)
            except BadInput as error:
                if path.suffix.lower() == ".csv" or not skip_bad:
                    # A CSV's header is wrong for every row: nothing to skip to.
                    raise BadInput(f"{path.name}: {error.message}") from None
                rejected.append(BadRow(where, error.message, raw))
                continue
            header_checked = path.suffix.lower() == ".csv"
        try:
            good.append(_Good(where, raw, importer.prepare(row)))
        except (BadInput, Conflict) as error:
            if not skip_bad:
                raise BadInput(f"{path.name}, {where}: {error.message}") from None
            rejected.append(BadRow(where, error.message, raw))
    kind_name = services.kind_of(importer.model)
    taken = services.taken_source_ids(ws, kind_name, (item.source_id for item in good))
    for item in good:
        if item.source_id in taken:
            if not skip_bad:
                raise BadInput(f"{path.name}, {item.where}: id: this id was imported before")
            rejected.append(BadRow(item.where, "id: this id was imported before", item.raw))
    batch = [item.prepared for item in good if item.source_id not in taken]
    if not batch and not rejected:
        raise BadInput(f"{path.name}: no rows to import")
    with transaction.atomic():
        services.save_many(ws, batch)
        audit(ws.actor, f"records.import.{kind}", "file", str(len(batch)))
    return ImportResult(kind, len(batch), [p.row.code for p in batch], rejected)


def write_rejects(path: Path, rejected: list[BadRow]) -> None:
    """The bad rows as CSV (their columns plus ``_where`` and ``_reason``), for fixing and
    importing again. They hold what the source file held: keep them as carefully."""
    columns = ["_where", "_reason", *sorted({c for bad in rejected for c in bad.raw})]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        for bad in rejected:
            writer.writerow({"_where": bad.where, "_reason": bad.reason, **bad.raw})


# --- Export ---------------------------------------------------------------------------------------


@dataclass
class ExportResult:
    rows: int
    withheld: dict[str, int]


def export(ws: Workspace, kind: str, path: Path, *, redacted: bool = False) -> ExportResult:
    """Write every record of ``kind`` to ``path`` (.csv or .json).

    Full: every field, identifying ones included (one audit entry for the export).
    Redacted: the code, public columns and coded fields; dates as months; every identifying
    or free-text field withheld, counted in the result (and ``<path>.withheld.json``).

    Raises:
        BadInput: an unknown kind or file type.
        OSError: the file cannot be written.
    """
    if kind not in KINDS:
        raise BadInput(f"--kind must be one of {', '.join(KINDS)}")
    if path.suffix.lower() not in (".csv", ".json"):
        raise BadInput(f"{path.name}: give a .csv or a .json file to write")
    model = KINDS[kind]
    # An inbox code means nothing outside the desk and ties a record to a reporter's thread.
    public = [name for name in model.PUBLIC if not (redacted and name == "submission")]
    kept = [
        spec
        for spec in model.SCHEMA
        if not redacted or (not spec.identifying and spec.kind in ("term", "terms", "bool", "int"))
    ]
    dated = [spec for spec in model.SCHEMA if spec.kind == "date" and not spec.identifying]
    withheld = {spec.name: 0 for spec in model.SCHEMA if spec not in kept}
    audit(ws.actor, f"records.export.{'redacted' if redacted else 'full'}", kind, "all")
    rows = []
    for row in model.objects.filter(desk=ws.desk).order_by("id").iterator(chunk_size=2000):
        values = ws.sealer.open(row, "details")
        if not redacted:
            values.update(ws.sealer.open(row, "identity"))
        else:
            identity_filled = ws.sealer.open(row, "identity")
            for name in identity_filled:
                withheld[name] = withheld.get(name, 0) + 1
            for name in list(values):
                if name in withheld:
                    withheld[name] += 1
        out: dict[str, Any] = {"code": row.code}
        for name in public:
            out[name] = services.public_value(row, name)
        for spec in kept:
            out[spec.name] = values.get(spec.name, spec.empty())
        if redacted:
            for spec in dated:
                when = services.when_of(values, spec.name)
                bounds = when.month_bounds() if when else (None, None)
                out[f"{spec.name}_months"] = (
                    "..".join(b.strftime("%Y-%m") if b else "" for b in bounds) if when else ""
                )
        rows.append(out)
    _write(path, rows, model)
    if redacted:
        report = {
            "kind": kind,
            "rows": len(rows),
            "withheld": {
                name: {
                    "rows_with_a_value": count,
                    "why": "identifying"
                    if name in {s.name for s in model.SCHEMA if s.identifying}
                    else "free text or exact date",
                }
                for name, count in sorted(withheld.items())
            },
        }
        Path(f"{path}.withheld.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return ExportResult(len(rows), {k: v for k, v in withheld.items()})


def _flat(value: Any) -> str:
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    return str(value)


def esf_numbers(model: type[Record]) -> dict[str, str]:
    """The ESF field number of each exported field that has one (docs/data-model.md)."""
    kind = services.kind_of(model)
    numbers = {"code": ESF_RECORD_NUMBER[kind]} if kind in ESF_RECORD_NUMBER else {}
    numbers |= PUBLIC_ESF.get(kind, {})
    numbers |= {spec.name: spec.esf for spec in model.SCHEMA if spec.esf}
    return numbers


def _write(path: Path, rows: list[dict[str, Any]], model: type[Record]) -> None:
    """Written beside the target and renamed over it: a full disk leaves no half a file."""
    tmp = path.with_name(f".{path.name}.partial")
    try:
        if path.suffix.lower() == ".json":
            document = {"kind": services.kind_of(model), "esf": esf_numbers(model), "records": rows}
            tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            columns = list(rows[0]) if rows else ["code"]
            with tmp.open("w", encoding="utf-8", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=columns)
                writer.writeheader()
                for row in rows:
                    writer.writerow({k: _flat(v) for k, v in row.items()})
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
