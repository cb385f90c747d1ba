"""The withheld report: everything a build left out or changed, and why, for the desk.

The published report says what it shows; the desk must also be able to see what it does not
show, to check that the compiler protected what it should and no more. :class:`Withheld`
collects, during a build:

* fields: every field of every record kind that was withheld, pseudonymised or coarsened
  (and to what), with the sensitivity file's reason (:meth:`Withheld.add_policy` adds them
  all from a :class:`~refugium.reports.sensitivity.Policy`; :meth:`Withheld.field` one);
* cells: every hidden cell and total of every published table, with the reason: primary
  (its count is below k) or complementary (hidden so that a primary one cannot be worked
  out) (:meth:`Withheld.add_table`);
* notes: anything else the compiler left out (:meth:`Withheld.note`), such as records
  dated too coarsely for a weekly series.

It is written next to the build for the desk and never published. It names field names,
table names, category keys and positions, never a value from a record and never a count
that was hidden: a hidden count in the withheld report would make the file as dangerous as
the database, and the desk can look the number up in the records it already has.

:meth:`Withheld.to_json` is deterministic (entries sorted); :meth:`Withheld.render_text` is
the same as plain text, one line per entry, grouped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from refugium.reports.sensitivity import Policy, Sensitivity
from refugium.reports.tables import Table

__all__ = ["CellEntry", "FieldEntry", "FieldReason", "Withheld"]

FieldReason = Literal["withhold", "pseudonymised", "coarsened"]

_FIELD_REASON: dict[Sensitivity, FieldReason] = {
    Sensitivity.WITHHOLD: "withhold",
    Sensitivity.PSEUDONYMISE: "pseudonymised",
    Sensitivity.COARSEN: "coarsened",
}


@dataclass(frozen=True, order=True)
class FieldEntry:
    kind: str
    field: str
    reason: FieldReason
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "field": self.field,
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass(frozen=True, order=True)
class CellEntry:
    table: str
    row: str
    column: str | None
    reason: str  # "primary" or "complementary"
    k: int

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "row": self.row,
            "column": self.column,
            "reason": self.reason,
            "k": self.k,
        }


class Withheld:
    """The collector; one per build."""

    def __init__(self) -> None:
        self._fields: set[FieldEntry] = set()
        self._cells: set[CellEntry] = set()
        self._notes: set[str] = set()

    def field(self, kind: str, field: str, reason: FieldReason, detail: str = "") -> None:
        """Record that ``field`` of ``kind`` was withheld, pseudonymised or coarsened."""
        if reason not in ("withhold", "pseudonymised", "coarsened"):
            raise ValueError(f"unknown reason {reason!r}")
        self._fields.add(FieldEntry(kind, field, reason, detail))

    def add_policy(self, policy: Policy, kinds: tuple[str, ...] | None = None) -> None:
        """Every non-public field of ``kinds`` (all by default), with the policy's reason."""
        for rule in policy:
            if kinds is not None and rule.kind not in kinds:
                continue
            reason = _FIELD_REASON.get(rule.sensitivity)
            if reason is None:
                continue
            detail = rule.reason if rule.to is None else f"to {rule.to}: {rule.reason}"
            self.field(rule.kind, rule.field, reason, detail)

    def add_table(self, table: Table) -> None:
        """Every hidden entry of a protected table.

        Raises:
            ValueError: the table was not protected.
        """
        if table.protection is None:
            raise ValueError(f"table {table.name!r} was not protected")
        for pos, reason in table.protection.hidden.items():
            where = table.describe(pos)
            self._cells.add(
                CellEntry(table.name, where["row"], where.get("column"), reason, table.protection.k)
            )

    def note(self, text: str) -> None:
        """A free remark for the desk; it must name no one (the caller writes it)."""
        self._notes.add(text)

    @property
    def fields(self) -> tuple[FieldEntry, ...]:
        return tuple(sorted(self._fields))

    @property
    def cells(self) -> tuple[CellEntry, ...]:
        return tuple(sorted(self._cells, key=_cell_order))

    def to_json(self) -> dict[str, Any]:
        return {
            "fields": [e.to_json() for e in self.fields],
            "cells": [e.to_json() for e in self.cells],
            "notes": sorted(self._notes),
        }

    def render_text(self) -> str:
        """Plain text for the desk: fields by kind, hidden cells by table, notes."""
        lines = ["WITHHELD REPORT (for the desk only; never publish)", ""]
        lines.append(f"Fields not published as they are: {len(self._fields)}")
        for e in self.fields:
            detail = f" ({e.detail})" if e.detail else ""
            lines.append(f"  {e.kind}.{e.field}: {e.reason}{detail}")
        lines.append("")
        lines.append(f"Hidden table entries: {len(self._cells)}")
        for c in self.cells:
            where = c.row if c.column is None else f"{c.row} × {c.column}"
            why = (
                f"primary: count below k={c.k}"
                if c.reason == "primary"
                else "complementary: hidden so that a small count cannot be worked out"
            )
            lines.append(f"  {c.table} [{where}]: {why}")
        if self._notes:
            lines.append("")
            lines.append("Notes:")
            lines.extend(f"  {n}" for n in sorted(self._notes))
        return "\n".join(lines) + "\n"


def _cell_order(c: CellEntry) -> tuple[str, str, str, str]:
    return (c.table, c.row, "" if c.column is None else c.column, c.reason)
