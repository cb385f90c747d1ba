"""Reporters' receipts: ten words that find a submission again and decrypt the replies to it.

A reporter has no account. What they get after submitting is a receipt they can memorise or
write down: ten words from the BIP-39 list of their language (English or Russian), 110 bits
of entropy (DESIGN.md section 2 asks for at least 100). Through exactly one Argon2id run the
receipt yields both the handle the database stores to find the submission and an age
identity that replies to the reporter are encrypted to, so a seized database holds neither
the receipt nor anything that can be checked against a guess without paying Argon2id.

Receipts are read back from memory, paper or a phone, typed on whatever keyboard is at hand,
so ``Receipt.parse`` forgives what does not change the words: letter case, compatibility
forms (NFKC), any run of spaces, punctuation or hyphens between words, ё for е, and letters
that look alike in Latin and Cyrillic (a Russian word typed on a Latin keyboard, or the
reverse). The word lists are checked when first loaded (SecureDrop's ``passphrases.py``
does the same): a list that changed, or that breaks any of these rules, fails loudly.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from refugium.crypto._hkdf import hkdf_sha256
from refugium.crypto.kdf import derive_key
from refugium.crypto.keys import Identity
from refugium.crypto.profiles import Argon2Profile
from refugium.errors import BadInput, RefugiumError

WORDS_PER_RECEIPT = 10
# Ten of the longest Russian words with generous separators fit in about 150 characters.
# Checked before anything else, so that no normalisation or Argon2id work is spent on a flood
# of long inputs.
MAX_RECEIPT_CHARS = 400
LANGUAGES = ("en", "ru")

_MIN_RECEIPT_BITS = 100
_WORDS_PER_LIST = 2048
_LIST_FILES = {"en": "english.txt", "ru": "russian.txt"}

# SHA-256 of each list as used: a list that changes under us (a new release of ``mnemonic``,
# a tampered install) must fail loudly, never shift every reporter's receipt.
_PINNED_SHA256 = {
    # BIP-39 english.txt, byte for byte as published in bitcoin/bips.
    "en": "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda",
    # mnemonic 0.21 russian.txt with the one repair in _KNOWN_DEFECTS applied.
    "ru": "c9458f1997f6a6e0e8b4b691de850aa6af15fabca197e56baa6234933af1fffc",
}

# Defects of lists as shipped, repaired at load: SHA-256 of the shipped file ->
# (0-based line, word as shipped, word restored). mnemonic 0.21's russian.txt (whose wheel
# RECORD matches this hash) has two U+FFFD replacement characters in line 1573 in place of
# one two-byte Cyrillic letter: "сно??а" between "сниться" and "снять". The only word that
# fits is "снова", which is also in the earlier BIP-39 Russian list proposal. The repaired
# list must then match the pin above; anything else fails.
_KNOWN_DEFECTS = {
    "07f11af3f07fd13d8d74859f4448d8bca8f1d9d336dc4842531ecea083103a26": (
        1572,
        "сно\ufffd\ufffdа",
        "снова",
    ),
}

# Letters that look alike in Latin and Cyrillic, in pairs, as a Russian and a Latin keyboard
# produce them (upper case included: B, H, M, T look like В, Н, М, Т). The mapping is one to
# one, which with the list check below makes every token belong to at most one list.
_LATIN_LOOKALIKES = "abcehkmoptxy"
_CYRILLIC_LOOKALIKES = "авсенкмортху"
_TO_CYRILLIC = str.maketrans(_LATIN_LOOKALIKES, _CYRILLIC_LOOKALIKES)
_TO_LATIN = str.maketrans(_CYRILLIC_LOOKALIKES, _LATIN_LOOKALIKES)
# Each list word must already be in the form parsing produces: lower case, its own script,
# е for ё. This also refuses replacement characters, digits and stray spaces.
_ALPHABETS = {"en": re.compile("[a-z]+"), "ru": re.compile("[а-я]+")}  # а-я has no ё
_SEPARATORS = re.compile(r"[\W_]+")

_LOOKUP_INFO = b"refugium/receipt/lookup/v1"
_IDENTITY_INFO = b"refugium/receipt/identity/v1"


class WordListError(RefugiumError):
    """A receipt word list failed its checks at load. A deployment problem, not user input."""

    code = "word_list_invalid"


@dataclass(frozen=True, eq=False, repr=False)
class ReceiptKeys:
    """What a receipt yields.

    ``lookup_handle`` (64 hex characters) is what the database stores to find the
    submission; ``identity`` decrypts replies, which are encrypted to ``identity.recipient``.
    """

    lookup_handle: str
    identity: Identity

    def __repr__(self) -> str:
        return "<ReceiptKeys (secret)>"


class Receipt:
    """Ten words from one language's list. Leaves only through ``to_text`` and ``derive``.

    Raises:
        BadInput: (on construction, code "receipt_malformed") unknown language, wrong number
            of words, or a word not in that language's list.
    """

    __slots__ = ("_language", "_words")

    def __init__(self, language: str, words: Sequence[str]) -> None:
        wordset = _word_sets().get(language)
        if wordset is None:
            raise _malformed("Unknown receipt language.")
        if len(words) != WORDS_PER_RECEIPT:
            raise _malformed(f"A receipt has exactly {WORDS_PER_RECEIPT} words.")
        if not all(word in wordset for word in words):
            raise _malformed("A word of the receipt is not in the word list.")
        self._language = language
        self._words = tuple(words)

    @classmethod
    def generate(cls, language: str = "en") -> Receipt:
        """A new receipt of ten words drawn with ``secrets.choice``.

        Raises:
            BadInput: (code "receipt_malformed") the language is not "en" or "ru".
            WordListError: the word lists fail their checks.
        """
        words = _words_of(language)
        return cls(language, [secrets.choice(words) for _ in range(WORDS_PER_RECEIPT)])

    @classmethod
    def parse(cls, text: str) -> Receipt:
        """Read a receipt as a reporter typed it, forgiving what does not change the words.

        Raises:
            BadInput: (code "receipt_malformed") over ``MAX_RECEIPT_CHARS`` characters (checked
                first), not exactly ten words, a word in no list, or words of both languages.
            WordListError: the word lists fail their checks.
        """
        if len(text) > MAX_RECEIPT_CHARS:
            raise _malformed(f"Too long for a receipt ({WORDS_PER_RECEIPT} words).")
        tokens = [token for token in _SEPARATORS.split(_fold(text)) if token]
        if len(tokens) != WORDS_PER_RECEIPT:
            raise _malformed(f"A receipt has exactly {WORDS_PER_RECEIPT} words.")
        sets = _word_sets()
        languages: set[str] = set()
        words: list[str] = []
        for position, token in enumerate(tokens, start=1):
            as_latin = token.translate(_TO_LATIN)
            as_cyrillic = token.translate(_TO_CYRILLIC)
            if as_latin in sets["en"]:
                languages.add("en")
                words.append(as_latin)
            elif as_cyrillic in sets["ru"]:
                languages.add("ru")
                words.append(as_cyrillic)
            else:
                raise _malformed(f"Word {position} of the receipt is not in the word list.")
        if len(languages) != 1:
            raise _malformed("The receipt mixes words of two languages.")
        return cls(languages.pop(), words)

    @property
    def language(self) -> str:
        """ "en" or "ru"."""
        return self._language

    @property
    def words(self) -> tuple[str, ...]:
        """The words, as in the list."""
        return self._words

    def to_text(self) -> str:
        """The words separated by single spaces: what the reporter is shown.

        Raises:
            Nothing.
        """
        return " ".join(self._words)

    def derive(self, salt: bytes, profile: Argon2Profile) -> ReceiptKeys:
        """The lookup handle and reply identity: one Argon2id run, split by HKDF.

        Always exactly one run, whether or not a submission has this receipt, so that the
        answer takes as long for a wrong receipt as for a right one.

        Raises:
            BadInput: the salt is shorter than 16 bytes.
        """
        material = derive_key(self._canonical(), salt, profile, length=64)
        return ReceiptKeys(
            lookup_handle=hkdf_sha256(material, _LOOKUP_INFO).hex(),
            identity=Identity.from_seed(hkdf_sha256(material, _IDENTITY_INFO)),
        )

    def _canonical(self) -> bytes:
        return f"{self._language}:{' '.join(self._words)}".encode()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Receipt) and hmac.compare_digest(
            other._canonical(), self._canonical()
        )

    __hash__ = None  # type: ignore[assignment]  # a secret: keep it out of sets and dict keys

    def __repr__(self) -> str:
        return f"<Receipt {self._language} (secret)>"


def entropy_bits(language: str) -> float:
    """Bits of entropy of a generated receipt in that language (110.0 for both).

    Raises:
        BadInput: (code "receipt_malformed") the language is not "en" or "ru".
        WordListError: the word lists fail their checks.
    """
    return WORDS_PER_RECEIPT * math.log2(len(_words_of(language)))


def _words_of(language: str) -> Sequence[str]:
    words = _word_lists().get(language)
    if words is None:
        raise _malformed("Unknown receipt language.")
    return words


def _fold(text: str) -> str:
    # What parsing ignores, short of the look-alike letters: compatibility forms, case, ё/е.
    return unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")


def _malformed(message: str) -> BadInput:
    return BadInput(message, code="receipt_malformed")


@functools.cache
def _word_lists() -> dict[str, tuple[str, ...]]:
    # Loaded and checked once per process, at first use.
    wordlist_dir = resources.files("mnemonic") / "wordlist"
    lists = {
        language: _load_word_list(language, (wordlist_dir / name).read_bytes())
        for language, name in _LIST_FILES.items()
    }
    _check_no_lookalikes(lists["en"], lists["ru"])
    return lists


@functools.cache
def _word_sets() -> dict[str, frozenset[str]]:
    return {language: frozenset(words) for language, words in _word_lists().items()}


def _load_word_list(language: str, data: bytes) -> tuple[str, ...]:
    """Decode a shipped list, repair a known defect, check its pin and its invariants.

    Raises:
        WordListError: the list is not the pinned one or breaks an invariant.
    """
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        raise WordListError(f"The {language} receipt word list is not UTF-8.") from None
    if lines and lines[-1] == "":
        lines.pop()
    defect = _KNOWN_DEFECTS.get(hashlib.sha256(data).hexdigest())
    if defect is not None:
        index, shipped, restored = defect
        if lines[index] == shipped:
            lines[index] = restored
    used = ("\n".join(lines) + "\n").encode("utf-8")
    if hashlib.sha256(used).hexdigest() != _PINNED_SHA256[language]:
        raise WordListError(
            f"The {language} receipt word list changed; existing receipts would no longer "
            "work. Install the pinned version of the mnemonic package."
        )
    _check_word_list(language, lines)
    return tuple(lines)


def _check_word_list(language: str, words: Sequence[str]) -> None:
    """Raises WordListError unless the list can serve as a receipt alphabet."""
    if len(words) != _WORDS_PER_LIST:
        raise WordListError(f"The {language} receipt word list must have 2048 words.")
    alphabet = _ALPHABETS[language]
    for word in words:
        if not unicodedata.is_normalized("NFC", word):
            raise WordListError(f"The {language} receipt word list is not in NFC.")
        if not alphabet.fullmatch(word):
            raise WordListError(
                f"The {language} receipt word list has a word outside its lower-case alphabet."
            )
    to_own_script = _TO_LATIN if language == "en" else _TO_CYRILLIC
    normalised = {_fold(word).translate(to_own_script) for word in words}
    if len(normalised) != len(words):
        raise WordListError(f"The {language} receipt word list has duplicates.")
    if WORDS_PER_RECEIPT * math.log2(len(normalised)) < _MIN_RECEIPT_BITS:
        raise WordListError(f"Receipts in {language} would have under 100 bits of entropy.")


def _check_no_lookalikes(english: Sequence[str], russian: Sequence[str]) -> None:
    """Raises WordListError if a word could be read as a word of the other language."""
    english_set = frozenset(english)
    russian_set = frozenset(russian)
    if any(word.translate(_TO_CYRILLIC) in russian_set for word in english) or any(
        word.translate(_TO_LATIN) in english_set for word in russian
    ):
        raise WordListError("A receipt word reads as a word of the other language.")
