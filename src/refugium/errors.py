"""The one root of refugium's errors.

Every error carries a stable ``code`` (for the web layer to map to a translated message and
for scripts to match on) and a message that is safe to show: no secret, no plaintext, no record
content, and where it can, a hint at what to do next. Libraries raise these; the command line
turns them into one line on stderr, the web layer into a page.
"""

from __future__ import annotations


class RefugiumError(Exception):
    """Superclass of all refugium errors. Never raised directly."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class BadInput(RefugiumError):
    """Input from outside (a user, a file, a form) is malformed or out of bounds."""

    code = "bad_input"


class DecryptionFailed(RefugiumError):
    """Wrong key, wrong passphrase, wrong associated data, truncation or tampering.

    One error for all of them on purpose: telling them apart would tell an attacker which
    guess came closer.
    """

    code = "decryption_failed"


class ChainBroken(RefugiumError):
    """A signed hash chain (audit log, custody log) failed verification."""

    code = "chain_broken"

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index


class NotFound(RefugiumError):
    """A named user, desk or object does not exist."""

    code = "not_found"


class Conflict(RefugiumError):
    """The operation would overwrite or contradict existing state."""

    code = "conflict"


class OutOfMemory(RefugiumError):
    """Work that must never spill plaintext to disk did not fit in memory."""

    code = "out_of_memory"
