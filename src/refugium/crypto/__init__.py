"""Refugium's cryptographic recipes. No Django imports.

pyrage, argon2-cffi and pyca/cryptography primitives are used only inside this package; the
rest of refugium works with the types exported here.

The names below are loaded when first used (``__getattr__``), each from its module: the
whole package costs about 25 ms to import (argon2, the receipt word lists, the HKDF and
signature primitives), and `refugium evidence add` starts its encryption worker first
thing, with no more than the stream and the keys (``refugium.web.evidence.early``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from refugium.crypto.desk import DeskKey
    from refugium.crypto.fields import FieldCipher
    from refugium.crypto.kdf import MAX_SECRET_BYTES, derive_key
    from refugium.crypto.keyed_hash import KeyedHasher
    from refugium.crypto.keys import Identity, Recipient, decrypt, encrypt
    from refugium.crypto.profiles import PRODUCTION, TESTING, Argon2Profile, profile_by_name
    from refugium.crypto.receipt import (
        LANGUAGES,
        MAX_RECEIPT_CHARS,
        WORDS_PER_RECEIPT,
        Receipt,
        ReceiptKeys,
        WordListError,
        entropy_bits,
    )
    from refugium.crypto.session_box import SessionBox
    from refugium.crypto.signing import BadSignature, SigningKey, VerifyKey
    from refugium.crypto.stream import (
        AgeEncryptingWriter,
        DecryptingIterator,
        FileEncryption,
        decrypt_stream,
        encrypt_file,
        iter_decrypted,
    )
    from refugium.crypto.wrap import (
        check_passphrase_policy,
        needs_rewrap,
        unwrap_identity,
        wrap_identity,
    )
    from refugium.errors import BadInput, DecryptionFailed

__all__ = [
    "LANGUAGES",
    "MAX_RECEIPT_CHARS",
    "MAX_SECRET_BYTES",
    "PRODUCTION",
    "TESTING",
    "WORDS_PER_RECEIPT",
    "AgeEncryptingWriter",
    "Argon2Profile",
    "BadInput",
    "BadSignature",
    "DecryptingIterator",
    "DecryptionFailed",
    "DeskKey",
    "FieldCipher",
    "FileEncryption",
    "Identity",
    "KeyedHasher",
    "Receipt",
    "ReceiptKeys",
    "Recipient",
    "SessionBox",
    "SigningKey",
    "VerifyKey",
    "WordListError",
    "check_passphrase_policy",
    "decrypt",
    "decrypt_stream",
    "derive_key",
    "encrypt",
    "encrypt_file",
    "entropy_bits",
    "iter_decrypted",
    "needs_rewrap",
    "profile_by_name",
    "unwrap_identity",
    "wrap_identity",
]

_WHERE = {
    "DeskKey": "refugium.crypto.desk",
    "FieldCipher": "refugium.crypto.fields",
    "MAX_SECRET_BYTES": "refugium.crypto.kdf",
    "derive_key": "refugium.crypto.kdf",
    "KeyedHasher": "refugium.crypto.keyed_hash",
    "Identity": "refugium.crypto.keys",
    "Recipient": "refugium.crypto.keys",
    "decrypt": "refugium.crypto.keys",
    "encrypt": "refugium.crypto.keys",
    "PRODUCTION": "refugium.crypto.profiles",
    "TESTING": "refugium.crypto.profiles",
    "Argon2Profile": "refugium.crypto.profiles",
    "profile_by_name": "refugium.crypto.profiles",
    "LANGUAGES": "refugium.crypto.receipt",
    "MAX_RECEIPT_CHARS": "refugium.crypto.receipt",
    "WORDS_PER_RECEIPT": "refugium.crypto.receipt",
    "Receipt": "refugium.crypto.receipt",
    "ReceiptKeys": "refugium.crypto.receipt",
    "WordListError": "refugium.crypto.receipt",
    "entropy_bits": "refugium.crypto.receipt",
    "SessionBox": "refugium.crypto.session_box",
    "BadSignature": "refugium.crypto.signing",
    "SigningKey": "refugium.crypto.signing",
    "VerifyKey": "refugium.crypto.signing",
    "AgeEncryptingWriter": "refugium.crypto.stream",
    "DecryptingIterator": "refugium.crypto.stream",
    "FileEncryption": "refugium.crypto.stream",
    "decrypt_stream": "refugium.crypto.stream",
    "encrypt_file": "refugium.crypto.stream",
    "iter_decrypted": "refugium.crypto.stream",
    "check_passphrase_policy": "refugium.crypto.wrap",
    "needs_rewrap": "refugium.crypto.wrap",
    "unwrap_identity": "refugium.crypto.wrap",
    "wrap_identity": "refugium.crypto.wrap",
    "BadInput": "refugium.errors",
    "DecryptionFailed": "refugium.errors",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
