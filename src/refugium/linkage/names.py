"""Name normalisation: the one place where a name becomes a comparable key.

Names are stored only encrypted, so search and linkage compare keyed hashes (see
``refugium.crypto.keyed_hash``) of forms computed here. The same person is written "Хасуев",
"Khasuev", "KHASUYEV" or "Hasuev" depending on the document, the scheme and the clerk; a
hash matches only identical strings, so every spelling must be folded to the same key *before*
hashing. Any other normaliser feeding the same hashes would make lookups miss silently, so
record linkage (Splink comparisons) must use this module too.

The fold is orthographic, not onomastic: it merges spellings of one written form (Khattab /
Hatab, Yusupov / Jusupov) and deliberately keeps apart different forms of a name (Ахмед /
Ахмад, Магомед / Мухаммад / Mohammed). A false merge behind a keyed hash cannot be seen or
undone by the researcher, and in a record of persecution it conflates two people's fates;
name-form equivalences belong in a reviewed data table and in linkage scoring, not here.

Pipeline of :func:`fold`, per word (hyphenated parts are joined):

1. NFKC, so compatibility forms (full-width letters, ligatures, Roman numeral Ⅰ) are plain.
2. Script of each part by majority of letters; look-alike letters typed from the other
   keyboard layout are mapped to the majority script (``_LATIN_TO_CYRILLIC`` and back), and
   inside Cyrillic parts the palochka stand-ins (I l 1 | and, before a vowel, і i) become Ӏ.
3. casefold; Cyrillic pre-rules (``CYRILLIC_RULES``): drop the palochka and soft and hard
   signs, ё → е, Ukrainian letters to Russian ones.
4. Transliterate with iuliia's ICAO Doc 9303 schema (``TRANSLITERATION_SCHEMA``).
5. Latin letters with diacritics from other schemes (GOST, ISO 9, Polish, Turkish) spelt out,
   remaining marks stripped, everything but a-z dropped.
6. ``LATIN_RULES``: an ordered table of regular-expression rewrites, applied until nothing
   changes, so that ``fold(fold(x)) == fold(x)``.

Bump :data:`KEY_VERSION` whenever any table or step changes: stored hashes of names were
computed under the old rules and must be recomputed, or they will not match new queries.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

import iuliia  # type: ignore[import-untyped]  # iuliia 0.13 ships no type information

__all__ = [
    "CYRILLIC_RULES",
    "KEY_VERSION",
    "LATIN_RULES",
    "TRANSLITERATION_SCHEMA",
    "NameKeys",
    "Rule",
    "Word",
    "fold",
    "fold_word",
    "memoised",
    "name_keys",
    "query_keys",
    "split_words",
]

KEY_VERSION: Final = 1
"""Version of the folding rules; bind it into the keyed-hash purpose (``name.folded.v1``)."""

TRANSLITERATION_SCHEMA: Final = "ICAO_DOC_9303"
"""iuliia schema for Cyrillic → Latin.

ICAO Doc 9303 is the scheme of machine-readable travel documents and of Russian international
passports since 2014, so it is the Latin spelling most often copied into visas, asylum files
and foreign court records: a transliterated Cyrillic name then usually equals the passport
spelling before any folding. It is also a pure letter-for-letter table (no rules for word
starts, endings or neighbouring letters, unlike WIKIPEDIA's "ye"/"-y" or MOSMETRO's endings),
so the Latin folding below has one predictable input, and its output is plain ASCII.
"""

_SCHEMA = getattr(iuliia, TRANSLITERATION_SCHEMA)


def _transliterate(text: str) -> str:
    """Cyrillic letters to Latin under the chosen schema; other characters pass unchanged."""
    latin: str = _SCHEMA.translate(text)
    return latin


Rule = tuple[str, str, str]
"""(regular expression, replacement, reason): one step of a folding table."""

CYRILLIC_RULES: Final[tuple[Rule, ...]] = (
    (
        "[\u04cf]",
        "",
        "The palochka (and its stand-ins, mapped to it before) has no Latin letter; Latin"
        " spellings drop it: Ӏабдул / Abdul, гӀ / g, кӀ / k, тӀ / t",
    ),
    (
        "[ьъ]",
        "",
        "Soft and hard signs are dropped or written as apostrophes in Latin: Хьамзат / Khamzat,"
        " Шамиль / Shamil; Chechen аь оь уь become a o u",
    ),
    ("ё", "е", "Russian writing usually drops the dots: Ёлкин / Елкин"),
    ("[іїѝ]", "и", "Ukrainian and Belarusian і, ї where they were not a palochka: Віталій"),
    ("є", "е", "Ukrainian є"),
    ("ґ", "г", "Ukrainian ґ"),
    ("ў", "у", "Belarusian ў"),
)

_LATIN_LETTER_MAP: Final[dict[str, str]] = {
    # Letters with diacritics that other schemes and languages use for one Russian letter.
    "ŝ": "shch",  # GOST 7.79 / ISO 9 щ: Ŝerbakov
    "š": "sh",  # ISO 9, scholarly, Czech ш: Šamil
    "ş": "sh",  # Turkish, Azerbaijani, Chechen Latin (1992) ш
    "ž": "zh",  # ISO 9, scholarly ж: Mežidov
    "ż": "zh",  # Polish ж
    "č": "ch",  # ISO 9, scholarly, Czech ч
    "ĉ": "ch",  # ISO 9 (1968) ч
    "ç": "ch",  # Turkish, Chechen Latin (1992) ч
    "û": "yu",  # GOST 7.79 ю: Ûsupov
    "â": "ya",  # GOST 7.79 я
    "ı": "i",  # Turkish dotless i
    "ł": "l",  # Polish ł
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "đ": "d",
}

LATIN_RULES: Final[tuple[Rule, ...]] = (
    ("w", "v", "German and Polish w for в: Jussupow, Wacha"),
    ("q", "k", "q for к in Arabic-style and Chechen Latin spellings: Qadyrov"),
    ("x", "ks", "x for кс in English spellings: Maxim / Maksim (x for х is rarer: Zelimxan)"),
    ("schtsch", "sh", "German щ: Schtscherbakow"),
    ("tsch", "ch", "German ч: Tschetschenien"),
    ("dsch", "dzh", "German дж: Dschochar"),
    ("dj", "dzh", "French and Telegram-style дж: Djabrail"),
    (
        "shch|sch|shh",
        "sh",
        "щ as shch (ICAO, BGN), sch (Mosmetro, Yandex) or shh (cyrtranslit) meets ш, because"
        " German writes ш as sch (Schamil): щ is rare in Chechen names",
    ),
    (
        "k+h",
        "h",
        "х as kh (ICAO, BGN) or h (Telegram, Chechen usage): Khasuev / Hasuev; k+ also takes"
        " Chechen кх (kkh). ch is kept as ч, so German and Polish Ch for х (Chasujew) misses",
    ),
    ("gh", "g", "Chechen гӀ written gh: Ghalbatsov / Galbatsov"),
    ("llah\\b", "lla", "Arabic -ullah: Abdullah / Abdulla, Asadullah / Asadulla"),
    ("ts", "c", "ц as ts (ICAO, BGN) or c (ISO 9, Polish, Czech, Telegram): Tsakaev / Cakaev"),
    ("ou", "u", "French ou for у: Youssoupov, Oumarov, Mansour"),
    ("j", "y", "j for й in German, Polish and scholarly spellings: Jusupov, Dudajew, Husejn"),
    ("ye", "e", "е as ye at a word start and after vowels (BGN, Wikipedia): Aliyev / Aliev"),
    ("yo", "e", "ё as yo, folded with е as in Cyrillic: Yolkin / Elkin"),
    (
        "y",
        "i",
        "й, ы and the glide of ю я spelt y, i or j: Yusupov / Iusupov, Kadyrov / Kadirov,"
        " Khuseyn / Khusein, Yury / Yuriy / Yurii",
    ),
    (
        "(.)\\1+",
        "\\1",
        "Doubled letters are single in other spellings: Khattab / Hatab, Issa / Isa,"
        " Bassaev / Basaev, and the -iy / -ii endings after the rule above",
    ),
)

_PALOCHKA: Final = "\u04cf"  # lower case; casefold maps U+04C0 to it
_ALWAYS_PALOCHKA: Final = frozenset("\u04c0\u04cfIl1|\u01c0")
"""Stand-ins for the palochka inside a Cyrillic word: it is missing from most keyboards."""
_PALOCHKA_BEFORE_VOWEL: Final = frozenset("Ііi")
"""Stand-ins that are also ordinary letters (Ukrainian і): a palochka only before a vowel."""
_LOOKS_LIKE_PALOCHKA: Final = frozenset("Iil")
"""Latin letters not counted as Latin when choosing a word's script."""
_CYRILLIC_VOWELS: Final = frozenset("аеёиоуыэюяАЕЁИОУЫЭЮЯ")

_LATIN_TO_CYRILLIC: Final[dict[str, str]] = {
    "A": "А", "a": "а", "B": "В", "C": "С", "c": "с", "E": "Е", "e": "е", "H": "Н",
    "K": "К", "k": "к", "M": "М", "O": "О", "o": "о", "P": "Р", "p": "р", "T": "Т",
    "X": "Х", "x": "х", "Y": "У", "y": "у",
}  # fmt: skip
"""Latin letters that look like Cyrillic ones, typed inside a Cyrillic word."""
_CYRILLIC_TO_LATIN: Final[dict[str, str]] = {
    **{cyr: lat for lat, cyr in _LATIN_TO_CYRILLIC.items()},
    "І": "I", "і": "i", "Ј": "J", "ј": "j", "Ѕ": "S", "ѕ": "s",
}  # fmt: skip
"""Cyrillic letters that look like Latin ones, typed inside a Latin word."""

_HYPHENS: Final = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63")
_APOSTROPHES: Final = frozenset("'\u2018\u2019\u02bc\u02b9\u02bb\u0060\u00b4\u2032")
_LATIN_INITIALS: Final = frozenset(
    ("kh", "zh", "ts", "ch", "sh", "shch", "sch", "yu", "ya", "ye", "yo", "iu", "ia", "dzh")
)
"""Latin spellings of one Cyrillic letter: "Kh." is an initial, like "Х."."""

_MAX_PASSES: Final = 8
_COMPILED_CYRILLIC: Final = tuple((re.compile(p), r) for p, r, _why in CYRILLIC_RULES)
_COMPILED_LATIN: Final = tuple((re.compile(p), r) for p, r, _why in LATIN_RULES)
_NOT_LATIN_KEY: Final = re.compile("[^a-z]+")


def _is_cyrillic(char: str) -> bool:
    return "\u0400" <= char <= "\u052f" and char.isalpha()


def _is_latin(char: str) -> bool:
    return char.isalpha() and (char.isascii() or "\u00c0" <= char <= "\u024f")


def _script_map(part: str) -> str:
    """Map look-alikes and palochka stand-ins to the part's majority script.

    A Cyrillic word may hold Latin a/c/e/o/p/x/y typed on the wrong layout, and a palochka
    typed as I, l, 1 or |; a Latin word may hold Cyrillic а/е/о/с. Transliterated as they are,
    "Хaсуев" with a Latin a would still fold right, but "Хасуеb" or "Kхasuev" would not.
    The stand-ins I, l and i are not counted as Latin, since they are what a palochka looks
    like.
    """
    cyrillic = sum(1 for ch in part if _is_cyrillic(ch))
    latin = sum(1 for ch in part if _is_latin(ch) and ch not in _LOOKS_LIKE_PALOCHKA)
    if cyrillic == 0 or cyrillic <= latin:
        return "".join(_CYRILLIC_TO_LATIN.get(ch, ch) for ch in part)
    out = []
    for i, ch in enumerate(part):
        following = part[i + 1] if i + 1 < len(part) else ""
        following = _LATIN_TO_CYRILLIC.get(following, following)
        if ch in _ALWAYS_PALOCHKA:
            out.append(_PALOCHKA)
        elif ch in _PALOCHKA_BEFORE_VOWEL:
            out.append(_PALOCHKA if following in _CYRILLIC_VOWELS else "и")
        else:
            out.append(_LATIN_TO_CYRILLIC.get(ch, ch))
    return "".join(out)


def _latin_letters(part: str) -> str:
    """Spell out scheme diacritics (š → sh), strip other marks, keep only a-z."""
    spelt = "".join(_LATIN_LETTER_MAP.get(ch, ch) for ch in part)
    decomposed = unicodedata.normalize("NFKD", spelt)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_LATIN_KEY.sub("", bare.casefold())


def _apply(rules: Iterable[tuple[re.Pattern[str], str]], text: str) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


def _latin_fold(latin: str) -> str:
    """Apply ``LATIN_RULES`` until nothing changes, which makes the fold idempotent.

    The rules only shorten a word or remove letters no rule produces (w, q, x, j, dj), so a
    fixed point is reached within a few passes; the bound is a guard, not a limit in use.
    """
    for _ in range(_MAX_PASSES):
        folded = _apply(_COMPILED_LATIN, latin)
        if folded == latin:
            break
        latin = folded
    return latin


def _to_latin(part: str) -> str:
    """One hyphen-free part of a word, still unfolded, to plain a-z."""
    mapped = _script_map(part).casefold()
    mapped = _apply(_COMPILED_CYRILLIC, mapped)
    return _latin_letters(_transliterate(mapped))


@dataclass(frozen=True, slots=True)
class Word:
    """One word of a name as written: its hyphen-separated parts, and whether a dot follows."""

    parts: tuple[str, ...]
    """Hyphen-separated parts as written (NFKC), apostrophes included."""
    dotted: bool
    """Followed by a full stop, as initials are."""

    @property
    def is_initial(self) -> bool:
        """One letter ("Х", "Х."), or the Latin spelling of one Cyrillic letter with a dot."""
        letters = "".join(ch for ch in "".join(self.parts) if ch.isalpha())
        if len(letters) == 1:
            return True
        return self.dotted and len(self.parts) == 1 and letters.casefold() in _LATIN_INITIALS


def split_words(text: str) -> list[Word]:
    """Split on anything that is not part of a name; hyphens join parts of one word.

    Letters, marks, digits (palochka stand-ins) and | stay in a word; apostrophes stay and
    are dropped later (Kh'amzat is one word); everything else separates words.
    """
    words: list[Word] = []
    parts: list[str] = []
    current: list[str] = []

    def end_part() -> None:
        if current:
            parts.append("".join(current))
            current.clear()

    def end_word(dotted: bool) -> None:
        end_part()
        if parts:
            words.append(Word(tuple(parts), dotted))
            parts.clear()

    for ch in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(ch)
        if category[0] in "LMN" or ch in _APOSTROPHES or ch in _ALWAYS_PALOCHKA:
            current.append(ch)
        elif ch in _HYPHENS:
            end_part()
        else:
            end_word(dotted=ch == ".")
    end_word(dotted=False)
    return words


def fold_word(word: Word) -> str:
    """One word folded as :func:`fold` folds it (hyphenated parts joined)."""
    return _fold_word(word)[0]


_MEMO: ContextVar[dict[Word, tuple[str, tuple[str, ...]]] | None] = ContextVar(
    "refugium_fold_memo", default=None
)


@contextmanager
def memoised() -> Iterator[None]:
    """Within the block, fold each distinct word once (linkage folds the same few thousand
    names a million times). The memo holds names, so it lives only as long as the block: no
    name outlives the run that needed it, as a process-wide cache would let it."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _fold_word(word: Word) -> tuple[str, tuple[str, ...]]:
    memo = _MEMO.get()
    if memo is None:
        return _fold_word_once(word)
    folded = memo.get(word)
    if folded is None:
        folded = memo[word] = _fold_word_once(word)
    return folded


def _fold_word_once(word: Word) -> tuple[str, tuple[str, ...]]:
    """The word folded as one (hyphens joined), and each of its parts folded alone."""
    latin_parts = [_to_latin(part) for part in word.parts]
    joined = _latin_fold("".join(latin_parts))
    return joined, tuple(_latin_fold(part) for part in latin_parts)


def fold(text: str) -> str:
    """One comparable Latin key for a name or name part: spellings of one name collide.

    "Хасуев", "Khasuev", "Khasuyev", "KHASUYEV" and "Hasuev" all give ``"hasuev"``. Words
    keep their order and are joined by one space; hyphenated parts are joined with nothing
    ("Хож-Ахмед" and "Khozhakhmed" give ``"hozhahmed"``). Text in other scripts, and
    digits that are not palochka stand-ins, are dropped, so the result may be empty. The
    result is a fixed point: ``fold(fold(x)) == fold(x)``.

    Raises:
        Nothing: any string gives a key.
    """
    return " ".join(key for key in (_fold_word(w)[0] for w in split_words(text)) if key)


@dataclass(frozen=True, slots=True, repr=False)
class NameKeys:
    """The forms of one name that a search index stores, each to be keyed-hashed.

    ``exact`` finds the name as written; ``folded`` finds any spelling of the whole name in
    any word order; ``tokens`` find records by one part, such as a family name alone. Holds
    plaintext names, so its ``repr`` shows none (logs and tracebacks must not carry names).
    """

    exact: str
    """NFC, casefolded, whitespace collapsed: the name exactly as written."""
    folded: str
    """Folded words (initials left out), deduplicated, sorted, joined by one space."""
    tokens: frozenset[str]
    """Folded words and hyphenated parts of at least two letters; initials give none."""

    def __repr__(self) -> str:
        return f"<NameKeys v{KEY_VERSION} ({len(self.tokens)} tokens, redacted)>"


def _exact(text: str) -> str:
    collapsed = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    return unicodedata.normalize("NFC", collapsed)


def name_keys(
    full_name: str = "", given: str = "", patronymic: str = "", family: str = ""
) -> NameKeys:
    """The keys to store for a person's name, from a full name, its parts, or both.

    ``exact`` is the full name as written; without one, the parts in the order of Russian
    documents (family, given, patronymic), which is how a copied name is usually typed.
    ``folded`` and ``tokens`` use every word of every argument, so a record holding both the
    full name and its parts gives the same keys as one holding either.

    Raises:
        Nothing: any strings give keys (possibly empty ones).
    """
    written = full_name if full_name.strip() else " ".join((family, given, patronymic))
    words = [word for text in (full_name, given, patronymic, family) for word in split_words(text)]
    folded_words: set[str] = set()
    tokens: set[str] = set()
    for word in words:
        if word.is_initial:
            continue
        joined, parts = _fold_word(word)
        if len(joined) >= 2:
            folded_words.add(joined)
            tokens.add(joined)
        if len(parts) > 1:
            tokens.update(part for part in parts if len(part) >= 2)
    return NameKeys(
        exact=_exact(written),
        folded=" ".join(sorted(folded_words)),
        tokens=frozenset(tokens),
    )


def query_keys(query: str) -> NameKeys:
    """What to look up for a search string: the same derivation as a stored full name.

    One derivation for both sides is the point: a query folded by any other path would miss
    silently. Look up ``exact`` and ``folded``, then each of ``tokens`` for partial matches.

    Raises:
        Nothing: any string gives keys (possibly empty ones).
    """
    return name_keys(full_name=query)
