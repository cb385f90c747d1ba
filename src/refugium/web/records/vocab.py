"""Vocabularies in the database: loaded from the shipped files, extended by administrators.

The JSON files in ``refugium.records.vocabularies`` are the versioned source; ``sync`` brings
the database up to them (run by the data migration on a new database and by ``refugium vocab
sync`` after an upgrade). It adds and relabels terms and retires the ones a file no longer
has, but never deletes a term (records point at it) and never retires a term an
administrator added (``local``). ``add_term`` and ``retire_term`` are how an administrator
changes a vocabulary without code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from refugium.errors import BadInput, Conflict, NotFound

KEY_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass
class SyncReport:
    vocabularies: int = 0
    added: int = 0
    updated: int = 0
    retired: int = 0


def sync(loaded: list[Any], vocabulary_model: Any = None, term_model: Any = None) -> SyncReport:
    """Bring the database up to ``loaded`` (``refugium.records.vocabularies.load_all()``).

    The models are parameters so that a data migration can pass its historical ones.
    """
    if vocabulary_model is None or term_model is None:
        from refugium.web.records.models import Term, Vocabulary

        vocabulary_model, term_model = Vocabulary, Term
    report = SyncReport()
    with transaction.atomic():
        for source in loaded:
            report.vocabularies += 1
            vocabulary, _created = vocabulary_model.objects.update_or_create(
                key=source.key,
                defaults={
                    "version": source.version,
                    "esf_number": source.esf_number,
                    "title_en": source.title["en"],
                    "title_ru": source.title["ru"],
                },
            )
            existing = {term.key: term for term in term_model.objects.filter(vocabulary=vocabulary)}
            for position, term in enumerate(source.terms):
                values = {
                    "code": term.code or "",
                    "label_en": term.label["en"],
                    "label_ru": term.label["ru"],
                    "note_en": (term.note or {}).get("en", ""),
                    "note_ru": (term.note or {}).get("ru", ""),
                    "position": position,
                    "retired": False,
                    "local": False,
                }
                row = existing.get(term.key)
                if row is None:
                    existing[term.key] = term_model.objects.create(
                        vocabulary=vocabulary, key=term.key, **values
                    )
                    report.added += 1
                elif any(getattr(row, name) != value for name, value in values.items()):
                    for name, value in values.items():
                        setattr(row, name, value)
                    row.save()
                    report.updated += 1
            shipped = {term.key for term in source.terms}
            for term in source.terms:
                row = existing[term.key]
                parent = existing[term.parent] if term.parent else None
                if row.parent_id != (parent.pk if parent else None):
                    row.parent = parent
                    row.save(update_fields=["parent"])
            for key, row in existing.items():
                if key not in shipped and not row.local and not row.retired:
                    row.retired = True
                    row.save(update_fields=["retired"])
                    report.retired += 1
    return report


def sync_shipped() -> SyncReport:
    from refugium.records.vocabularies import load_all

    return sync(load_all())


def get_term(vocabulary: str, key: str, *, allow_retired: bool = True) -> Any:
    """Raises:
    NotFound: no such vocabulary or term (or the term is retired and that is not allowed).
    """
    from refugium.web.records.models import Term

    term = (
        Term.objects.select_related("vocabulary")
        .filter(vocabulary__key=vocabulary, key=key)
        .first()
    )
    if term is None or (term.retired and not allow_retired):
        raise NotFound(f"{key!r} is not a term of the vocabulary {vocabulary!r}")
    return term


def add_term(
    vocabulary: str,
    key: str,
    *,
    label_en: str,
    label_ru: str,
    parent: str = "",
    note_en: str = "",
    note_ru: str = "",
) -> Any:
    """An administrator's term: kept through every later ``sync``.

    Raises:
        NotFound: no such vocabulary, or no such parent term.
        BadInput: the key is not a lowercase slug, or a label is empty or too long.
        Conflict: the vocabulary already has a term with this key.
    """
    from refugium.web.records.models import Term, Vocabulary

    vocab = Vocabulary.objects.filter(key=vocabulary).first()
    if vocab is None:
        raise NotFound(f"no vocabulary {vocabulary!r}; `refugium vocab list` shows them")
    if not KEY_RE.match(key) or len(key) > 64:
        raise BadInput(f"a term key is lowercase letters, digits and hyphens, not {key!r}")
    for name, label in (("English", label_en), ("Russian", label_ru)):
        if not label.strip() or len(label) > 300:
            raise BadInput(f"the {name} label must be 1 to 300 characters")
    parent_term = get_term(vocabulary, parent) if parent else None
    with transaction.atomic():
        if Term.objects.filter(vocabulary=vocab, key=key).exists():
            raise Conflict(f"{vocabulary!r} already has a term {key!r}")
        last = Term.objects.filter(vocabulary=vocab).order_by("-position").first()
        return Term.objects.create(
            vocabulary=vocab,
            key=key,
            parent=parent_term,
            label_en=label_en.strip(),
            label_ru=label_ru.strip(),
            note_en=note_en.strip(),
            note_ru=note_ru.strip(),
            position=(last.position + 1) if last else 0,
            local=True,
        )


def retire_term(vocabulary: str, key: str) -> None:
    """Records keep the term; forms and imports stop accepting it.

    Raises:
        NotFound: no such term.
    """
    term = get_term(vocabulary, key)
    term.retired = True
    term.save(update_fields=["retired"])


def choices(vocabulary: str, language: str = "en") -> list[tuple[str, str]]:
    """(key, label) of the active terms, indented by depth, for forms."""
    from refugium.web.records.models import Term

    terms = list(
        Term.objects.filter(vocabulary__key=vocabulary, retired=False).order_by("position", "key")
    )
    by_pk = {term.pk: term for term in terms}

    def depth(term: Any) -> int:
        level = 0
        while term.parent_id in by_pk and level < 10:
            term = by_pk[term.parent_id]
            level += 1
        return level

    return [(term.key, "\u2003" * depth(term) + term.label(language)) for term in terms]
