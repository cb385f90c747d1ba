"""The coarse hints a reporter may give, loaded from ``hints.json`` (data, not code)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from django.utils.translation import get_language

GROUPS = ("when", "where", "harm")


@cache
def _terms() -> dict[str, list[dict[str, str]]]:
    raw = json.loads(resources.files(__package__).joinpath("hints.json").read_text("utf-8"))
    return {group: raw[group] for group in GROUPS}


def choices(group: str) -> list[tuple[str, str]]:
    """(code, label) pairs in the current language, English where a label is missing."""
    language = (get_language() or "en")[:2]
    return [(t["code"], t.get(language) or t["en"]) for t in _terms()[group]]


def codes(group: str) -> set[str]:
    return {t["code"] for t in _terms()[group]}


def label(group: str, code: str, language: str = "en") -> str:
    for term in _terms()[group]:
        if term["code"] == code:
            return term.get(language) or term["en"]
    return code
