from __future__ import annotations

import hashlib
import string
from collections.abc import Callable
from importlib import resources

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from refugium.crypto import (
    MAX_RECEIPT_CHARS,
    TESTING,
    WORDS_PER_RECEIPT,
    BadInput,
    Identity,
    Receipt,
    WordListError,
    decrypt,
    encrypt,
    entropy_bits,
    receipt,
)

SALT = b"deployment-salt!"
ENGLISH = receipt._word_lists()["en"]
RUSSIAN = receipt._word_lists()["ru"]
EN_WORDS = ("abandon", "ability", "able", "about", "above", "absent", "absorb", "abstract",
            "absurd", "abuse")  # fmt: skip
PINNED_LOOKUP_HANDLE = "04cf519bcd1d1885962e94e9d99bab9d94829f9ee161f8b7434a666f1f31c869"
RU_WORDS = ("абзац", "абонент", "абсурд", "авария", "август", "автор", "агент", "агитация",
            "агрегат", "адвокат")  # fmt: skip


def shipped(name: str) -> bytes:
    return (resources.files("mnemonic") / "wordlist" / name).read_bytes()


# --- word lists -----------------------------------------------------------------------------


def test_lists_load_with_2048_words_each() -> None:
    assert len(ENGLISH) == len(RUSSIAN) == 2048
    assert ENGLISH[0] == "abandon"
    assert ENGLISH[-1] == "zoo"
    assert RUSSIAN[0] == "абзац"
    assert RUSSIAN[-1] == "ящик"


def test_english_list_is_bip39_english() -> None:
    assert hashlib.sha256(shipped("english.txt")).hexdigest() == (
        "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"
    )


def test_shipped_russian_defect_is_repaired() -> None:
    # mnemonic 0.21 ships line 1573 as "сно\ufffd\ufffdа"; the loader restores "снова".
    assert RUSSIAN[1571:1574] == ("сниться", "снова", "снять")
    assert "\ufffd" not in "".join(RUSSIAN)


def test_defective_word_is_caught_without_the_repair() -> None:
    lines = shipped("russian.txt").decode().split("\n")[:-1]
    assert "сно\ufffd\ufffdа" in lines  # if this fails, mnemonic fixed its list: drop the repair
    with pytest.raises(WordListError, match="outside its lower-case alphabet"):
        receipt._check_word_list("ru", lines)


def test_a_changed_list_fails_loudly() -> None:
    data = shipped("english.txt").replace(b"\nzoo\n", b"\nzoom\n")
    with pytest.raises(WordListError) as caught:
        receipt._load_word_list("en", data)
    assert caught.value.code == "word_list_invalid"


def test_the_repair_applies_only_to_the_known_file() -> None:
    data = shipped("russian.txt").replace("абзац\n".encode(), "абзацы\n".encode())
    with pytest.raises(WordListError):
        receipt._load_word_list("ru", data)


def test_list_not_utf8_fails() -> None:
    with pytest.raises(WordListError):
        receipt._load_word_list("en", b"\xff\n" * 2048)


@pytest.mark.parametrize(
    "words",
    [
        list(ENGLISH[:-1]),  # 2047 words
        [*ENGLISH[:-1], "abandon"],  # a duplicate
        [*ENGLISH[:-1], "Zoo"],  # not lower case
        [*ENGLISH[:-1], "zoo "],  # a stray space
        [*ENGLISH[:-1], "zoé"],  # outside the alphabet
    ],
)
def test_english_list_invariants(words: list[str]) -> None:
    with pytest.raises(WordListError):
        receipt._check_word_list("en", words)


@pytest.mark.parametrize(
    "word",
    [
        "ёж",  # ё must not be in a list: parsing reads it as е
        "е\u0308ж",  # not NFC
        "eж",  # a Latin letter in a Russian word
    ],
)
def test_russian_list_invariants(word: str) -> None:
    with pytest.raises(WordListError):
        receipt._check_word_list("ru", [*RUSSIAN[:-1], word])


def test_lists_pass_their_own_checks() -> None:
    receipt._check_word_list("en", ENGLISH)
    receipt._check_word_list("ru", RUSSIAN)
    receipt._check_no_lookalikes(ENGLISH, RUSSIAN)


def test_a_word_readable_in_both_languages_fails() -> None:
    # "cop" in Latin letters reads as the Russian "сор" (all three letters look alike).
    with pytest.raises(WordListError):
        receipt._check_no_lookalikes([*ENGLISH, "cop"], [*RUSSIAN, "сор"])
    with pytest.raises(WordListError):
        receipt._check_no_lookalikes([*ENGLISH, "cop"], [*RUSSIAN, "сop"])


def test_entropy() -> None:
    assert WORDS_PER_RECEIPT == 10
    assert entropy_bits("en") == 110.0
    assert entropy_bits("ru") == 110.0
    with pytest.raises(BadInput):
        entropy_bits("de")


# --- generating and showing -----------------------------------------------------------------


@pytest.mark.parametrize(("language", "words"), [("en", ENGLISH), ("ru", RUSSIAN)])
def test_generate(language: str, words: tuple[str, ...]) -> None:
    generated = Receipt.generate(language)
    assert generated.language == language
    assert len(generated.words) == 10
    assert set(generated.words) <= set(words)
    assert generated.to_text() == " ".join(generated.words)
    assert Receipt.generate(language) != generated


def test_generate_defaults_to_english() -> None:
    assert Receipt.generate().language == "en"


def test_generate_unknown_language() -> None:
    with pytest.raises(BadInput) as caught:
        Receipt.generate("de")
    assert caught.value.code == "receipt_malformed"


def test_repr_hides_the_words() -> None:
    generated = Receipt(
        "en", ["zoo", "able", "able", "able", "able", "able", "able", "able", "able", "able"]
    )
    assert repr(generated) == "<Receipt en (secret)>"
    assert "zoo" not in repr(generated.derive(SALT, TESTING))


def test_equality_and_no_hash() -> None:
    assert Receipt("en", EN_WORDS) == Receipt("en", list(EN_WORDS))
    assert Receipt("en", EN_WORDS) != Receipt("en", EN_WORDS[::-1])
    assert Receipt("en", EN_WORDS) != "abandon"
    with pytest.raises(TypeError):
        hash(Receipt("en", EN_WORDS))


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", EN_WORDS[:9]), ("en", (*EN_WORDS[:9], "zebra!")), ("de", EN_WORDS), ("en", RU_WORDS)],
)
def test_constructor_validates(language: str, words: tuple[str, ...]) -> None:
    with pytest.raises(BadInput):
        Receipt(language, words)


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "words"),
    [
        (" ".join(EN_WORDS), "en", EN_WORDS),
        ("ABANDON-Ability,able...about\n\tabove  absent; absorb/abstract_absurd (abuse)", "en",
         EN_WORDS),
        # Cyrillic а, о, е, у, с look-alikes typed on a Russian keyboard inside English words.
        ("аbаndоn ability able аbоut above absеnt absorb abstract absurd abusе", "en", EN_WORDS),
        # Fullwidth letters (NFKC).
        ("ａｂａｎｄｏｎ ability able about above absent absorb abstract absurd abuse", "en",
         EN_WORDS),
        ("АБЗАЦ абонент абсурд авария август автор агент агитация агрегат адвокат", "ru",
         RU_WORDS),
        # Latin look-alikes inside Russian words, upper and lower case, and ё for е.
        ("aбзaц aбoнeнт aбcypд aвapия aвгуcт ABTOP aгёнт aгитaция aгpeгaт aдвoкaт", "ru",
         RU_WORDS),
    ],
)  # fmt: skip
def test_parse_examples(text: str, language: str, words: tuple[str, ...]) -> None:
    parsed = Receipt.parse(text)
    assert parsed.language == language
    assert parsed.words == words


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ".join(EN_WORDS[:9]),
        " ".join((*EN_WORDS, "zoo")),
        " ".join((*EN_WORDS[:9], "abandonx")),
        " ".join((*EN_WORDS[:9], "абзац")),  # words of both languages
        " ".join((*EN_WORDS[:9], "ab4ndon")),
        "abandon" * 10,
    ],
)
def test_parse_refuses(text: str) -> None:
    with pytest.raises(BadInput) as caught:
        Receipt.parse(text)
    assert caught.value.code == "receipt_malformed"


def test_parse_refuses_mixed_languages() -> None:
    with pytest.raises(BadInput) as caught:
        Receipt.parse(" ".join((*EN_WORDS[:9], "абзац")))
    assert caught.value.message == "The receipt mixes words of two languages."


def test_parse_message_names_the_position_not_the_word() -> None:
    with pytest.raises(BadInput) as caught:
        Receipt.parse(" ".join((*EN_WORDS[:3], "secretword", *EN_WORDS[4:])))
    assert caught.value.message == "Word 4 of the receipt is not in the word list."


def test_length_limit_is_checked_first(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_run(text: str) -> str:
        raise AssertionError("normalised an over-long receipt")

    at_limit = " ".join(EN_WORDS).ljust(MAX_RECEIPT_CHARS)
    assert len(at_limit) == 400
    assert Receipt.parse(at_limit).words == EN_WORDS
    monkeypatch.setattr(receipt, "_fold", must_not_run)
    with pytest.raises(BadInput) as caught:
        Receipt.parse(at_limit + " ")
    assert caught.value.code == "receipt_malformed"


_LATIN_FOR = dict(zip("авсенкмортху", "abcehkmoptxy", strict=True))
_CYRILLIC_FOR = {latin: cyrillic for cyrillic, latin in _LATIN_FOR.items()}
_SEPARATOR = st.text(alphabet=" \t\n\u00a0\u3000-‐–—.,;:!?/\\_()'\"«»", min_size=1, max_size=4)


def _mangle(language: str, word: str, choices: list[int]) -> str:
    out = []
    for char, choice in zip(word, choices, strict=True):
        if language == "ru" and char == "е" and choice & 4:
            char = "ё"
        swap = _LATIN_FOR if language == "ru" else _CYRILLIC_FOR
        if choice & 2 and char in swap:
            char = swap[char]
        if choice & 1:
            char = char.upper()
        if choice & 8 and char in string.ascii_letters:
            char = chr(ord(char) + 0xFEE0)  # fullwidth form
        out.append(char)
    return "".join(out)


@st.composite
def mangled_receipts(draw: st.DrawFn) -> tuple[Receipt, str]:
    language = draw(st.sampled_from(["en", "ru"]))
    wordlist = ENGLISH if language == "en" else RUSSIAN
    words = draw(st.lists(st.sampled_from(wordlist), min_size=10, max_size=10))
    text = draw(st.text(alphabet=" \n-.", max_size=3))
    for index, word in enumerate(words):
        choices = draw(st.lists(st.integers(0, 15), min_size=len(word), max_size=len(word)))
        text += _mangle(language, word, choices)
        text += draw(_SEPARATOR) if index < 9 else draw(st.text(alphabet=" .\n", max_size=3))
    return Receipt(language, words), text


@settings(max_examples=500)
@given(mangled_receipts())
def test_mangled_receipts_parse_back_equal(case: tuple[Receipt, str]) -> None:
    original, text = case
    assert Receipt.parse(text) == original


@given(st.sampled_from(["en", "ru"]))
def test_generated_receipts_parse_back(language: str) -> None:
    generated = Receipt.generate(language)
    assert Receipt.parse(generated.to_text()) == generated


def _parse_or_error_code(text: str) -> Receipt | str:
    # Anything but BadInput escapes and fails the test.
    try:
        return Receipt.parse(text)
    except BadInput as error:
        return error.code


@settings(max_examples=300)
@given(st.text(max_size=2 * MAX_RECEIPT_CHARS))
def test_garbage_raises_bad_input_only(text: str) -> None:
    parsed = _parse_or_error_code(text)
    if isinstance(parsed, Receipt):
        assert Receipt.parse(parsed.to_text()) == parsed
    else:
        assert parsed == "receipt_malformed"


@settings(max_examples=300)
@given(
    st.lists(
        st.one_of(st.sampled_from(ENGLISH), st.sampled_from(RUSSIAN), st.text(max_size=8)),
        max_size=12,
    ),
    _SEPARATOR,
)
def test_near_receipts_raise_bad_input_only(tokens: list[str], separator: str) -> None:
    parsed = _parse_or_error_code(separator.join(tokens))
    if isinstance(parsed, Receipt):
        assert len(parsed.words) == 10
    else:
        assert parsed == "receipt_malformed"


# --- deriving -------------------------------------------------------------------------------


def test_derive_known_construction() -> None:
    # Argon2id over "language:words" (64 bytes), then HKDF-SHA256 with two labels.
    words = Receipt("en", EN_WORDS)
    material = Argon2id(salt=SALT, length=64, iterations=1, lanes=1, memory_cost=8).derive(
        ("en:" + " ".join(EN_WORDS)).encode()
    )

    def hkdf(info: bytes) -> bytes:
        return HKDF(hashes.SHA256(), 32, None, info).derive(material)

    keys = words.derive(SALT, TESTING)
    assert keys.lookup_handle == hkdf(b"refugium/receipt/lookup/v1").hex()
    assert keys.identity == Identity.from_seed(hkdf(b"refugium/receipt/identity/v1"))


def test_derive_pinned() -> None:
    keys = Receipt("en", EN_WORDS).derive(SALT, TESTING)
    assert keys.lookup_handle == PINNED_LOOKUP_HANDLE
    assert len(keys.lookup_handle) == 64
    assert repr(keys) == "<ReceiptKeys (secret)>"


def test_derive_is_deterministic_and_depends_on_everything() -> None:
    base = Receipt("en", EN_WORDS).derive(SALT, TESTING)
    again = Receipt.parse(" ".join(EN_WORDS).upper()).derive(SALT, TESTING)
    assert again.lookup_handle == base.lookup_handle
    assert again.identity == base.identity
    other_words = Receipt("en", (*EN_WORDS[:9], "zoo")).derive(SALT, TESTING)
    other_salt = Receipt("en", EN_WORDS).derive(b"another-salt-16b", TESTING)
    for other in (other_words, other_salt):
        assert other.lookup_handle != base.lookup_handle
        assert other.identity != base.identity
    assert base.lookup_handle != base.identity._secret_bytes().hex()


def test_right_and_wrong_receipts_cost_one_argon2_run_each(argon2_runs: list[int]) -> None:
    right = Receipt.generate("ru")
    wrong = Receipt.generate("ru")
    Receipt.parse(right.to_text()).derive(SALT, TESTING)
    assert argon2_runs == [8]
    Receipt.parse(wrong.to_text()).derive(SALT, TESTING)
    assert argon2_runs == [8, 8]


def test_over_long_receipt_costs_no_argon2_run(argon2_runs: list[int]) -> None:
    with pytest.raises(BadInput):
        Receipt.parse(" ".join(EN_WORDS) + " " * MAX_RECEIPT_CHARS)
    assert argon2_runs == []


def test_malformed_receipt_costs_no_argon2_run(argon2_runs: list[int]) -> None:
    with pytest.raises(BadInput):
        Receipt.parse(" ".join(EN_WORDS[:9]))
    assert argon2_runs == []


def test_reply_to_reporter_decrypts_with_receipt_identity() -> None:
    generated = Receipt.generate("en")
    at_submission = generated.derive(SALT, TESTING)
    reply = encrypt(b"We received your report.", [at_submission.identity.recipient])
    at_follow_up = Receipt.parse(generated.to_text()).derive(SALT, TESTING)
    assert decrypt(reply, [at_follow_up.identity]) == b"We received your report."


def test_stock_age_decrypts_reply_with_receipt_identity(
    run_age_decrypt: Callable[[bytes, Identity], bytes],
) -> None:
    keys = Receipt("ru", RUSSIAN[:10]).derive(SALT, TESTING)
    reply = encrypt("Ответ".encode(), [keys.identity.recipient])
    assert run_age_decrypt(reply, keys.identity) == "Ответ".encode()


def test_short_salt_is_refused() -> None:
    with pytest.raises(BadInput):
        Receipt("en", EN_WORDS).derive(b"short", TESTING)
