"""One canonical string per contact identifier, so that every written form meets (issue 9).

The provocation watchlist stores contacts only as keyed hashes, and a keyed hash matches
only identical input: ``+7 (928) 555-12-34`` and ``89285551234`` are the same phone and must
reach the hash as the same string, or a lure goes unflagged. Each kind has one rule:

``phone``
    Parsed by ``phonenumbers`` with Russia as the default region (a number written without
    a country code is taken as Russian, the ``8…`` trunk prefix included) and written in
    E.164: ``+79285551234``. Numbers that ``phonenumbers.is_possible_number`` rejects (too
    short or too long for their country) are refused rather than hashed: a typo stored as a
    watchlist entry would match nothing and look like protection. So are numbers it finds
    possible only for local dialling (no area code): they have no one E.164 form. Letters
    are refused too, so that a handle typed with the wrong kind is not read as a vanity
    number. WhatsApp, Signal and Telegram accounts known by their number are phones.
``telegram``
    Telegram usernames are case-insensitive: lowercased, without a leading ``@`` and without
    a ``t.me/`` (or ``telegram.me/``) link around them. Only letters, digits and ``_``.
``email``
    The whole address, trimmed and lowercased, with the domain in IDNA ASCII form. The local
    part is case-sensitive by the RFC, but the providers people use treat it as
    case-insensitive, and a watchlist must not miss ``Lure@Mail.ru`` because it was written
    ``lure@mail.ru``. Provider tricks (Gmail's dots and ``+tags``) are not undone: they would
    make different people's addresses match on other providers.
``other``
    Anything else (a Signal username, a VK page, a nickname): NFKC, case-folded, runs of
    white space collapsed to one space.

Every error is a ``BadInput`` whose message never repeats the identifier.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal

import phonenumbers

from refugium.errors import BadInput

Kind = Literal["phone", "telegram", "email", "other"]
KINDS: Final[tuple[Kind, ...]] = ("phone", "telegram", "email", "other")
DEFAULT_REGION: Final = "RU"
# Longer than any identifier of these kinds (an e-mail address is at most 254 characters);
# also keeps the phone parser away from megabytes of input.
MAX_LENGTH: Final = 320

_TELEGRAM_PREFIXES = ("https://", "http://", "www.")
_TELEGRAM_HOSTS = ("t.me/", "telegram.me/", "telegram.dog/")
_TELEGRAM_NAME = re.compile(r"[a-z0-9_]{1,64}", re.ASCII)
# What a phone number may be written with: digits of any script, plus, brackets, dots,
# dashes, slashes and spaces. Anything else is not guessed to be a phone.
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]+")
_EMAIL_LOCAL_FORBIDDEN = re.compile(r"[\s@\"<>(),;:\\\[\]]")
_WHITESPACE = re.compile(r"\s+")


def normalise(text: str, kind: Kind) -> str:
    """The canonical form of ``text`` as a contact of ``kind``.

    Idempotent: the canonical form of a canonical form is itself.

    Raises:
        BadInput: an unknown kind, empty or over-long text, or text that is not an
            identifier of that kind (an impossible phone number, a malformed address).
    """
    if kind not in KINDS:
        raise BadInput(f"no kind of contact {kind!r}; kinds: {', '.join(KINDS)}")
    if not isinstance(text, str) or not text.strip():
        raise BadInput(f"an empty {kind} contact")
    if len(text) > MAX_LENGTH:
        raise BadInput(f"a {kind} contact longer than {MAX_LENGTH} characters")
    if kind == "phone":
        return _phone(text)
    if kind == "telegram":
        return _telegram(text)
    if kind == "email":
        return _email(text)
    return _other(text)


def lookup_key(text: str, kind: Kind) -> str:
    """``kind:canonical``, the string the watchlist hashes: the kind is part of it, so a
    Telegram handle and an ``other`` nickname spelled alike stay apart.

    Raises:
        BadInput: as ``normalise``.
    """
    return f"{kind}:{normalise(text, kind)}"


def guess_kind(text: str) -> Kind:
    """The kind ``text`` most likely is, for when a caseworker did not say: telegram when it
    starts with ``@`` or is a t.me link, email when it has an ``@`` inside, phone when it is
    written only with phone characters and is a possible number, otherwise other.

    Raises:
        Nothing: anything that is not recognisably another kind is ``other``.
    """
    stripped = text.strip() if isinstance(text, str) else ""
    lowered = stripped.lower()
    for prefix in _TELEGRAM_PREFIXES:
        lowered = lowered.removeprefix(prefix)
    if stripped.startswith("@") or lowered.startswith(_TELEGRAM_HOSTS):
        return "telegram"
    if "@" in stripped[1:-1]:
        return "email"
    if len(stripped) <= MAX_LENGTH and _PHONE_LIKE.fullmatch(stripped):
        try:
            _phone(stripped)
        except BadInput:
            return "other"
        return "phone"
    return "other"


def _phone(text: str) -> str:
    if any(ch.isalpha() for ch in text):
        raise BadInput("a phone number has no letters; for a handle give another kind")
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise BadInput("not a phone number") from None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise BadInput(
            "not a possible phone number (too short or too long for its country, or without "
            "its area code)"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _telegram(text: str) -> str:
    name = text.strip().lower()
    for prefix in _TELEGRAM_PREFIXES:
        name = name.removeprefix(prefix)
    for host in _TELEGRAM_HOSTS:
        if name.startswith(host):
            name = name.removeprefix(host).split("?", 1)[0].rstrip("/")
            break
    name = name.removeprefix("@")
    if _TELEGRAM_NAME.fullmatch(name) is None:
        raise BadInput("not a Telegram username (letters, digits and _ only)")
    return name


def _email(text: str) -> str:
    address = text.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise BadInput("not an e-mail address (it needs a name, @ and a domain)")
    local = _fold(local)
    if len(local) > 64 or _EMAIL_LOCAL_FORBIDDEN.search(local):
        raise BadInput("not an e-mail address (the part before @ is malformed)")
    domain = _fold(domain).rstrip(".")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise BadInput("not an e-mail address (the domain is malformed)") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(re.fullmatch(r"[a-z0-9-]+", x, re.ASCII) for x in labels):
        raise BadInput("not an e-mail address (the domain is malformed)")
    result = f"{local}@{ascii_domain}"
    if len(result) > 254:
        raise BadInput("not an e-mail address (longer than 254 characters)")
    return result


def _other(text: str) -> str:
    folded = _WHITESPACE.sub(" ", _fold(text)).strip()
    if not folded:
        raise BadInput("an empty other contact")
    return folded


def _fold(text: str) -> str:
    """NFKC and case-folding until neither changes the text: one round is not always a
    fixed point (case-folding can produce a sequence NFKC composes, and back)."""
    for _ in range(4):
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
        if folded == text:
            break
        text = folded
    return text
