"""Small helpers for intake tests: decrypting what the desk would read."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User

from refugium.web.accounts import keyring, services
from refugium.web.intake import submissions
from tests import factories

RECEIPT = re.compile(r'<p id="receipt" class="receipt">([^<]+)</p>')


def receipt_of(response: Any) -> str:
    match = RECEIPT.search(response.content.decode())
    assert match is not None, response.content[:500]
    return match.group(1)


def desk_identities() -> list[Any]:
    identity = services.unlock_identity("admin", factories.ADMIN_PASSPHRASE)
    ring = keyring.build(User.objects.get(username="admin"), identity)
    return [k.identity for k in ring.desk_keys("intake")]


def read_message(message: Any) -> dict[str, Any]:
    return submissions.open_json(message.body, desk_identities())  # type: ignore[no-any-return]
