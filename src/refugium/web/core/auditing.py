"""The organisation's audit log, opened from the data folder.

The log-signing key lives in the data folder unencrypted: the server must sign entries for
events no unlocked user is present for. What that means after a seizure is in
docs/threat-model.md (an attacker with the key can forge new entries, not silently rewrite
entries whose chain head an administrator wrote down).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from refugium.audit import AuditLog
from refugium.crypto import SigningKey, VerifyKey


def audit_log() -> AuditLog:
    """Reads the keys at each call: cheap, and always those of the current data folder."""
    data = settings.DATA
    signing_key = SigningKey.from_private_pem(data.log_signing_key.read_bytes())
    verify_key = VerifyKey.from_public_pem(data.log_verify_key.read_bytes())
    return AuditLog(data.audit_log, verify_key, signing_key)


def record(actor: str, action: str, object_type: str = "", object_id: str = "") -> None:
    audit_log().record(actor, action, object_type, object_id)


def record_many(entries: Sequence[tuple[str, str, str, str]]) -> None:
    """``(actor, action, object type, object id)`` entries in one write to the log (see
    ``AuditLog.record_many``)."""
    audit_log().record_many(entries)
