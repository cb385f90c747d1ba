"""Controlled vocabularies of the documentation database, kept as data files.

Each vocabulary is one UTF-8 JSON file in this package: a HURIDOCS Events Standard Formats
(ESF) micro-thesaurus, or a list of our own where ESF has none or gets our case wrong (sex,
gender identity, sexual orientation, kinds of places, regions). Keeping them as data, not as
Python, lets a reviewer who reads no code check every label, and lets the Django side load
them in a data migration without importing anything from here but this loader.

The file format (``act-types.json``)::

    {
      "key": "act-types",
      "version": 1,
      "esf": {"micro_thesaurus": 4, "name": "Types of Acts"},
      "title": {"en": "Types of acts", "ru": "Виды действий"},
      "terms": [
        {"key": "arrest", "code": "030101000000", "parent": "…",
         "label": {"en": "Arrest", "ru": "Арест"}},
        {"key": "forced-outing", "code": null, "parent": "…",
         "label": {"en": "…", "ru": "…"}, "note": {"en": "…", "ru": "…"}}
      ]
    }

Rules that ``validate`` enforces, and why:

* ``key`` (of the vocabulary and of every term) is a lowercase ASCII slug. Records store term
  keys, so a key is stable forever: relabel a term, never rename its key.
* ``code`` is the 12-digit HURIDOCS code, copied from ``huridocs/OpenEvSys:
  schema/mysql-dbpopulate-mt.sql``, or ``null`` for a term of our own. A vocabulary with
  ``"esf": null`` has only our own terms, so all its codes are ``null``. Codes are unique.
* ESF codes are hierarchical, two digits a level (``030000000000`` Violations against the
  right to liberty > ``030100000000`` Direct actions > ``030101000000`` Arrest). The file
  keeps that tree in ``parent``; when both a term and its parent carry codes, the child's
  code must lie under the parent's. A few ESF lists (types of source material) use flat,
  alphabetical codes: their terms have no parent.
* A parent is listed before its children, so a loader can insert terms in file order.
* Every label and note has at least ``en`` and ``ru``, none empty.

Unknown fields are refused, so that a typo (``"lable"``) fails loudly instead of being
dropped by the migration.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import IO

from refugium.errors import BadInput

__all__ = [
    "REQUIRED_LANGUAGES",
    "Term",
    "Vocabulary",
    "by_key",
    "load",
    "load_all",
    "validate",
]

#: Languages every title, label and note must carry.
REQUIRED_LANGUAGES: tuple[str, ...] = ("en", "ru")

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_CODE = re.compile(r"[0-9]{12}\Z")
_LANGUAGE = re.compile(r"[a-z]{2,3}\Z")

_VOCABULARY_FIELDS = frozenset({"key", "version", "esf", "title", "terms"})
_ESF_FIELDS = frozenset({"micro_thesaurus", "name"})
_TERM_REQUIRED = frozenset({"key", "code", "parent", "label"})
_TERM_FIELDS = _TERM_REQUIRED | {"note"}


@dataclass(frozen=True)
class Term:
    """One term. ``code`` is its 12-digit HURIDOCS code, ``None`` for a term of our own."""

    key: str
    code: str | None
    parent: str | None
    label: dict[str, str] = field(hash=False)
    note: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def is_esf(self) -> bool:
        return self.code is not None


@dataclass(frozen=True)
class Vocabulary:
    """One vocabulary; ``terms`` in file order, every parent before its children."""

    key: str
    version: int
    esf_number: int | None
    esf_name: str | None
    title: dict[str, str] = field(hash=False)
    terms: tuple[Term, ...] = ()

    def by_key(self) -> dict[str, Term]:
        """Terms by key, in file order."""
        return {term.key: term for term in self.terms}

    def by_code(self) -> dict[str, Term]:
        """ESF terms by HURIDOCS code (our own terms have none)."""
        return {term.code: term for term in self.terms if term.code is not None}

    def term(self, key: str) -> Term:
        """The term with this key.

        Raises:
            KeyError: no such term in this vocabulary.
        """
        for term in self.terms:
            if term.key == key:
                return term
        raise KeyError(key)

    def roots(self) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if term.parent is None)

    def children(self, key: str) -> tuple[Term, ...]:
        return tuple(term for term in self.terms if term.parent == key)

    def ancestors(self, key: str) -> tuple[Term, ...]:
        """The parent, grandparent, … of a term, nearest first.

        Raises:
            KeyError: no such term in this vocabulary.
        """
        terms = self.by_key()
        chain: list[Term] = []
        parent = terms[key].parent
        while parent is not None:
            chain.append(terms[parent])
            parent = terms[parent].parent
        return tuple(chain)


def load(source: str | os.PathLike[str] | Traversable | IO[bytes] | IO[str]) -> Vocabulary:
    """Read and validate one vocabulary file.

    ``source`` is a path, an ``importlib.resources`` traversable or an open file. When it has
    a file name, the name must be ``<key>.json``.

    Raises:
        BadInput: the file is not UTF-8 JSON or breaks a rule of the format; the message
            names the file and, where there is one, the term.
    """
    name, raw = _read(source)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        data = json.loads(text, object_pairs_hook=_no_duplicate_names)
    except UnicodeDecodeError:
        raise BadInput(f"{name}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"{name}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except _DuplicateName as exc:
        raise BadInput(f"{name}: not valid JSON (the name {exc.args[0]!r} appears twice)") from None
    vocabulary = validate(data, source=name)
    stem = name.rsplit("/", 1)[-1]
    if stem.endswith(".json") and stem[: -len(".json")] != vocabulary.key:
        raise BadInput(f"{name}: file name does not match key {vocabulary.key!r}")
    return vocabulary


def load_all() -> list[Vocabulary]:
    """Every vocabulary shipped in this package, sorted by key.

    Raises:
        BadInput: a shipped file is invalid, or two files share a key.
    """
    package = resources.files(__name__)
    vocabularies = [
        load(entry)
        for entry in sorted(package.iterdir(), key=lambda entry: entry.name)
        if entry.name.endswith(".json") and entry.is_file()
    ]
    seen: set[str] = set()
    for vocabulary in vocabularies:
        if vocabulary.key in seen:
            raise BadInput(f"two vocabulary files have the key {vocabulary.key!r}")
        seen.add(vocabulary.key)
    return vocabularies


def by_key(vocabularies: Iterable[Vocabulary] | None = None) -> dict[str, Vocabulary]:
    """Vocabularies by key; the shipped ones when none are given.

    Raises:
        BadInput: as ``load_all``.
    """
    return {v.key: v for v in (load_all() if vocabularies is None else vocabularies)}


def validate(data: object, *, source: str = "<data>") -> Vocabulary:
    """Check parsed JSON against the format and build the ``Vocabulary``.

    Raises:
        BadInput: the first rule broken, with ``source`` and the term's key in the message.
    """
    obj = _object(data, source, "the file")
    _fields(obj, source, "the file", required=_VOCABULARY_FIELDS, allowed=_VOCABULARY_FIELDS)

    key = _slug(obj["key"], source, "the vocabulary key")
    where = f"{source} ({key})" if source != f"{key}.json" else source

    version = obj["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise BadInput(f"{where}: version must be a whole number from 1")

    esf_number: int | None = None
    esf_name: str | None = None
    if obj["esf"] is not None:
        esf = _object(obj["esf"], where, "esf")
        _fields(esf, where, "esf", required=_ESF_FIELDS, allowed=_ESF_FIELDS)
        number = esf["micro_thesaurus"]
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise BadInput(f"{where}: esf.micro_thesaurus must be a positive whole number")
        esf_number = number
        esf_name = _text(esf["name"], where, "esf.name")

    title = _labels(obj["title"], where, "title")

    raw_terms = obj["terms"]
    if not isinstance(raw_terms, list) or not raw_terms:
        raise BadInput(f"{where}: terms must be a non-empty list")

    terms: list[Term] = []
    codes: dict[str, str] = {}
    keys: set[str] = set()
    for index, raw in enumerate(raw_terms):
        term = _term(raw, where, index, esf=esf_number is not None)
        if term.key in keys:
            raise BadInput(f"{where}: term {term.key!r}: duplicate key")
        keys.add(term.key)
        if term.code is not None:
            if term.code in codes:
                raise BadInput(
                    f"{where}: term {term.key!r}: code {term.code} is already used by "
                    f"{codes[term.code]!r}"
                )
            codes[term.code] = term.key
        terms.append(term)

    _check_tree(terms, where)
    return Vocabulary(
        key=key,
        version=version,
        esf_number=esf_number,
        esf_name=esf_name,
        title=title,
        terms=tuple(terms),
    )


def _read(
    source: str | os.PathLike[str] | Traversable | IO[bytes] | IO[str],
) -> tuple[str, bytes | str]:
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            return path.name, path.read_bytes()
        except OSError as exc:
            raise BadInput(f"{path.name}: cannot read ({exc.strerror})") from None
    if isinstance(source, Traversable):
        return source.name, source.read_bytes()
    name = getattr(source, "name", None)
    return (os.path.basename(name) if isinstance(name, str) else "<file>"), source.read()


class _DuplicateName(ValueError):
    pass


def _no_duplicate_names(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # json.loads keeps the last of two equal names silently; a doubled "ru" label or "parent"
    # would hide an editing mistake.
    obj: dict[str, object] = {}
    for name, value in pairs:
        if name in obj:
            raise _DuplicateName(name)
        obj[name] = value
    return obj


def _term(raw: object, where: str, index: int, *, esf: bool) -> Term:
    what = f"term #{index + 1}"
    obj = _object(raw, where, what)
    if isinstance(obj.get("key"), str):
        what = f"term {obj['key']!r}"
    _fields(obj, where, what, required=_TERM_REQUIRED, allowed=_TERM_FIELDS)
    key = _slug(obj["key"], where, f"{what}: key")

    code = obj["code"]
    if code is not None:
        if not isinstance(code, str) or not _CODE.match(code):
            raise BadInput(f"{where}: {what}: code must be 12 digits or null")
        if not esf:
            raise BadInput(
                f"{where}: {what}: a vocabulary of our own (esf null) cannot carry ESF codes"
            )

    parent = obj["parent"]
    if parent is not None:
        parent = _slug(parent, where, f"{what}: parent")
        if parent == key:
            raise BadInput(f"{where}: {what}: parent cycle ({key} -> {key})")

    label = _labels(obj["label"], where, f"{what}: label")
    note = _labels(obj["note"], where, f"{what}: note") if "note" in obj else {}
    return Term(key=key, code=code, parent=parent, label=label, note=note)


def _check_tree(terms: list[Term], where: str) -> None:
    by_key = {term.key: term for term in terms}
    for term in terms:
        if term.parent is not None and term.parent not in by_key:
            raise BadInput(
                f"{where}: term {term.key!r}: parent {term.parent!r} is not a term of this "
                "vocabulary"
            )
    for term in terms:
        path = [term.key]
        parent = term.parent
        while parent is not None:
            if parent in path:
                cycle = " -> ".join([*path[path.index(parent) :], parent])
                raise BadInput(f"{where}: term {term.key!r}: parent cycle ({cycle})")
            path.append(parent)
            parent = by_key[parent].parent
    position = {term.key: index for index, term in enumerate(terms)}
    for term in terms:
        if term.parent is None:
            continue
        parent_term = by_key[term.parent]
        if position[term.parent] > position[term.key]:
            raise BadInput(
                f"{where}: term {term.key!r}: its parent {term.parent!r} must be listed before it"
            )
        if term.code is not None and parent_term.code is not None:
            stem = _code_stem(parent_term.code)
            if not (term.code.startswith(stem) and len(_code_stem(term.code)) > len(stem)):
                raise BadInput(
                    f"{where}: term {term.key!r}: code {term.code} is not under its parent "
                    f"{term.parent!r} ({parent_term.code})"
                )


def _code_stem(code: str) -> str:
    """The significant part of a code: ``030101000000`` -> ``030101``."""
    stem = code
    while stem.endswith("00") and len(stem) > 2:
        stem = stem[:-2]
    return stem


def _object(value: object, where: str, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise BadInput(f"{where}: {what} must be a JSON object")
    return value


def _fields(
    obj: Mapping[str, object],
    where: str,
    what: str,
    *,
    required: frozenset[str],
    allowed: frozenset[str],
) -> None:
    missing = sorted(required - obj.keys())
    if missing:
        raise BadInput(f"{where}: {what}: missing field {', '.join(missing)}")
    unknown = sorted(obj.keys() - allowed)
    if unknown:
        raise BadInput(f"{where}: {what}: unknown field {', '.join(unknown)}")


def _slug(value: object, where: str, what: str) -> str:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise BadInput(
            f"{where}: {what} must be a lowercase ASCII slug like 'death-threats', not {value!r}"
        )
    return value


def _text(value: object, where: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{where}: {what} must be non-empty text")
    if value != value.strip():
        raise BadInput(f"{where}: {what} has leading or trailing spaces")
    return value


def _labels(value: object, where: str, what: str) -> dict[str, str]:
    obj = _object(value, where, what)
    for language in REQUIRED_LANGUAGES:
        if language not in obj:
            raise BadInput(f"{where}: {what}: missing {language!r}")
    labels: dict[str, str] = {}
    for language, text in obj.items():
        if not _LANGUAGE.match(language):
            raise BadInput(f"{where}: {what}: {language!r} is not a language code")
        labels[language] = _text(text, where, f"{what} {language!r}")
    return labels
