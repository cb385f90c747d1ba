"""A person's name, however a list wrote it, split into given name, patronymic and family name.

Lists give names as "Хасуев Зелимхан Ахмедович" (Russian documents), "Zelimkhan Khasuev"
(press), "KHASUYEV Zelimhan" (UN lists: family name in capitals), "Хасуев, Зелимхан" or
"Зелим Х." (hotline notes). Comparing whole names would score the same man low across those
lists, so each part is found and compared with its like. What decides a word's part, in order:

1. a patronymic ending (-ович, -евич, -овна, -евна, -ична, and their Latin spellings);
2. capitals in a name that is otherwise not in capitals: the UN and passport convention for
   the family name;
3. a comma after the first word: "Family, Given";
4. the given-name table (``data/given_names.txt``) against a family-name ending (-ов, -ев,
   -ин, -ова, -ский…);
5. word order: with a patronymic, Russian order (family given patronymic) or Western order
   (given patronymic family) follows from where the patronymic stands; without one, the last
   word is the family name, as in the press.

Keys are folded (:func:`refugium.linkage.names.fold`); the family name loses its feminine
ending (Хасуева → hasuev) and the patronymic is reduced to the father's name (Ахмедович and
Ахмедовна → ahmed), so that a brother and sister agree on both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from refugium.linkage import forms
from refugium.linkage.names import Word, fold, fold_word, split_words

__all__ = [
    "CYRILLIC_KEY",
    "PersonName",
    "cyrillic_key",
    "family_key",
    "parse_name",
    "patronymic_key",
]

_PATRONYMIC: Final = re.compile(r"(?:ovich|evich|ovna|evna|ichna|inichna|ogli|kizi)$|..ich$")
_PATRONYMIC_SUFFIX: Final = re.compile(r"(?:ovich|evich|ovna|evna|inichna|ichna|ich)$")
_FAMILY_ENDING: Final = re.compile(r"(?:ov|ev|ova|eva|ski|skaia|enko)$")
_FAMILY_ENDING_WEAK: Final = re.compile(r"(?:in|ina|uk|ian)$")
"""Also ends given names (Зина, Амин, Айдин): a family name only when nothing else is."""
_FEMININE: Final = ((re.compile(r"(ov|ev|in)a$"), r"\1"), (re.compile(r"skaia$"), "ski"))


@dataclass(frozen=True, slots=True, repr=False)
class PersonName:
    """Folded parts of one name; empty where the name does not give them.

    Holds plaintext names, so its ``repr`` shows none.
    """

    given: str
    patronymic: str
    """The father's name, folded (Ахмедович → ahmed)."""
    family: str
    """Folded, masculine form (Хасуева → hasuev)."""
    given_initial: str
    """First letter of the folded given name, or of the given-name initial ("З." → z)."""
    family_initial: str

    def cyrillic(self) -> str:
        """The keys in Cyrillic, as "given (father) family", for review pages."""
        father = f"({cyrillic_key(self.patronymic)})" if self.patronymic else ""
        parts = (cyrillic_key(self.given), father, cyrillic_key(self.family))
        return " ".join(part for part in parts if part)

    def __repr__(self) -> str:
        return "<PersonName (redacted)>"


CYRILLIC_KEY: Final = (
    ("sh", "ш"), ("zh", "ж"), ("ch", "ч"), ("iu", "ю"), ("ia", "я"), ("h", "х"), ("c", "ц"),
    ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"),
    ("i", "и"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"),
    ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"),
)  # fmt: skip
"""The folded Latin key read back into Cyrillic, longest spellings first."""
_CYRILLIC_KEY: Final = re.compile("|".join(latin for latin, _ in CYRILLIC_KEY))
_TO_CYRILLIC: Final = dict(CYRILLIC_KEY)


def cyrillic_key(folded: str) -> str:
    """The Cyrillic form of a folded key (hasuev → хасуев, iusupov → юсупов).

    Lossy by design (ы and и, э and е meet, as they do in the fold), and only for reading: a
    reviewer who reads Russian sees a Latin-only record's name in the script of the others.
    """
    return _CYRILLIC_KEY.sub(lambda m: _TO_CYRILLIC[m.group()], folded)


def family_key(folded: str) -> str:
    """The masculine form of a folded family name: sister and brother share it."""
    for pattern, replacement in _FEMININE:
        folded = pattern.sub(replacement, folded)
    return folded


def patronymic_key(folded: str) -> str:
    """The father's name inside a folded patronymic (ahmedovich, ahmedovna → ahmed)."""
    stem = _PATRONYMIC_SUFFIX.sub("", folded)
    return stem if len(stem) >= 2 else folded


@dataclass(slots=True)
class _Token:
    folded: str
    capitals: bool
    comma_after: bool


def _is_capitals(word: Word) -> bool:
    letters = [ch for ch in "".join(word.parts) if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


def _tokens(text: str) -> tuple[list[_Token], list[str]]:
    """Words of a full name (folded) and the initials among them, in order."""
    head, comma, _tail = text.partition(",")
    family_first = bool(comma) and len(split_words(head)) == 1
    tokens: list[_Token] = []
    initials: list[str] = []
    for word in split_words(text):
        folded = fold_word(word)
        if not folded:
            continue
        if word.is_initial:
            initials.append(folded[0])
            continue
        tokens.append(_Token(folded, _is_capitals(word), family_first and not tokens))
    return tokens, initials


def _pick_family(tokens: list[_Token], patronymic_at: int | None) -> int | None:
    """Index of the family name among ``tokens`` (the patronymic already taken out)."""
    if not tokens:
        return None
    if len(tokens) == 1:
        # Alone, a word is a family name only if it looks like one ("Хасуев", not "Хасбулат").
        return 0 if _family_score(tokens[0].folded) > 0 else None
    capitals = [i for i, t in enumerate(tokens) if t.capitals]
    if len(capitals) == 1 and len(tokens) > 1:
        return capitals[0]
    if tokens[0].comma_after:
        return 0
    scores = [_family_score(t.folded) for t in tokens]
    best = max(scores)
    if scores.count(best) == 1:
        return scores.index(best)
    # A tie: word order decides. Given Patronymic Family puts the patronymic before the
    # family name; Family Given Patronymic puts it last.
    if patronymic_at is not None and patronymic_at >= len(tokens):
        return 0
    return len(tokens) - 1


def _family_score(folded: str) -> int:
    score = 0
    if _FAMILY_ENDING.search(folded):
        score += 2
    elif _FAMILY_ENDING_WEAK.search(folded):
        score += 1
    if forms.table().is_given_name(folded):
        score -= 2
    return score


def parse_name(
    full_name: str = "",
    given: str = "",
    patronymic: str = "",
    family: str = "",
    sex: str | None = None,
) -> PersonName:
    """Split and fold a name from a full name, its parts, or both (parts win).

    ``sex`` ("m", "f" or None) only resolves short forms shared by a man's and a woman's name.

    Raises:
        Nothing: any strings give a name (possibly with empty parts).
    """
    tokens, initials = _tokens(full_name)
    patronymic_at = next(
        (i for i, t in enumerate(tokens) if i > 0 and _PATRONYMIC.search(t.folded)), None
    )
    found_patronymic = tokens.pop(patronymic_at).folded if patronymic_at is not None else ""
    family_at = _pick_family(tokens, patronymic_at)
    found_family = tokens.pop(family_at).folded if family_at is not None else ""
    found_given = "".join(t.folded for t in tokens)

    given_folded, given_letter = _part(given)
    family_folded, family_letter = _part(family)
    patronymic_folded, _ = _part(patronymic)
    given_folded = given_folded or found_given
    family_folded = family_folded or found_family
    patronymic_folded = patronymic_folded or found_patronymic
    table = forms.table()
    given_key = table.canonical(given_folded, sex) if given_folded else ""
    father = patronymic_key(patronymic_folded) if patronymic_folded else ""
    spare = iter(initials)
    return PersonName(
        given=given_key,
        patronymic=table.canonical(father, "m") if father else "",
        family=family_key(family_folded),
        given_initial=given_key[:1] or given_letter or next(spare, ""),
        family_initial=family_folded[:1] or family_letter or next(spare, ""),
    )


def _part(text: str) -> tuple[str, str]:
    """A name-part column folded as one word ("Хож Ахмед" and "Хож-Ахмед" agree), or, when
    the column holds only an initial ("М."), no name and that letter."""
    words = split_words(text)
    if len(words) == 1 and words[0].is_initial:
        return "", fold_word(words[0])[:1]
    return "".join(fold(text).split()), ""
