"""Forms of one given name (Саша for Александр, Мохьмад for Магомед), read from a data file.

The fold of :mod:`refugium.linkage.names` merges spellings and deliberately keeps name forms
apart, because a search key that merged Магомед with Мухаммад could not be seen or undone.
Linkage scoring is different: it weighs the agreement with every other field, and a reviewer
sees each borderline pair. There, a person written "Мохьмад" by a Chechen hotline volunteer
and "Магомед" by a passport office should agree on the given name. The equivalences live in
``data/given_names.txt`` (one line per name: sex, the usual form, its other forms), so that
a researcher can read and extend them without touching code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from refugium.linkage.names import fold

__all__ = ["DATA_FILE", "FormTable", "FormTableError", "load", "table"]

DATA_FILE: Final = "given_names.txt"


class FormTableError(ValueError):
    """The name-form file is malformed; the message names the line."""


@dataclass(frozen=True, slots=True)
class _Name:
    sex: str
    canonical: str
    """The folded usual form: the key every other form maps to."""


@dataclass(frozen=True, slots=True, repr=False)
class FormTable:
    """Folded form → the names it may stand for, in file order."""

    forms: dict[str, tuple[_Name, ...]]

    def canonical(self, folded: str, sex: str | None = None) -> str:
        """The usual form's key for a folded given name; unknown names are their own key.

        A form shared by two names (Саша, Женя) resolves by ``sex`` ("m" or "f") when the
        record gives one, else to the name listed first.
        """
        names = self.forms.get(folded)
        if not names:
            return folded
        for name in names:
            if name.sex == sex:
                return name.canonical
        return names[0].canonical

    def is_given_name(self, folded: str) -> bool:
        """Whether the table knows this folded word as a given name (for splitting full names)."""
        return folded in self.forms

    def __repr__(self) -> str:
        return f"<FormTable {len(self.forms)} forms>"


def load(text: str) -> FormTable:
    """Parse the name-form file's text.

    Raises:
        FormTableError: a line without a sex of ``m`` or ``f`` or without a name.
    """
    forms: dict[str, list[_Name]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head, _, variants = line.partition("|")
        sex, _, usual = head.strip().partition(" ")
        canonical = fold(usual)
        if sex not in ("m", "f") or not canonical:
            raise FormTableError(f"{DATA_FILE} line {number}: expected 'm|f NAME | FORMS…'")
        name = _Name(sex, canonical)
        for form in (usual, *variants.split()):
            key = fold(form)
            if key and name not in forms.setdefault(key, []):
                forms[key].append(name)
    return FormTable({key: tuple(names) for key, names in forms.items()})


@cache
def table() -> FormTable:
    """The table shipped with refugium (read once per process)."""
    text = resources.files("refugium.linkage").joinpath("data", DATA_FILE).read_text("utf-8")
    return load(text)
