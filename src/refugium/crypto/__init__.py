"""Refugium's cryptographic recipes. No Django imports.

pyrage, argon2-cffi and pyca/cryptography primitives are used only inside this package; the
rest of refugium works with the types exported here.
"""

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
    decrypt_stream,
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
    "entropy_bits",
    "iter_decrypted",
    "needs_rewrap",
    "profile_by_name",
    "unwrap_identity",
    "wrap_identity",
]
