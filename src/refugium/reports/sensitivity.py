"""Sensitivity classes: how every field of the data model may reach a published report.

Every field has exactly one class, declared in ``data/sensitivity.toml`` with a one-line
reason, so that publishing a field is a decision someone wrote down rather than a default:

``public``
    Published as it is: coded vocabulary terms, coarse regions, statuses.
``coarsen``
    Published only coarsened (``to``): dates to an ISO week or a month, places to a district
    or a region (:mod:`refugium.reports.coarsen`).
``pseudonymise``
    A link to another record, published only as a report-specific pseudonym ("Person 3",
    :mod:`refugium.reports.pseudonyms`), never as the internal code (``P-0042``).
``withhold``
    Never published: names, contacts, documents, addresses, birth dates, free text.

The file has one TOML table per record kind (the keys of ``RECORD_TYPES`` in
``refugium.web.records.models``) and one line per field::

    [act]
    when = { class = "coarsen", to = "week", reason = "..." }

The Django side's test ``tests/web/reports/test_sensitivity_covers_schema.py`` checks that the
file lists every field of every schema and every public column, and nothing else.

API: :func:`load_policy` (a file, or the packaged default), :class:`Policy` with
:meth:`Policy.class_of` and :meth:`Policy.rule`, and the module-level :func:`class_of` and
:func:`default_policy` on the packaged file.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from refugium.errors import BadInput

__all__ = [
    "COARSEN_TARGETS",
    "DEFAULT_PATH",
    "Policy",
    "Rule",
    "Sensitivity",
    "class_of",
    "default_policy",
    "load_policy",
    "parse_policy",
]

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "sensitivity.toml"


class Sensitivity(StrEnum):
    """The four classes, from least to most protective."""

    PUBLIC = "public"
    COARSEN = "coarsen"
    PSEUDONYMISE = "pseudonymise"
    WITHHOLD = "withhold"


# What a coarsened field may be coarsened to: dates, then places.
COARSEN_TARGETS = ("week", "month", "district", "region")


@dataclass(frozen=True)
class Rule:
    """One field's class, its coarsening target (only for ``coarsen``) and why."""

    kind: str
    field: str
    sensitivity: Sensitivity
    reason: str
    to: str | None = None


@dataclass(frozen=True)
class Policy:
    """The rules of one sensitivity file, by (record kind, field name)."""

    rules: Mapping[tuple[str, str], Rule]
    source: str

    def rule(self, kind: str, field: str) -> Rule:
        """The rule for ``field`` of record ``kind``.

        Raises:
            BadInput: (code "sensitivity_unknown_field") the field is not in the file: a
                field without a declared class is never published, and the caller must not
                guess one.
        """
        try:
            return self.rules[(kind, field)]
        except KeyError:
            raise BadInput(
                f"{self.source}: no sensitivity class for field {field!r} of {kind!r}; "
                "add it to the sensitivity file",
                code="sensitivity_unknown_field",
            ) from None

    def class_of(self, kind: str, field: str) -> Sensitivity:
        """The class of ``field`` of record ``kind`` (see :meth:`rule`)."""
        return self.rule(kind, field).sensitivity

    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted({kind for kind, _ in self.rules}))

    def fields(self, kind: str) -> tuple[str, ...]:
        return tuple(sorted(f for k, f in self.rules if k == kind))

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules[key] for key in sorted(self.rules))


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def _duplicates(text: str, source: str) -> None:
    """Name a field listed twice with both lines, before tomllib's terser complaint."""
    seen: dict[tuple[str, str], int] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            section = header.group(1)
            continue
        key = _KEY.match(line)
        if key and section:
            where = (section, key.group(1))
            if where in seen:
                raise BadInput(
                    f"{source}, line {number}: field {where[1]!r} of {section!r} is listed "
                    f"twice (first on line {seen[where]})",
                    code="sensitivity_duplicate",
                )
            seen[where] = number


def parse_policy(text: str, source: str = "sensitivity.toml") -> Policy:
    """Read and check a sensitivity file's text; ``source`` names it in error messages.

    Raises:
        BadInput: not TOML, a field listed twice, an unknown class, a coarsened field
            without a known ``to`` (or another class with one), a missing reason, or an
            unknown key in a field's entry. The message names the file, line or key.
    """
    _duplicates(text, source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise BadInput(f"{source}: not valid TOML: {e}", code="sensitivity_toml") from None
    rules: dict[tuple[str, str], Rule] = {}
    for kind, fields in data.items():
        if not isinstance(fields, dict):
            raise BadInput(
                f"{source}: {kind!r} must be a table of fields ([{kind}])",
                code="sensitivity_shape",
            )
        for name, entry in fields.items():
            where = f"{source}: [{kind}] {name}"
            if not isinstance(entry, dict):
                raise BadInput(
                    f"{where}: expected {{ class = ..., reason = ... }}", code="sensitivity_shape"
                )
            unknown = sorted(set(entry) - {"class", "reason", "to"})
            if unknown:
                raise BadInput(f"{where}: unknown key {unknown[0]!r}", code="sensitivity_shape")
            klass = entry.get("class")
            if klass not in {s.value for s in Sensitivity}:
                raise BadInput(
                    f"{where}: unknown class {klass!r}; expected one of "
                    + ", ".join(s.value for s in Sensitivity),
                    code="sensitivity_class",
                )
            sensitivity = Sensitivity(klass)
            reason = entry.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                raise BadInput(f"{where}: a reason is required", code="sensitivity_reason")
            to = entry.get("to")
            if sensitivity is Sensitivity.COARSEN:
                if to not in COARSEN_TARGETS:
                    raise BadInput(
                        f"{where}: coarsen needs to = one of {', '.join(COARSEN_TARGETS)}",
                        code="sensitivity_target",
                    )
            elif to is not None:
                raise BadInput(f"{where}: only class coarsen takes 'to'", code="sensitivity_target")
            rules[(kind, name)] = Rule(kind, name, sensitivity, reason.strip(), to)
    return Policy(rules, source)


def load_policy(path: Path | None = None) -> Policy:
    """Read and check a sensitivity file (the packaged ``data/sensitivity.toml`` by default).

    Raises:
        BadInput: the file cannot be read, or :func:`parse_policy` rejects it.
    """
    path = DEFAULT_PATH if path is None else path
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(
            f"{path.name}: cannot read the sensitivity file ({type(e).__name__})",
            code="sensitivity_unreadable",
        ) from None
    return parse_policy(text, path.name)


@functools.cache
def default_policy() -> Policy:
    """The packaged policy, read once."""
    return load_policy()


def class_of(kind: str, field: str) -> Sensitivity:
    """The packaged policy's class of ``field`` of record ``kind`` (see :meth:`Policy.rule`)."""
    return default_policy().class_of(kind, field)
