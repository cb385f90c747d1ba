"""A desk's key: one generation of the age identity of a compartment (intake, casework, …).

Files and records of a desk are age files encrypted to its recipient. Its secret is stored
only as age files encrypted to each member and to the organisation's recovery recipient
(``wrap_to``), so a member's own identity unlocks it and the paper recovery key can always
unlock it. Removing a member means a new generation, wrapped to the remaining members only.

Two symmetric keys are derived from the desk secret with HKDF-SHA256, each under its own
label, so that the X25519 secret itself is never used as an AES or HMAC key and the two uses
can never be confused with each other.
"""

from __future__ import annotations

import hashlib
import hmac

from refugium.crypto._hkdf import hkdf_sha256
from refugium.crypto.keys import Identity, Recipient, decrypt, encrypt
from refugium.errors import BadInput, DecryptionFailed

_FIELD_INFO = b"refugium/field/v1"
_KEYED_HASH_INFO = b"refugium/keyed-hash/v1"
_KEY_ID_BYTES = 8


class DeskKey:
    """One generation of a desk's key. It is an age identity.

    ``DeskKey(identity)`` restores a desk key from its identity (for instance from the
    secret string kept in a ``SessionBox``).
    """

    __slots__ = ("_identity", "_key_id")

    def __init__(self, identity: Identity) -> None:
        self._identity = identity
        digest = hashlib.sha256(str(identity.recipient).encode("ascii")).digest()
        self._key_id = digest[:_KEY_ID_BYTES].hex()

    @classmethod
    def generate(cls) -> DeskKey:
        """A new random desk key (a new desk, or a new generation after a member leaves).

        Raises:
            Nothing.
        """
        return cls(Identity.generate())

    @classmethod
    def unwrap(cls, blob: bytes, identity: Identity) -> DeskKey:
        """Open a blob made by ``wrap_to`` with a member's or the recovery identity.

        Raises:
            DecryptionFailed: the blob was not wrapped to this identity, or is damaged.
        """
        plaintext = decrypt(blob, [identity])
        try:
            return cls(Identity.from_secret_string(plaintext.decode("ascii")))
        except (UnicodeDecodeError, BadInput):
            # Authentic age file, but not a desk key: someone wrapped the wrong thing.
            raise DecryptionFailed("The unwrapped data is not a desk key.") from None

    @property
    def recipient(self) -> Recipient:
        """What to encrypt files and records of this desk to."""
        return self._identity.recipient

    @property
    def identity(self) -> Identity:
        """The desk's age identity: decrypts what was encrypted to ``recipient``."""
        return self._identity

    @property
    def key_id(self) -> str:
        """16 hex characters naming this generation (SHA-256 of the recipient string).

        Public: it tags ciphertexts and keyed hashes so the right generation is picked.
        """
        return self._key_id

    def wrap_to(self, recipient: Recipient) -> bytes:
        """The desk secret as an age file for one member or the recovery recipient.

        Its plaintext is the "AGE-SECRET-KEY-1…" line, so ``age -d -i member_key`` prints a
        key that the stock ``age`` tool can use on the desk's files.

        Raises:
            Nothing.
        """
        line = self._identity.to_secret_string() + "\n"
        return encrypt(line.encode("ascii"), [recipient])

    def _field_key(self) -> bytes:
        # Package-internal: the AES-256-GCM key of FieldCipher.
        return hkdf_sha256(self._identity._secret_bytes(), _FIELD_INFO)

    def _keyed_hash_key(self) -> bytes:
        # Package-internal: the HMAC-SHA-256 key of KeyedHasher.
        return hkdf_sha256(self._identity._secret_bytes(), _KEYED_HASH_INFO)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DeskKey) and hmac.compare_digest(
            other._identity._secret_bytes(), self._identity._secret_bytes()
        )

    def __hash__(self) -> int:
        return hash(self._key_id)

    def __repr__(self) -> str:
        return f"<DeskKey {self._key_id} (secret)>"
